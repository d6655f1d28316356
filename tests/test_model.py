"""The model graph: grid, likelihood pieces and priors, without sampling."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import pytest
from conftest import claim as _claim
from scipy import stats

import casualty_models as cm
from casualty_models.model import (
    KIND_CODES,
    EarlyStartWarning,
    Grid,
    anchor_knots,
    build_model,
    prepare,
    t4_logcdf,
)
from casualty_models.model.priors import SoftCappedNormal

START = dt.date(2022, 2, 24)


def test_grid_knots_cover_every_day_and_end_on_last_day():
    grid = Grid(START, dt.date(2022, 3, 11), knot_days=7)
    assert grid.n_days == 16
    assert grid.knots.tolist() == [0, 7, 14, 15]
    left, right, frac = grid.interpolation()
    assert np.all(frac >= 0) and np.all(frac <= 1)
    # knot days reproduce the knot values exactly
    knots = np.array([0.0, 1.0, 3.0, 2.0])
    log_daily = knots[left] * (1 - frac) + knots[right] * frac
    assert log_daily[[0, 7, 14, 15]].tolist() == [0.0, 1.0, 3.0, 2.0]
    assert log_daily[3] == pytest.approx(3 / 7)


def test_grid_cumulative_is_non_decreasing_sum_of_daily_rates():
    grid = Grid(START, START + dt.timedelta(days=29), knot_days=7)
    rng = np.random.default_rng(0)
    knots = rng.normal(size=(3, len(grid.knots)))
    cum = grid.cumulative(knots)
    assert cum.shape == (3, 30)
    assert np.all(np.diff(cum, axis=-1) > 0)


def test_single_day_grid_has_one_knot():
    grid = Grid(START, START, knot_days=7)
    assert grid.knots.tolist() == [0]
    assert grid.cumulative(np.array([[math.log(5.0)]])).tolist() == [[pytest.approx(5.0)]]


def test_t4_logcdf_matches_scipy_including_far_tails():
    z = np.array([-1e4, -300, -50, -5, -1, -0.1, 0, 0.3, 2, 40, 1e3])
    ours = t4_logcdf(z).eval()
    np.testing.assert_allclose(ours, stats.t.logcdf(z, 4), rtol=1e-10, atol=1e-300)


def test_prepare_encodes_kinds_windows_and_speakers(seed_claims):
    inp = prepare(seed_claims, start=START, end=dt.date(2022, 3, 11), priors=cm.Priors())
    assert inp.series == [("russia", "killed"), ("ukraine", "killed")]
    assert inp.speakers[2] == ("Russian Ministry of Defence", "russia")
    assert inp.speakers[3] == ("Russian Ministry of Defence", "ukraine")
    assert inp.speaker_types == ["enemy", "neutral", "own", "enemy"]
    assert inp.claim_kind.tolist() == [KIND_CODES[k] for k in ("point", "range", "point", "point")]
    assert inp.claim_first_day.tolist() == [0, 0, 0, 0]
    assert inp.claim_last_day.tolist() == [15, 15, 6, 6]
    assert inp.claim_log_low[1] == pytest.approx(math.log(2000))
    assert inp.claim_log_high[1] == pytest.approx(math.log(4000))


def test_stated_probability_range_becomes_gaussian_summary():
    claims = cm.ClaimSet([_claim(low=100, high=400, interval_prob=0.95, period_start=START)])
    inp = prepare(claims, start=START, end=dt.date(2022, 3, 10), priors=cm.Priors())
    assert inp.claim_kind.tolist() == [KIND_CODES["point"]]
    assert inp.claim_log_value[0] == pytest.approx(math.log(200))
    assert inp.claim_extra_sigma[0] == pytest.approx(math.log(4) / (2 * 1.959964), rel=1e-5)


def test_claims_off_the_grid_are_an_error_not_dropped():
    claims = cm.ClaimSet([_claim(value=10, as_of=dt.date(2022, 2, 1))])
    with pytest.raises(ValueError, match=r"outside the grid.*claim 1 \(S, as_of 2022-02-01\)"):
        prepare(claims, start=START, end=dt.date(2022, 3, 10), priors=cm.Priors())


def test_window_starting_before_the_grid_is_counted_from_its_start_with_a_warning():
    claims = cm.ClaimSet([_claim(value=10, period_start=dt.date(2022, 1, 1))])
    with pytest.warns(EarlyStartWarning, match="counted from 2022-02-24"):
        inp = prepare(claims, start=START, end=dt.date(2022, 3, 10), priors=cm.Priors())
    assert inp.claim_first_day.tolist() == [0]


def test_per_source_prior_override_and_unknown_key(seed_claims):
    mod = cm.SourcePrior.from_factor(0.1, spread=0.3, noise=0.1)
    pri = cm.Priors(sources={"Russian Ministry of Defence|russia": mod})
    inp = prepare(seed_claims, start=START, end=dt.date(2022, 3, 11), priors=pri)
    assert inp.speaker_priors[2] is mod
    assert inp.speaker_priors[3] == cm.DEFAULT_SOURCE_PRIORS["enemy"]
    with pytest.raises(ValueError, match="matching no claim"):
        prepare(
            seed_claims,
            start=START,
            end=dt.date(2022, 3, 11),
            priors=cm.Priors(sources={"Russian MoD": mod}),
        )


def test_priors_reject_unknown_types_and_bad_values():
    with pytest.raises(ValueError, match="unknown source types"):
        cm.Priors(source_types={"friendly": cm.DEFAULT_SOURCE_PRIORS["own"]})
    with pytest.raises(ValueError, match="bias_sigma"):
        cm.SourcePrior(0.0, -1.0, 0.1)
    with pytest.raises(ValueError, match="knot_days"):
        cm.Priors(knot_days=0)


def test_priors_round_trip_through_dict():
    pri = cm.Priors(level_sigma=1.5).with_source_type("own", bias_sigma=1.2)
    assert cm.Priors.from_dict(pri.to_dict()).for_type("own") == pri.for_type("own")
    assert cm.Priors.from_dict(pri.to_dict()).to_dict() == pri.to_dict()


def test_tally_prior_never_exceeds_one():
    lo, _med, hi = cm.DEFAULT_SOURCE_PRIORS["tally"].factor_interval(0.999)
    assert hi <= 1.0 and lo > 0


def test_soft_capped_prior_is_a_proper_density_with_exact_quantiles():
    from scipy import integrate

    dist = cm.DEFAULT_SOURCE_PRIORS["tally"].log_dist()
    assert isinstance(dist, SoftCappedNormal)
    total, _ = integrate.quad(lambda b: math.exp(dist.logpdf(b)), -np.inf, dist.upper)
    assert total == pytest.approx(1.0, abs=1e-8)
    assert dist.logpdf(dist.upper) == -np.inf and dist.logpdf(0.5) == -np.inf
    # quantiles map through the increasing transform: P(b <= ppf(q)) = q
    for q in (0.05, 0.5, 0.95):
        cdf, _ = integrate.quad(lambda b: math.exp(dist.logpdf(b)), -np.inf, dist.ppf(q))
        assert cdf == pytest.approx(q, abs=1e-7)
    draws = dist.rvs(size=200_000, random_state=np.random.default_rng(0))
    n = draws.size
    assert abs(draws.mean() - dist.mean()) < 4 * dist.std() / math.sqrt(n)
    assert abs(draws.std() / dist.std() - 1) < 4 / math.sqrt(2 * n)
    assert draws.max() < dist.upper
    # close to the normal truncated at the cap that it replaced (docs/model.md)
    lo, med, hi = cm.DEFAULT_SOURCE_PRIORS["tally"].factor_interval()
    assert (lo, med, hi) == pytest.approx((0.18, 0.49, 0.91), abs=0.01)


def test_graph_caps_tally_bias_softly_and_anchors_the_walk(mixed_model):
    """The capped bias in the graph is the prior's transform of its normal, and each
    curve's log rate at its anchor knot is its level, whatever the walk's steps."""
    inp, model = mixed_model
    rng = np.random.default_rng(11)
    point = {
        k: v + rng.normal(scale=1.5, size=np.shape(v)) for k, v in model.initial_point().items()
    }
    outs = model.replace_rvs_by_values([model["bias"], model["log_rate"]])
    bias, log_rate = model.compile_fn(outs, inputs=model.value_vars)(point)
    tally = inp.speaker_priors[2]
    z = point["bias_z_capped"][0]
    assert bias[2] == pytest.approx(
        tally.log_dist().transform(tally.bias_mu + tally.bias_sigma * z)
    )
    assert bias[2] < tally.bias_upper
    level = inp.level_mu + inp.priors.level_sigma * point["level_z"]
    assert log_rate[0, inp.anchor_knot[0]] == pytest.approx(level[0])


def test_anchor_is_the_knot_nearest_each_curves_last_claim():
    grid = Grid(START, dt.date(2022, 6, 30), 7)
    # curve 0: claims up to day 30 (knot 4 at day 28); curve 1: day 120 (the last knot)
    base = np.array([0, 0, 1])
    last = np.array([3, 30, 126])
    assert anchor_knots(grid, base, last, 2).tolist() == [4, len(grid.knots) - 1]


@pytest.fixture(scope="module")
def mixed_model():
    """Point, range, floor and ceiling claims on one series, plus a window claim."""
    claims = cm.ClaimSet(
        [
            _claim(source="P", value=900, period_start=START),
            _claim(source="R", source_type="enemy", low=1000, high=3000, period_start=START),
            _claim(source="F", source_type="tally", low=400, period_start=START),
            _claim(source="C", source_type="own", high=800, period_start=START),
            _claim(
                source="W", value=60, as_of=dt.date(2022, 3, 5), period_start=dt.date(2022, 3, 1)
            ),
        ]
    )
    inp = prepare(claims, start=START, end=dt.date(2022, 3, 10), priors=cm.Priors())
    return inp, build_model(inp)


def test_model_has_expected_variables_and_coords(mixed_model):
    _inp, model = mixed_model
    names = {v.name for v in model.free_RVs}
    assert names == {"level_z", "steps_z", "bias_z", "bias_z_capped", "group_z"}
    # neutral P and W share one offset; the tally has none (its coverage is its own)
    assert list(model.coords["group"]) == ["neutral|a", "enemy|a", "own|a"]
    assert list(model.coords["speaker"]) == ["P|a", "R|a", "F|a", "C|a", "W|a"]
    assert {"log_rate", "bias", "log_count"} <= {v.name for v in model.deterministics}


def test_model_likelihood_matches_hand_computation(mixed_model):
    """log p of each observation equals the Student-t density / censored probability."""
    inp, model = mixed_model
    point = model.initial_point()
    rng = np.random.default_rng(3)
    point = {k: v + rng.normal(scale=0.3, size=np.shape(v)) for k, v in point.items()}
    outs = model.replace_rvs_by_values([model["log_count"], model["bias"], model["log_rate"]])
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")
    log_count, bias, knots = fn(point)
    # window claim: the increase of the curve between its dates, from the numpy mirror
    cum = inp.grid.cumulative(knots)[0]
    # 1 March is day 5 and 5 March day 9: the window counts days 5..9
    assert log_count[4] == pytest.approx(math.log(cum[9] - cum[4]))
    assert log_count[0] == pytest.approx(math.log(cum[14]))

    loc = log_count + bias
    sig = np.array([p.noise_sigma for p in inp.speaker_priors])
    t = stats.t(4)
    expected_point = (
        t.logpdf((np.log(900) - loc[0]) / sig[0])
        - np.log(sig[0])
        + t.logpdf((np.log(60) - loc[4]) / sig[4])
        - np.log(sig[4])
    )
    z = lambda x, i: (np.log(x) - loc[i]) / sig[i]  # noqa: E731
    expected_censored = (
        np.log(t.cdf(z(3000, 1)) - t.cdf(z(1000, 1))) + t.logsf(z(400, 2)) + t.logcdf(z(800, 3))
    )
    logps = model.point_logps(point, round_vals=12)
    assert logps["obs_point"] == pytest.approx(expected_point, abs=1e-6)
    assert logps["obs_censored"] == pytest.approx(expected_censored, abs=1e-6)


def test_fit_rejects_bad_arguments_before_sampling(seed_claims):
    with pytest.raises(TypeError):
        cm.fit(seed_claims, n_draws=10)  # a misspelt keyword is never swallowed
    with pytest.raises(ValueError, match="draws"):
        cm.fit(seed_claims, draws=0)
    with pytest.raises(ValueError, match="target_accept"):
        cm.fit(seed_claims, target_accept=1.2)
    with pytest.raises(TypeError, match="Priors"):
        cm.fit(seed_claims, priors={"own": 1})
    with pytest.raises(ValueError, match="random_seed"):
        cm.fit(seed_claims, random_seed=-1)
    with pytest.raises(ValueError, match="sampler must be one of auto, pymc, nutpie"):
        cm.fit(seed_claims, sampler="stan")
    with pytest.raises(ValueError, match="before start"):
        cm.fit(seed_claims, as_of="2022-01-01")
    no_start = cm.ClaimSet([_claim(value=10)])
    with pytest.raises(ValueError, match="no start date"):
        cm.fit(no_start)


# ------------------------------------------------------- claims as people publish them
def _graph_values(model, names, seed=3, scale=0.3):
    rng = np.random.default_rng(seed)
    point = {
        k: v + rng.normal(scale=scale, size=np.shape(v)) for k, v in model.initial_point().items()
    }
    outs = model.replace_rvs_by_values([model[n] for n in names])
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")
    return point, fn(point)


def test_central_estimate_is_a_two_piece_t_around_its_value():
    survey = _claim(
        source="Survey",
        source_type="independent",
        value=4645,
        low=793,
        high=8498,
        interval_prob=0.95,
        period_start=START,
    )
    claims = cm.ClaimSet([survey, _claim(source="N", value=3000, period_start=START)])
    inp = prepare(claims, start=START, end=dt.date(2022, 3, 10), priors=cm.Priors())
    assert inp.claim_kind[0] == KIND_CODES["central"]
    z = stats.norm.ppf(0.975)
    sd_below, sd_above = np.log(4645 / 793) / z, np.log(8498 / 4645) / z
    assert inp.claim_central_sd[0] == pytest.approx([sd_below, sd_above])
    model = build_model(inp)
    for seed in range(4):
        point, (loc,) = _graph_values(model, ["claim_loc"], seed=seed, scale=1.0)
        noise = inp.claim_noise[0]
        below, above = np.hypot(noise, sd_below), np.hypot(noise, sd_above)
        y = math.log(4645)
        side = below if y > loc[0] else above
        expected = math.log(2 / (below + above)) + stats.t.logpdf((y - loc[0]) / side, 4)
        logp = model.point_logps(point, round_vals=12)["obs_central"]
        assert logp == pytest.approx(expected, abs=1e-6)


def test_central_value_moves_the_likelihood_and_the_interval_sets_its_weight():
    """As a function of the expected log figure: the peak is at the central value, not at
    the interval's geometric mean, and a narrower interval is a sharper peak."""
    import pytensor
    import pytensor.tensor as pt

    from casualty_models.model import central_logp

    def curve(low, high):
        claims = cm.ClaimSet([_claim(value=4645, low=low, high=high, period_start=START)])
        inp = prepare(claims, start=START, end=dt.date(2022, 3, 10), priors=cm.Priors())
        x = pt.dvector("loc")
        f = pytensor.function([x], central_logp(inp, x, np.array([0])))
        grid = np.log(4645) + np.linspace(-2, 2, 801)
        return grid, np.array([f(np.array([g])) for g in grid])

    grid, wide = curve(793, 8498)
    assert grid[np.argmax(wide)] == pytest.approx(math.log(4645), abs=0.01)
    assert abs(grid[np.argmax(wide)] - 0.5 * math.log(793 * 8498)) > 0.5  # not the midpoint
    _, narrow = curve(4000, 5400)
    # the same distance below the peak costs far more under the narrower interval
    at = np.searchsorted(grid, math.log(4645) - 0.5)
    assert narrow.max() - narrow[at] > 3 * (wide.max() - wide[at])


def test_as_of_known_to_the_month_averages_the_count_over_the_month():
    month = _claim(source="M", value=900, as_of="2022-03", period_start=START)
    july = _claim(source="W", value=100, as_of="2022-04", period_start="2022-04")
    exact = _claim(source="N", value=900, period_start=START)
    claims = cm.ClaimSet([month, july, exact])
    inp = prepare(claims, start=START, end=dt.date(2022, 4, 30), priors=cm.Priors())
    grid = inp.grid
    assert inp.claim_last_from[0] == grid.day(dt.date(2022, 3, 1))
    assert inp.claim_last_day[0] == grid.day(dt.date(2022, 3, 31))
    # a window over the whole of April runs from 1 to 30 April, nothing spread
    assert inp.claim_first_day[1] == grid.day(dt.date(2022, 4, 1))
    assert inp.claim_last_from[1] == inp.claim_last_day[1] == grid.day(dt.date(2022, 4, 30))
    model = build_model(inp)
    _, (log_count, knots) = _graph_values(model, ["log_count", "log_rate"])
    cum = grid.cumulative(knots)[0]
    march = slice(grid.day(dt.date(2022, 3, 1)), grid.day(dt.date(2022, 3, 31)) + 1)
    assert log_count[0] == pytest.approx(math.log(cum[march].mean()), rel=1e-9)
    april = cum[grid.day(dt.date(2022, 4, 30))] - cum[grid.day(dt.date(2022, 3, 31))]
    assert log_count[1] == pytest.approx(math.log(april), rel=1e-9)
    assert log_count[2] == pytest.approx(math.log(cum[grid.day(dt.date(2022, 3, 10))]), rel=1e-12)


def test_same_day_figures_of_one_speaker_weigh_as_one_statement():
    a = _claim(
        source="MoD", source_type="enemy", value=900, citation="outlet A", period_start=START
    )
    b = _claim(
        source="MoD", source_type="enemy", value=950, citation="outlet B", period_start=START
    )
    c = _claim(source="N", value=700, period_start=START)
    inp = prepare(cm.ClaimSet([a, b, c]), start=START, end=dt.date(2022, 3, 10), priors=cm.Priors())
    sigma = cm.DEFAULT_SOURCE_PRIORS["enemy"].noise_sigma
    assert inp.claim_noise[:2] == pytest.approx(sigma * math.sqrt(2))
    assert inp.claim_noise[2] == cm.DEFAULT_SOURCE_PRIORS["neutral"].noise_sigma
    assert inp.claim_observed.all()


def test_an_echo_is_shown_but_adds_no_information():
    """A figure derived from another source's: the log density does not change at all,
    so echoes can never narrow the interval."""
    base = [
        _claim(source="General Staff", source_type="enemy", value=9000, period_start=START),
        _claim(source="UK DI", value=3000, as_of=dt.date(2022, 3, 8), period_start=START),
    ]
    echo = _claim(source="UK DI", value=9000, period_start=START, derived_from="General Staff")
    end = dt.date(2022, 3, 10)
    inputs = [
        prepare(cm.ClaimSet(c), start=START, end=end, priors=cm.Priors())
        for c in (base, [*base, echo])
    ]
    assert list(inputs[1].claim_role) == ["claim", "claim", "echo (left out)"]
    assert not inputs[1].claim_used[2]
    models = [build_model(inp) for inp in inputs]
    fns = [m.compile_logp() for m in models]
    rng = np.random.default_rng(4)
    diffs = []
    for _ in range(5):
        point = {
            k: v + rng.normal(scale=0.5, size=np.shape(v))
            for k, v in models[0].initial_point().items()
        }
        diffs.append(fns[1](point) - fns[0](point))
    assert np.max(np.abs(diffs)) < 1e-9


@pytest.mark.mcmc
def test_our_nuts_set_up_draws_exactly_what_pm_sample_would(mixed_model):
    """fit() makes PyMC's "jitter+adapt_full" start itself (to skip PyMC's assignment of
    step methods); with the same seed, the draws must equal pm.sample's own."""
    from casualty_models._backend import pymc
    from casualty_models.estimate import MAX_TREE_DEPTH
    from casualty_models.fitting import Attempt, _pymc_start

    pm = pymc()
    _inp, model = mixed_model
    attempt = Attempt(sampler="pymc", draws=30, tune=30, target_accept=0.9, random_seed=11)
    common = dict(
        model=model,
        draws=30,
        tune=30,
        chains=2,
        cores=1,
        random_seed=11,
        progressbar=False,
        compute_convergence_checks=False,
    )
    with warnings.catch_warnings():
        # PyMC's note on its full-matrix adaptation, which fit() uses on purpose
        warnings.filterwarnings("ignore", "QuadPotentialFullAdapt is an experimental")
        theirs = pm.sample(
            init="jitter+adapt_full", target_accept=0.9, max_treedepth=MAX_TREE_DEPTH, **common
        )
        ours = pm.sample(**_pymc_start(pm, model, attempt, chains=2), **common)
    assert set(ours.posterior) == set(theirs.posterior)
    for name in theirs.posterior:
        np.testing.assert_array_equal(ours.posterior[name], theirs.posterior[name])
    np.testing.assert_array_equal(ours.sample_stats["step_size"], theirs.sample_stats["step_size"])
