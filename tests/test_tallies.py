"""Running tallies: chains, spikes, coarse sources and the rises' likelihood (no sampling)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import claim as _claim
from scipy import stats

import casualty_models as cm
from casualty_models.model import RISE_T_SCALE, build_model, prepare
from casualty_models.model.tallies import (
    CoarseSourceWarning,
    DecreasingTallyWarning,
    SpikeWarning,
    find_spikes,
)

START = dt.date(2022, 2, 24)
END = dt.date(2022, 6, 30)


def _tally(values, source="D", first_day=0, source_type="enemy"):
    return [
        _claim(
            source=source,
            source_type=source_type,
            value=v,
            as_of=START + dt.timedelta(days=first_day + d),
            period_start=START,
        )
        for d, v in enumerate(values)
    ]


def _prepare(claims, **priors):
    return prepare(cm.ClaimSet(claims), start=START, end=END, priors=cm.Priors(**priors))


# ------------------------------------------------------------------ spikes, pure numpy
def test_find_spikes_finds_jumps_that_are_undone_and_drops_that_recover():
    days = np.arange(12)
    clean = 1000.0 + 100 * days
    assert find_spikes(days, clean, 1.25).size == 0
    typo = clean.copy()
    typo[4] *= 10  # a 10x typo
    assert find_spikes(days, typo, 1.25).tolist() == [4]
    drop = clean.copy()
    drop[7] *= 0.1  # a 90% one-day drop
    assert find_spikes(days, drop, 1.25).tolist() == [7]
    run = clean.copy()
    run[[3, 4]] = [5000.0, 4000.0]  # two wild figures in a row: the worst goes first
    assert find_spikes(days, run, 1.25).tolist() == [3, 4]
    first = clean.copy()
    first[0] = 9000.0  # the first figure above the next two
    assert find_spikes(days, first, 1.25).tolist() == [0]
    last = clean.copy()
    last[-1] *= 10  # the last figure cannot be judged until the next arrives
    assert find_spikes(days, last, 1.25).size == 0


def test_a_figure_that_belongs_months_later_is_a_spike_across_a_long_gap():
    """The reproduction's shape: 39,600 on day 65, 183,700 on day 73, then nothing until
    182,400 on day 303. Against the line between its neighbours it is 4x too high."""
    days = np.array([5, 15, 25, 35, 45, 55, 65, 73, 303, 304, 305])
    values = np.array([3.6, 9.6, 15.6, 21.6, 27.6, 33.6, 39.6, 183.7, 182.4, 183.0, 183.6]) * 1e3
    assert find_spikes(days, values, 1.25).tolist() == [7]


def test_steep_monotone_growth_is_never_a_spike():
    """War's first days: figures triple in a day, but never fall."""
    days = np.arange(8)
    values = np.array([100.0, 1000, 3500, 4300, 5300, 9000, 9166, 11000])
    assert find_spikes(days, values, 1.25).size == 0


# ------------------------------------------------------------------ reading a chain
def test_running_tally_is_its_first_figure_and_its_rises():
    claims = [*_tally([100.0 * (d + 1) for d in range(40)], first_day=20)]
    claims.append(_claim(source="N", value=900, period_start=START))
    pri = cm.Priors()
    inp = _prepare(claims)
    assert inp.running == [0]
    # the drift starts at the knot at or before its first claim (day 20 -> knot 2)
    assert inp.running_first_knot.tolist() == [2]
    assert inp.claim_running.tolist() == [True] * 40 + [False]
    assert inp.claim_observed.tolist() == [True] + [False] * 39 + [True]
    assert list(inp.claim_role) == ["claim"] + ["tally rise"] * 39 + ["claim"]
    inc = inp.increments
    assert len(inc) == 39 and inc.claim.tolist() == list(range(1, 40))
    assert inc.prev_claim.tolist() == list(range(39))
    assert inc.first_day.tolist() == inc.last_day.tolist() == list(range(21, 60))
    assert inc.value == pytest.approx(100.0)
    assert inc.rate_sd == pytest.approx(pri.running_noise)
    assert inc.prev.tolist() == [-1, *range(38)]
    assert inc.rho[0] == 0 and inc.rho[1:] == pytest.approx(math.exp(-1 / pri.running_memory))


def test_rises_log_likelihood_is_heavy_tailed_ar1_with_a_level_floor():
    """The graph's rise term against the formula of docs/model.md, computed here with
    scipy's Student-t at a random parameter point."""
    values = [100.0 * (d + 1) for d in range(30)]
    values[12] += 60  # a rough figure, so that errors are not all alike
    claims = [*_tally(values, first_day=5), _claim(source="N", value=900, period_start=START)]
    inp = _prepare(claims)
    inc, pri = inp.increments, inp.priors
    model = build_model(inp)
    assert "drift_z" in {v.name for v in model.free_RVs}
    assert list(model.coords["running"]) == ["D|a"]
    rng = np.random.default_rng(5)
    point = {
        k: v + rng.normal(scale=0.3, size=np.shape(v)) for k, v in model.initial_point().items()
    }
    names = ["claim_loc", "log_count", "log_rate", "rise_noise"]
    outs = model.replace_rvs_by_values([model[n] for n in names])
    loc, log_count, knots, noise = model.compile_fn(outs, inputs=model.value_vars)(point)
    # the tally's own one-day noise, log-normal about running_noise
    z = point["rise_noise_z"]
    assert noise == pytest.approx(pri.running_noise * np.exp(pri.running_noise_sd * z))
    cum = inp.grid.cumulative(knots)[0]
    rise = cum[inc.last_day] - cum[inc.first_day - 1]
    mean = rise * np.exp((loc - log_count)[inc.claim])  # killed: no category factor
    # the level error of both figures, at the earlier figure as published
    assert inc.level.tolist() == values[:29]
    rate_sd = noise[0] / np.sqrt(inc.last_day - inc.first_day + 1)
    scale = np.sqrt((mean * rate_sd) ** 2 + 2 * (pri.running_level_noise * inc.level) ** 2)
    u = (inc.value - mean) / scale
    root = np.sqrt(1 - inc.rho**2)
    e = (u - inc.rho * u[np.maximum(inc.prev, 0)]) / root
    expected = (stats.t.logpdf(e, 4, scale=RISE_T_SCALE) - np.log(root) - np.log(scale)).sum()
    assert model.point_logps(point, round_vals=12)["obs_rises"] == pytest.approx(expected)
    # the innovations have unit variance: a t4 scaled by sqrt(1/2)
    assert stats.t.var(4, scale=RISE_T_SCALE) == pytest.approx(1.0)


def test_a_fall_is_a_negative_rise_from_the_figure_before():
    values = [100.0 * (d + 1) for d in range(25)]
    values[10] = 950.0  # below day 9's 1,000, but not a spike: day 11 says 1,200
    with pytest.warns(DecreasingTallyWarning, match=r"1,000 on 2022-03-05 -> 950"):
        inc = _prepare(_tally(values)).increments
    k = list(inc.last_day).index(10)
    assert inc.first_day[k] == 10 and inc.value[k] == pytest.approx(-50.0)
    assert inc.value[k + 1] == pytest.approx(250.0) and inc.first_day[k + 1] == 11


def test_a_fall_smaller_than_the_rounding_is_shown_with_its_digits():
    values = [100.0 * (d + 1) + 0.25 for d in range(25)]
    values[10] = 1_000.1  # below day 9's 1,000.25: "1,000 -> 1,000" would hide the fall
    with pytest.warns(DecreasingTallyWarning, match=r"1,000\.25 on 2022-03-05 -> 1,000\.1 on"):
        _prepare(_tally(values))


def test_a_spike_is_left_out_reported_by_row_and_never_a_reference():
    values = [100.0 * (d + 1) for d in range(25)]
    values[10] = 11_000.0  # a 10x typo
    with pytest.warns(SpikeWarning, match=r"<claims>, row 11: 'D' about a killed 11,000"):
        inp = _prepare(_tally(values))
    assert inp.claim_spike.tolist() == [i == 10 for i in range(25)]
    assert not inp.claim_observed[10] and inp.claim_role[10] == "spike (left out)"
    assert not inp.claim_used[10] and inp.claim_used.sum() == 24
    inc = inp.increments
    assert 10 not in inc.claim and 10 not in inc.prev_claim
    # the rise to day 11 is measured from day 9 (1,000 -> 1,200), over two days
    k = list(inc.claim).index(11)
    assert inc.prev_claim[k] == 9 and inc.value[k] == pytest.approx(200.0)
    assert inc.rate_sd[k] == pytest.approx(cm.Priors().running_noise / math.sqrt(2))


def test_a_label_mixing_outlets_is_read_as_separate_claims():
    """Two outlets under one name, one reporting 1.5x the other, interleaved."""
    values = [100.0 * (d + 1) * (1.5 if d % 3 == 1 else 1.0) for d in range(30)]
    with pytest.warns(
        CoarseSourceWarning, match=r"'D' about a killed \(30 dates, <claims>, row 1\)"
    ):
        inp = _prepare(_tally(values))
    assert inp.running == [] and len(inp.increments) == 0
    assert inp.claim_observed.all() and not inp.claim_spike.any()
    assert inp.coarse == (("D", "a", "killed"),)


def test_restated_figures_are_not_evidence_and_say_so():
    claims = _tally([100.0 * (d + 1) for d in range(22)])
    again = cm.Claim(**{**claims[5].__dict__, "reported": dt.date(2022, 7, 1)})
    inp = _prepare([*claims, again])
    # the later publication of day 5 counts; the first is a restatement
    assert inp.claim_restated.tolist() == [i == 5 for i in range(23)]
    assert inp.claim_role[5] == "restatement" and inp.claim_role[22] == "tally rise"


def test_short_chains_and_clean_tallies_raise_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _prepare(_tally([100.0 * (d + 1) for d in range(30)]))
        _prepare(_tally([100.0, 50.0, 300.0]))  # 3 figures: ordinary claims, no tally


def test_spike_factor_is_a_validated_setting():
    with pytest.raises(ValueError, match="spike_factor must be > 1"):
        cm.Priors(spike_factor=1.0)
    values = [100.0 * (d + 1) for d in range(25)]
    values[10] = 1_400.0  # 1.27x the line between 1,000 and 1,200
    with pytest.warns(SpikeWarning):
        _prepare(_tally(values))
    with warnings.catch_warnings(), pytest.warns(DecreasingTallyWarning):
        warnings.simplefilter("error", SpikeWarning)
        inp = _prepare(_tally(values), spike_factor=1.5)
    assert not inp.claim_spike.any()
    assert cm.Priors.from_dict(cm.Priors(spike_factor=1.5).to_dict()).spike_factor == 1.5


# ------------------------------------------------------------- drift in the results
def test_sources_report_a_tallys_bias_on_as_of_with_its_drift():
    from conftest import offline_estimate
    from matplotlib.axes import Axes

    claims = cm.ClaimSet(
        [*_tally([100.0 * (d + 1) for d in range(40)], first_day=20), _claim(value=900)]
    )
    est = offline_estimate(claims, drift=math.log(0.5), start=START)
    src = est.sources().set_index("source")
    # the tally's factor on as_of is its bias (about x1 here) times its drift (x0.5)
    assert src.loc["D", "drift_factor"] == pytest.approx(0.5, rel=0.02)
    assert src.loc["D", "bias_factor"] == pytest.approx(0.5, rel=0.05)
    assert src.loc["S", "drift_factor"] == 1.0
    # its prior on as_of adds the drift's prior: wider than the type's alone
    lo, _, hi = cm.DEFAULT_SOURCE_PRIORS["enemy"].factor_interval()
    assert src.loc["D", "prior_low_90"] < lo and src.loc["D", "prior_high_90"] > hi
    path = est.drift()
    assert list(path.columns) == [
        "source",
        "side",
        "date",
        "median",
        "low_50",
        "high_50",
        "low_90",
        "high_90",
    ]
    knots = est.inputs.grid.knots
    assert len(path) == len(knots) and (path.source == "D").all()
    first = est.inputs.running_first_knot[0]
    assert (path["median"].iloc[: first + 1] == 1.0).all()
    assert path["median"].iloc[-1] == pytest.approx(0.5, rel=0.02)
    ax = est.plot.drift()
    assert isinstance(ax, Axes) and len(ax.get_lines()) == 2  # the drift and the line at 1
    # no running tally: an empty table and axes that say so
    plain = offline_estimate(cm.ClaimSet([_claim(value=900)]), start=START)
    assert plain.drift().empty
    assert "no running tally" in plain.plot.drift().texts[0].get_text()


def test_the_reproductions_spike_is_found_and_never_a_reference():
    """benchmarks/data/running_tally_spike.csv: 183,700 on 2022-05-08, a figure that
    belongs months later, then nothing until 182,400 on 2022-12-24."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "running_tally_spike.csv"
    claims = cm.read_claims(path)
    with pytest.warns(SpikeWarning, match=r"running_tally_spike.csv, row 34: 'Ministry'") as caught:
        inp = prepare(claims, start=START, end=dt.date(2023, 2, 23), priors=cm.Priors())
    assert len(caught) == 1
    (spike,) = np.flatnonzero(inp.claim_spike)
    assert claims[int(spike)].value == 183_700
    inc = inp.increments
    # the next figure's rise starts from 39,600 on 2022-04-30, the figure before the spike
    k = list(inc.claim).index(int(spike) + 1)
    assert inc.level[k] == 39_600 and inc.value[k] == pytest.approx(182_400 - 39_600)


def test_a_tally_follows_one_figure_a_day_and_shows_the_others():
    """Two outlets give different figures for one day of a daily count: the chain follows
    the one nearest its week; the other is shown, not used."""
    values = [100.0 * (d + 1) for d in range(25)]
    claims = _tally(values)
    other = dataclasses.replace(claims[10], value=5_000.0, citation="another outlet")
    inp = _prepare([*claims, other])
    assert inp.claim_role[25] == "same-day alternative (left out)" and not inp.claim_used[25]
    assert inp.claim_role[10] == "tally rise" and inp.claim_used[10]
    k = list(inp.increments.claim).index(11)
    assert inp.increments.prev_claim[k] == 10 and inp.increments.value[k] == pytest.approx(100.0)


def test_compiled_log_density_equals_the_unrewritten_graph_with_several_tallies():
    """PyTensor's rewrites must not change the model: with three running tallies that
    start on different days, the optimised log density, gradient and claim locations
    equal those of the graph as written (FAST_COMPILE), and each tally figure carries
    its own tally's drift on its own day. Written as ``set_subtensor(loc[on], loc[on] +
    a + b)``, PyTensor 2.38's rewrite kept only ``a``: the log density came out 0.4 off
    and nothing else showed it."""
    from pymc.pytensorf import compile as compile_fn

    claims = (
        _tally(1000 + 40 * np.arange(30.0), source="D")
        + _tally(500 + 25 * np.arange(25.0), source="E", first_day=20, source_type="own")
        + _tally(300 + 15 * np.arange(22.0), source="F", first_day=50, source_type="neutral")
        + [_claim(value=4000.0, as_of=END)]
    )
    inp = _prepare(claims)
    assert len(inp.running) == 3
    model = build_model(inp)
    rng = np.random.default_rng(5)
    point = {
        k: v + rng.normal(scale=0.5, size=np.shape(v)) for k, v in model.initial_point().items()
    }
    values = [point[v.name] for v in model.value_vars]
    names = ["bias_drift", "claim_loc", "log_count", "bias"]
    outs = [model.logp(), *model.replace_rvs_by_values([model[n] for n in names])]
    results = {}
    for mode in ("FAST_COMPILE", "FAST_RUN"):
        fn = compile_fn(model.value_vars, outs, mode=mode, on_unused_input="ignore")
        grad = compile_fn(model.value_vars, model.dlogp(), mode=mode)
        results[mode] = [*fn(*values), grad(*values)]
    slow, fast = results["FAST_COMPILE"], results["FAST_RUN"]
    assert float(fast[0]) == pytest.approx(float(slow[0]), rel=1e-12)
    np.testing.assert_allclose(fast[2], slow[2], rtol=1e-12)
    np.testing.assert_allclose(fast[5], slow[5], rtol=1e-9, atol=1e-9)
    drift, loc, log_count, bias = fast[1:5]
    offset = loc - log_count - bias[inp.claim_speaker]
    row = {j: r for r, j in enumerate(inp.running)}
    for i in np.flatnonzero(inp.claim_running):
        r, day = row[int(inp.claim_speaker[i])], int(inp.claim_last_day[i])
        assert offset[i] == pytest.approx(np.interp(day, inp.grid.knots, drift[r]), abs=1e-12)
