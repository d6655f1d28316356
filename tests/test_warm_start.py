"""fit(warm_start=...): an update starts from the previous posterior, and agrees with a
cold fit of the same claims within Monte Carlo error; a longer grid or a new source
starts warm where it can, and only new curves start cold."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import pickle
import warnings

import numpy as np
import pytest

import casualty_models as cm
from casualty_models import WarmStartWarning
from casualty_models._warm import LOW_RANK_BAND, Warm, low_rank


def _update(claims: cm.ClaimSet) -> cm.ClaimSet:
    """One new figure from a speaker already there, inside the grid: same parameters."""
    first = claims[0]
    assert first.value is not None
    new = dataclasses.replace(
        first, as_of=first.as_of - dt.timedelta(days=1), value=round(first.value * 0.9)
    )
    return claims.add(cm.ClaimSet([new]))


@pytest.mark.mcmc
def test_warm_start_matches_a_cold_fit_within_monte_carlo_error(seed_estimate, tmp_path):
    claims = _update(seed_estimate.claims)
    path = tmp_path / "previous.nc"
    seed_estimate.save(path)  # the warm state travels with a saved estimate
    previous = cm.load(path)
    cold = cm.fit(claims, random_seed=5)
    warm = cm.fit(claims, random_seed=6, warm_start=previous)
    assert warm.attempts[0]["warm"] and "warm start" in warm.attempts[0]["reason"]
    assert not cold.attempts[0]["warm"]
    assert cold.diagnostics.converged and warm.diagnostics.converged
    # the warm state alone (what a worker process is sent) starts the same chains
    state = pickle.loads(pickle.dumps(previous.warm_state))
    assert isinstance(state, cm.WarmState) and len(pickle.dumps(state)) < 100_000
    alone = cm.fit(claims, random_seed=6, warm_start=state)
    assert np.array_equal(alone.idata.posterior["log_rate"], warm.idata.posterior["log_rate"])
    # Monte Carlo error of a 5%, 50% or 95% quantile on the log scale, for a roughly
    # normal posterior of sd s there and an ESS of at least 400 in each fit: at most
    # sqrt(0.05 * 0.95 / 400) / phi(1.645) * s = 0.106 s; of the difference between
    # two independent fits, 0.15 s. We allow four times that, 0.6 s: a warm start
    # that moved an interval end by more is wrong, not unlucky (a 1-in-15,000 event
    # per end under the normal approximation).
    a = cold.headline().set_index(["side", "category"])
    b = warm.headline().set_index(["side", "category"])
    for key in a.index:
        s = (math.log(a.loc[key, "high_90"]) - math.log(a.loc[key, "low_90"])) / (2 * 1.645)
        for col in ("low_90", "median", "high_90"):
            diff = abs(math.log(a.loc[key, col]) - math.log(b.loc[key, col]))
            assert diff <= 0.6 * s, (key, col, a.loc[key, col], b.loc[key, col])


@pytest.mark.mcmc
def test_a_new_source_starts_at_its_prior_and_the_rest_warm(seed_estimate):
    """A source the previous fit did not have is a new element of the parameter vector,
    not a new structure: no warning, every other parameter starts where it was."""
    claims = seed_estimate.claims
    newcomer = dataclasses.replace(claims[0], source="A new outlet", value=9000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", WarmStartWarning)
        est = cm.fit(claims.add(cm.ClaimSet([newcomer])), random_seed=2, warm_start=seed_estimate)
    first = est.attempts[0]
    assert first["warm"] and "warm start" in first["reason"]
    assert est.diagnostics.converged
    assert np.isfinite(est.headline()["median"]).all()


def _skeleton(claims, end):
    from casualty_models.model import prepare
    from casualty_models.model.skeleton import skeleton

    start = dt.date(2022, 2, 24)
    return skeleton(prepare(claims, start=start, end=end, priors=cm.Priors()))


def _state(sk, rng):
    n = len(sk.flat_labels())
    return {
        "sampler": "nutpie",
        "labels": sk.flat_labels(),
        "curves": sk.coords["curve"],
        "last": rng.normal(size=(2, n)).tolist(),
        "mean": [0.0] * n,
        "step_size": [0.3, 0.5],
        "cov": (np.eye(n) * 0.25).tolist(),
    }


def _date(label):
    return dt.date.fromisoformat(label.rstrip("]").rpartition("/")[2])


def test_a_longer_grid_carries_every_knot_it_had_and_draws_the_new_ones_from_the_walk(
    seed_claims,
):
    from casualty_models._warm import carry_over

    before = _skeleton(seed_claims, dt.date(2023, 3, 1))
    after = _skeleton(seed_claims, dt.date(2024, 3, 1))  # a year more of the curve
    state = _state(before, np.random.default_rng(1))
    state["cov"] = np.diag(np.linspace(0.1, 0.9, len(state["labels"]))).tolist()
    warm, why = carry_over(after, state, seed=3)
    assert warm is not None and why == ""
    old = {label: k for k, label in enumerate(state["labels"])}
    var = np.diag(np.array(state["cov"]))
    last = np.array(state["last"])
    steps = {}  # curve -> (date, index) of the previous steps
    for k, label in enumerate(state["labels"]):
        if label.startswith("steps_z["):
            steps.setdefault(label.partition("/")[0], []).append((_date(label), k))
    moved = past_end = 0
    for k, label in enumerate(after.flat_labels()):
        if label in old:
            np.testing.assert_array_equal(warm.starts[:, k], last[:, old[label]])
            assert warm.var[k] == var[old[label]]
            continue
        assert label.startswith("steps_z[")
        mine = steps[label.partition("/")[0]]
        day = _date(label)
        if day > mine[-1][0]:  # past the previous grid's end: the walk's prior
            past_end += 1
            assert warm.var[k] == 1.0 and warm.mean[k] == 0.0
        else:  # a knot that moved: the same curve's previous step nearest in date
            moved += 1
            near = min(mine, key=lambda dk: abs((dk[0] - day).days))[1]
            np.testing.assert_array_equal(warm.starts[:, k], last[:, near])
            assert warm.var[k] == var[near]
    # the longer grid places its knots anew: some inside the old span moved, and the
    # ones past its end are new
    assert past_end > 0 and moved > 0
    assert warm.step_size == 0.4
    assert warm.cov is not None and np.allclose(np.diag(warm.cov), warm.var)
    np.linalg.cholesky(warm.cov)  # positive definite, though moved knots share neighbours
    # the same state, the same seed: the same start
    again, _ = carry_over(after, state, seed=3)
    assert again is not None
    np.testing.assert_array_equal(again.starts, warm.starts)


def test_warm_start_is_refused_only_when_the_curves_changed(seed_claims):
    from casualty_models._warm import carry_over

    before = _skeleton(seed_claims, dt.date(2022, 3, 11))
    wounded = dataclasses.replace(seed_claims[0], category="wounded", value=20000)
    after = _skeleton(seed_claims.add(cm.ClaimSet([wounded])), dt.date(2022, 3, 11))
    if after.coords["curve"] == before.coords["curve"]:  # wounded linked to killed
        wounded = dataclasses.replace(seed_claims[0], side="belarus")
        after = _skeleton(seed_claims.add(cm.ClaimSet([wounded])), dt.date(2022, 3, 11))
    warm, why = carry_over(after, _state(before, np.random.default_rng(1)), seed=3)
    assert warm is None and why.startswith("the curves changed (new: ")


def test_warm_start_must_be_an_estimate_or_its_warm_state(seed_claims):
    with pytest.raises(TypeError, match="Estimate or its warm_state, got str"):
        cm.fit(seed_claims, warm_start="previous.nc")


def test_a_damaged_warm_state_says_why_it_cannot_be_used():
    from casualty_models._warm import previous_state

    state, why = previous_state(cm.WarmState('{"labels": [1, 2'))
    assert state is None and why.startswith("the warm state is not valid JSON")
    state, why = previous_state(cm.WarmState("[1, 2]"))
    assert state is None and "older version" in why


def test_low_rank_finds_the_correlations_a_diagonal_mass_matrix_misses():
    """Draws with five parameters correlated at 0.9 among independent ones: the block's
    correlation eigenvalues (4.6 once, 0.1 four times) lie outside the band and are
    kept, sampling noise is not; under the warm map the draws have about unit covariance
    (4,000 draws: each entry within 0.1 of the identity's)."""
    rng = np.random.default_rng(11)
    n, rho = 30, 0.9
    cov = np.eye(n)
    cov[:5, :5] = rho + (1 - rho) * np.eye(5)
    scale = rng.uniform(0.01, 5.0, n)
    draws = rng.multivariate_normal(np.zeros(n), cov, size=4000) * scale + 3.0
    values, vectors = low_rank(draws)
    assert sorted(values.round(1)) == [0.1, 0.1, 0.1, 0.1, 4.6]
    assert np.all(np.abs(np.log(values)) > math.log(LOW_RANK_BAND))
    np.testing.assert_allclose(np.abs(vectors[:, 5:]), 0, atol=0.05)  # on the block
    warm = Warm(draws[:2], 0.1, draws.mean(0), draws.var(0), None, values, vectors)
    y = np.array([warm.to_sampled(d) for d in draws])
    np.testing.assert_allclose(np.cov(y, rowvar=False), np.eye(n), atol=0.1)


def test_too_few_draws_for_their_parameters_give_no_directions():
    values, vectors = low_rank(np.random.default_rng(1).standard_normal((50, 40)))
    assert values.shape == (0,) and vectors.shape == (0, 40)


def test_moved_knots_sharing_a_neighbour_keep_a_positive_definite_mass_matrix():
    """Two new knots nearest the same previous one both take its step; the covariance
    keeps only exact matches' covariances, so it stays positive definite."""
    from types import SimpleNamespace

    from casualty_models._warm import carry_over

    before = [
        "level_z[a]",
        "steps_z[a/2022-01-08]",
        "steps_z[a/2022-01-15]",
        "steps_z[a/2022-01-22]",
    ]
    after = [
        "level_z[a]",
        "steps_z[a/2022-01-09]",
        "steps_z[a/2022-01-10]",
        "steps_z[a/2022-01-20]",
    ]
    n = len(before)
    state = {
        "labels": before,
        "curves": ["a"],
        "last": [[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]],
        "mean": [0.0] * n,
        "step_size": [0.3],
        "cov": (0.5 * np.eye(n) + 0.1).tolist(),
    }
    sk = SimpleNamespace(coords={"curve": ["a"]}, flat_labels=lambda: after)
    warm, why = carry_over(sk, state, seed=1)
    assert warm is not None and why == ""
    np.testing.assert_array_equal(warm.starts[:, 1], warm.starts[:, 2])  # both from 01-08
    np.testing.assert_array_equal(warm.starts[:, 3], [0.4, 0.8])  # 01-20 from 01-22
    np.testing.assert_allclose(warm.var, 0.6)
    np.linalg.cholesky(warm.cov)
