"""Diagnostics: sampler checks, the model check and fit()'s continuation (no sampling)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pytest
from conftest import offline_estimate

import casualty_models as cm
from casualty_models.diagnostics import MODEL_CHECK_MAX_SHARE, Diagnostics, ModelCheckWarning
from casualty_models.estimate import FitSettings
from casualty_models.runs import (
    CONTINUE_BUDGET,
    WARM_TUNE,
    Attempt,
    badness,
    next_attempt,
)

START = dt.date(2022, 2, 24)


def _diag(**kw):
    base = dict(
        r_hat_max=1.002,
        ess_bulk_min=900.0,
        ess_tail_min=800.0,
        divergences=0,
        tree_depth_hits=0,
        chains=2,
        draws=1500,
        worst="bias[x]",
        claims_checked=100,
        claims_implausible=3,
        worst_claims=("A 9,000 (a killed, 2022-03-01; f.csv, row 4)",),
    )
    return Diagnostics(**{**base, **kw})


def test_model_check_is_separate_from_convergence():
    good = _diag()
    assert good.converged and good.model_ok and good.ok and not good.problems()
    limit = int(MODEL_CHECK_MAX_SHARE * 100)
    assert _diag(claims_implausible=limit).model_ok
    bad = _diag(claims_implausible=limit + 1)
    assert bad.converged and not bad.model_ok and not bad.ok
    (problem,) = bad.problems()
    assert "11 of 100 claims (11%)" in problem and "f.csv, row 4" in problem
    assert "claims_check()" in bad.remedies()[-1]
    assert ModelCheckWarning is cm.ModelCheckWarning
    # a sampler failure alone leaves the model check standing
    stuck = _diag(r_hat_max=1.2)
    assert not stuck.converged and stuck.model_ok and stuck.sampler_problems()


def test_continuation_asks_for_draws_when_only_ess_is_short():
    settings = FitSettings(start=START, end=START, as_of=START, random_seed=7)
    first = Attempt("nutpie", 1500, 1000, 0.8, 7)
    spent = 1000 + 1500
    nxt, why = next_attempt(first, _diag(ess_bulk_min=300.0), 1, settings, spent, spent)
    assert nxt is not None and not why
    assert nxt.sampler == "nutpie" and nxt.tune == 1000 and nxt.target_accept == 0.8
    assert nxt.draws > 1500 and nxt.random_seed != 7 and nxt.continued_from == 1500
    assert "ESS" in nxt.reason and nxt.ess_before == 300.0
    # a warm run re-tunes briefly (a continuation, or a start from another fit)
    assert nxt.run_tune == WARM_TUNE == dataclasses.replace(first, warm=True).run_tune
    assert first.run_tune == 1000
    # the same inputs give the same continuation: a fit stays repeatable
    assert next_attempt(first, _diag(ess_bulk_min=300.0), 1, settings, spent, spent)[0] == nxt
    # an R-hat of too few draws, chains that agree: continued too
    assert next_attempt(first, _diag(r_hat_max=1.02), 1, settings, spent, spent)[0].warm


def test_continuation_stops_past_its_budget_or_when_ess_does_not_grow():
    settings = FitSettings(start=START, end=START, as_of=START, random_seed=7)
    first = Attempt("pymc", 1000, 500, 0.8, 7)
    spent = 1500
    # the draws asked for fit in CONTINUE_BUDGET first runs: continued
    ok, _ = next_attempt(first, _diag(draws=1000, ess_tail_min=200.0), 1, settings, spent, spent)
    assert ok is not None and WARM_TUNE + ok.new_draws + spent <= CONTINUE_BUDGET * spent
    # an ESS so short the draws would not fit in the budget: stop, saying how many
    far, why = next_attempt(first, _diag(draws=1000, ess_tail_min=60.0), 1, settings, spent, spent)
    assert far is None and "beyond the budget" in why and "draws=" in why
    # a continuation whose ESS did not grow with its draws: stop at once
    stuck, why = next_attempt(
        ok, _diag(draws=ok.draws, ess_tail_min=220.0), 2, settings, 2 * spent, spent
    )
    assert stuck is None and "did not grow" in why


def test_continuation_tunes_longer_then_switches_sampler():
    settings = FitSettings(start=START, end=START, as_of=START, random_seed=7)
    first = Attempt("pymc", 1500, 1000, 0.8, 7)
    second, _ = next_attempt(first, _diag(divergences=4), 1, settings, 2500, 2500)
    assert (second.sampler, second.tune, second.draws) == ("pymc", 2000, 3000)
    assert second.target_accept == 0.95 and "divergent" in second.reason
    # chains settled apart: more draws will not help, whatever the budget
    apart = _diag(r_hat_max=1.02, chains_apart=9.0)
    assert apart.settled_apart and not _diag(r_hat_max=1.02).settled_apart
    third, _ = next_attempt(second, apart, 2, settings, 2500, 2500)
    assert third.sampler == "nutpie" and "sampler nutpie" in third.reason
    assert "settled apart" in third.reason and not third.warm
    assert third.target_accept == 0.95  # never lowered again
    assert len({first.random_seed, second.random_seed, third.random_seed}) == 3


def test_best_run_is_converged_then_fewest_problems():
    ranked = sorted(
        [
            _diag(r_hat_max=1.3),
            _diag(divergences=2),
            _diag(ess_bulk_min=350.0),
            _diag(),
        ],
        key=badness,
    )
    assert ranked[0] == _diag()
    assert ranked[1].ess_bulk_min == 350.0 and ranked[-1].divergences == 2


# ------------------------------------------------------- the model check on an estimate
def _point(source, value, day, **kw):
    return cm.Claim(
        source=source,
        source_type=kw.pop("source_type", "neutral"),
        side="a",
        category="killed",
        as_of=START + dt.timedelta(days=day),
        period_start=START,
        value=value,
        citation="test",
        **kw,
    )


def test_model_check_counts_claims_outside_their_predictive_interval():
    claims = cm.ClaimSet([_point(f"S{k}", 100.0 * (k + 1), 10 + k) for k in range(10)])
    d = offline_estimate(claims).diagnostics
    assert d.claims_checked == 10 and d.claims_implausible == 0 and d.model_ok
    # one claim the model expects at 10x what it says: 1 of 10 is allowed, 2 are not
    shift = np.ones(10)
    shift[3] = 10.0
    one = offline_estimate(claims, loc_shift=shift).diagnostics
    assert one.claims_implausible == 1 and one.model_ok
    shift[7] = 0.1
    two = offline_estimate(claims, loc_shift=shift).diagnostics
    assert two.claims_implausible == 2 and not two.model_ok
    assert two.worst_claims[0].startswith(("S3 400", "S7 800"))
    assert "<claims>, row 4" in " ".join(two.worst_claims)
    # the verdict is part of the JSON the CLI writes
    out = json.loads(offline_estimate(claims, loc_shift=shift).to_json())["diagnostics"]
    assert out["ok"] is False and out["model_ok"] is False and out["converged"] is True
    assert out["claims_implausible"] == 2


def test_model_check_leaves_out_spikes():
    values = [100.0 * (d + 1) for d in range(25)]
    values[10] = 11_000.0
    with pytest.warns(cm.SpikeWarning):
        claims = cm.ClaimSet([_point("T", v, d, source_type="enemy") for d, v in enumerate(values)])
        est = offline_estimate(claims)
        d = est.diagnostics
    assert d.claims_checked == 24
    check = est.claims_check()
    assert check.loc[10, "role"] == "spike (left out)"
    assert check.role.tolist().count("tally rise") == 23


def test_diagnostics_round_trip_with_model_check_fields():
    d = _diag(claims_implausible=12)
    assert Diagnostics(**d.to_dict()) == d
    assert dataclasses.asdict(d)["worst_claims"] == d.worst_claims


def test_tree_depth_hits_count_at_the_runs_own_cap(seed_claims):
    """nutpie runs with a lower cap than PyMC's and records it; hits count at that cap."""
    est = offline_estimate(seed_claims)
    depth = np.full((2, 500), 4)
    depth[0, :3] = 7
    est.idata.sample_stats["tree_depth"] = (("chain", "draw"), depth)
    assert est.diagnostics.tree_depth_hits == 0  # PyMC's cap, 10, when none is recorded
    est.idata.sample_stats.attrs["max_tree_depth"] = 7
    capped = cm.Estimate(claims=est.claims, settings=est.settings, idata=est.idata)
    assert capped.diagnostics.tree_depth_hits == 3


def _ar(rng, phi, chains, draws, n):
    """AR(1) draws (chain, draw, n): phi < 0 anticorrelated, near 1 slowly mixing."""
    x = np.zeros((chains, draws, n))
    e = rng.standard_normal((chains, draws, n))
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x + rng.normal(size=n) * 3


def _convergence_cases():
    rng = np.random.default_rng(0)
    cases = [
        _ar(rng, phi, c, d, 4)
        for phi in (-0.9, -0.5, 0.0, 0.5, 0.9, 0.99)
        for c, d in ((2, 1000), (4, 100), (2, 7), (3, 11), (1, 60))
    ]
    apart = _ar(rng, 0.3, 2, 40, 3)
    apart[1, :, 0] += 5  # chains settled apart
    ties = rng.integers(0, 3, (2, 200, 4)).astype(float)  # discrete draws: tied ranks
    fixed = _ar(rng, 0.5, 2, 100, 3)
    fixed[:, :, 1] = 2.0  # a quantity that never moves
    return [*cases, apart, ties, fixed]


def test_vectorised_rhat_ess_and_mcse_are_arvizs_to_the_last_digits():
    """The fit's checks compute R-hat, bulk and tail ESS and the chains' MCSE of every
    quantity at once (casualty_models._ess); ArviZ computes them one quantity at a time.
    Same numbers (relative 1e-10; they agree to about 1e-13) on AR(1) chains from
    anticorrelated to slowly mixing, short chains, one chain, chains apart, tied and
    fixed draws."""
    import warnings

    import arviz as az

    from casualty_models._ess import convergence, mcse_mean

    for draws in _convergence_cases():
        ds = az.convert_to_dataset({"v": draws})
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore")
            ref = [
                az.rhat(ds)["v"].values,
                az.ess(ds, method="bulk")["v"].values,
                az.ess(ds, method="tail")["v"].values,
                az.mcse(ds, method="mean")["v"].values,
            ]
            ours = [*convergence(draws), mcse_mean(draws)]
        for r, o in zip(ref, ours, strict=True):
            np.testing.assert_allclose(o, r, rtol=1e-10, equal_nan=True, err_msg=str(draws.shape))
