"""The numpy log-likelihood of the claims against the compiled PyMC model (no sampling)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings

import numpy as np
import pytest
from conftest import claim as _claim
from scipy import stats

import casualty_models as cm
from casualty_models import loglik
from casualty_models.model import KIND_CODES, build_model, prepare
from casualty_models.model.inputs import FAR_LOG

MODE = "FAST_COMPILE"  # tiny graphs evaluated a few times: skip the C compilation
START = dt.date(2022, 2, 24)
END = dt.date(2022, 5, 31)


def _day(d: int) -> dt.date:
    return START + dt.timedelta(days=d)


def _claims() -> cm.ClaimSet:
    """Every kind of claim the likelihood knows: points (two outlets quoting one
    statement among them), a stated-probability range, a range, a floor, a ceiling, a
    central estimate, a window count, a second category, and a running tally."""
    tally = [
        _claim(
            source="T",
            source_type="enemy",
            value=500.0 + 40 * d + (25 if d == 9 else 0),
            as_of=_day(10 + d),
            period_start=START,
        )
        for d in range(24)
    ]
    return cm.ClaimSet(
        [
            _claim(source="N", value=900, as_of=_day(20), period_start=START),
            _claim(source="N", value=1300, as_of=_day(35), period_start=START),
            _claim(source="O", source_type="own", value=300, as_of=_day(30), period_start=START),
            _claim(
                source="O",
                source_type="own",
                value=320,
                as_of=_day(30),
                period_start=START,
                citation="another outlet",
            ),
            _claim(source="P", low=1000, high=3000, as_of=_day(40), period_start=START),
            _claim(
                source="Q",
                low=800,
                high=2400,
                interval_prob=0.9,
                as_of=_day(45),
                period_start=START,
            ),
            _claim(source="F", source_type="tally", low=400, as_of=_day(50), period_start=START),
            _claim(source="C", source_type="enemy", high=9000, as_of=_day(60), period_start=START),
            _claim(
                source="I",
                source_type="independent",
                value=2500,
                low=900,
                high=7000,
                as_of=_day(70),
                period_start=START,
            ),
            _claim(source="N", value=400, as_of=_day(95), period_start=_day(60)),
            _claim(source="N", category="wounded", value=5000, as_of=_day(75), period_start=START),
            *tally,
        ]
    )


@pytest.fixture(scope="module")
def model_and_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inp = prepare(_claims(), start=START, end=END, priors=cm.Priors())
    return inp, build_model(inp)


def _draws_at(model, inp, points):
    """The model's deterministics at ``points`` as :class:`loglik.Draws`."""
    names = ["claim_loc", "log_count", "log_rate", "log_factor", "rise_noise"]
    outs = model.replace_rvs_by_values([model[n] for n in names])
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore", mode=MODE)
    got = [fn(p) for p in points]
    loc, log_count, log_rate, log_factor, noise = (np.stack(x) for x in zip(*got, strict=True))
    base = np.array(inp.plan.series_base)
    cum = inp.grid.cumulative(log_rate)[:, base, :] * np.exp(log_factor)[..., None]
    return loglik.Draws(
        loc=loc,
        log_count=log_count,
        cumulative=cum,
        series=np.arange(len(inp.series)),
        rise_noise=noise,
        log_rate=log_rate,
        curves=np.arange(len(inp.plan.bases)),
    )


def _points(model, n=4, scale=0.5):
    rng = np.random.default_rng(7)
    start = model.initial_point()
    return [
        {k: v + rng.normal(scale=scale, size=np.shape(v)) for k, v in start.items()}
        for _ in range(n)
    ]


def test_the_claims_cover_every_kind_of_term(model_and_inputs):
    inp, model = model_and_inputs
    kinds = set(inp.claim_kind[inp.claim_observed].tolist())
    assert kinds == set(KIND_CODES.values())
    assert len(inp.increments) == 23 and inp.running == [inp.speakers.index(("T", "a"))]
    assert inp.claim_noise[2] == inp.claim_noise[3] == pytest.approx(np.sqrt(2) * 0.2)
    assert {"obs_point", "obs_censored", "obs_central", "obs_rises"} <= {
        v.name for v in [*model.observed_RVs, *model.potentials]
    }


def test_numpy_loglik_matches_the_models_logp_term_by_term(model_and_inputs):
    """Each observation's log density (point claims one by one, the potentials as
    sums) equals the numpy mirror at several random parameter points."""
    inp, model = model_and_inputs
    points = _points(model)
    draws = _draws_at(model, inp, points)
    ours = loglik.claim_loglik(inp, draws.loc)
    rises = loglik.rise_loglik(inp, draws)
    kind, observed = inp.claim_kind, inp.claim_observed
    point = np.flatnonzero((kind == KIND_CODES["point"]) & observed)
    censored = np.flatnonzero(np.isin(kind, [1, 2, 3]) & observed)
    central = np.flatnonzero((kind == KIND_CODES["central"]) & observed)
    pointwise = model.compile_fn(
        model.logp(vars=[model["obs_point"]], sum=False)[0],
        inputs=model.value_vars,
        on_unused_input="ignore",
        mode=MODE,
    )
    for s, p in enumerate(points):
        np.testing.assert_allclose(ours[s, point], pointwise(p), rtol=1e-9, atol=1e-9)
        terms = model.point_logps(p, round_vals=14, mode=MODE)
        assert ours[s, censored].sum() == pytest.approx(terms["obs_censored"], abs=1e-8)
        assert ours[s, central].sum() == pytest.approx(terms["obs_central"], abs=1e-8)
        assert rises[s].sum() == pytest.approx(terms["obs_rises"], abs=1e-7)
    # claims without a term of their own (the tally's later figures) contribute nothing
    assert np.all(ours[:, ~observed] == 0)
    # and the total is the sum of both
    total = loglik.total_loglik(inp, draws)
    np.testing.assert_allclose(total, ours.sum(axis=1) + rises.sum(axis=1))


def test_censored_terms_one_by_one_against_scipy(model_and_inputs):
    inp, model = model_and_inputs
    draws = _draws_at(model, inp, _points(model, n=2))
    ours = loglik.claim_loglik(inp, draws.loc)
    t = stats.t(4)
    scale = np.sqrt(inp.claim_noise**2 + inp.claim_extra_sigma**2)
    for i in np.flatnonzero(np.isin(inp.claim_kind, [1, 2, 3])):
        # a missing end is e^±100 people, as in the graph
        lo = (max(inp.claim_log_low[i], -FAR_LOG) - draws.loc[:, i]) / scale[i]
        hi = (min(inp.claim_log_high[i], FAR_LOG) - draws.loc[:, i]) / scale[i]
        # from the tail the interval lies in, as scipy's cdf loses digits near 1
        upper = t.logsf(lo) + np.log1p(-np.exp(t.logsf(hi) - t.logsf(lo)))
        lower = t.logcdf(hi) + np.log1p(-np.exp(t.logcdf(lo) - t.logcdf(hi)))
        expected = np.where(lo >= 0, upper, lower)
        np.testing.assert_allclose(ours[:, i], expected, rtol=1e-9)


def test_t4_logcdf_and_logpdf_match_scipy_in_the_far_tails():
    z = np.array([-1e4, -300, -50, -5, -1, -0.1, 0, 0.3, 2, 40, 1e3])
    np.testing.assert_allclose(loglik.t4_logcdf(z), stats.t.logcdf(z, 4), rtol=1e-10)
    np.testing.assert_allclose(loglik.t4_logpdf(z), stats.t.logpdf(z, 4), rtol=1e-12)


def test_loglik_without_a_claim_is_the_models_logp_without_it(model_and_inputs):
    """The log ratio compare() reweights by: the model without a claim, at the same
    curves, biases and drift, minus the model with it, is the numpy data log-likelihood
    of the reduced claims minus that of all of them plus the change of the level prior.
    Checked for an ordinary claim, one of two outlets quoting one statement (the other's
    noise shrinks), a tally's first figure and one in its middle (the rises are read
    afresh), and the last claim of a curve (its anchor knot moves)."""
    inp_full, model_full = model_and_inputs
    claims = _claims()
    tally = [i for i, c in enumerate(claims) if c.source == "T"]
    window = next(i for i, c in enumerate(claims) if c.period_start != START)
    # the full model at one point, compiled once (compiles are this test's time)
    point = _points(model_full, n=1, scale=0.3)[0]
    draws = _draws_at(model_full, inp_full, [point])
    full_logp = model_full.compile_logp(mode=MODE)(point)
    # (claims whose removal leaves every parameter in place, so that one point of the
    # full model is one point of the reduced one)
    for j in (1, 2, tally[0], tally[9], window):
        kept = np.array([i for i in range(len(claims)) if i != j])
        reduced = cm.ClaimSet([claims[int(i)] for i in kept])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inp_red = prepare(reduced, start=START, end=END, priors=cm.Priors())
        assert inp_red.running == [inp_red.speakers.index(("T", "a"))]
        model_red = build_model(inp_red)
        # the same parameters in the reduced model: the level at its own anchor knot
        red_point = {k: v for k, v in point.items() if k in {v.name for v in model_red.value_vars}}
        level = draws.log_rate[0, np.arange(len(inp_red.plan.bases)), inp_red.anchor_knot]
        red_point["level_z"] = (level - inp_red.level_mu) / inp_red.priors.level_sigma
        red_draws = _draws_at(model_red, inp_red, [red_point])
        np.testing.assert_allclose(red_draws.log_rate, draws.log_rate, rtol=1e-10, atol=1e-10)
        mapped = dataclasses.replace(
            draws, loc=draws.loc[:, kept], log_count=draws.log_count[:, kept]
        )
        expected = model_red.compile_logp(mode=MODE)(red_point) - full_logp
        got = (
            loglik.total_loglik(inp_red, mapped)
            - loglik.total_loglik(inp_full, draws)
            + loglik.level_logprior(inp_red, mapped)
            - loglik.level_logprior(inp_full, draws)
        )
        assert got[0] == pytest.approx(expected, abs=1e-6), j
        if j == window:  # the curve's last claim: its level is now set at another knot
            assert inp_red.anchor_knot[0] != inp_full.anchor_knot[0]
