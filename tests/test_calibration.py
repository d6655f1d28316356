"""The calibration simulator copies the model exactly; a small seeded SBC run is sane.

The full study (500 simulations) is ``python -m validation.sbc``; its results are in
docs/trust.md. Here: fast checks of the simulator (no MCMC), one check that simulated
truths reproduce the PyMC graph's own deterministic quantities, and a ten-fit SBC run.
"""

from __future__ import annotations

import inspect
import json
import math
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from casualty_models.fitting import fit
from casualty_models.model import Grid
from casualty_models.model.priors import Priors
from validation.calibration import (
    FitConfig,
    binomial_band,
    config_dict,
    coverage_table,
    first_units,
    misspecification_design,
    read_records,
    run_scenario,
    run_simulation,
    uniformity_table,
)
from validation.outputs import DOCS, TRUST, replace_block, trust_page
from validation.simulate import (
    SBC_LEVEL_MU,
    SBC_TYPES,
    Speaker,
    Truth,
    draw_biases,
    draw_claims,
    draw_design,
    draw_log_rate,
    draw_truth,
    one_sided,
    range_bin,
    simulate,
)

PRIORS = FitConfig().priors()


Z = 4.0
"""Tolerance in standard errors: a 4-SE check fails by chance with probability ~6e-5."""


# ------------------------------------------------------------------ censoring mechanisms
def test_range_bin_always_contains_the_figure():
    rng = np.random.default_rng(0)
    log_y = np.concatenate([rng.uniform(-5, 20, 20_000), np.arange(-3.0, 3.0, 0.2)])
    for y in log_y:
        lo, hi = range_bin(float(y), rng)
        assert lo <= y <= hi
        assert 0.2 <= hi - lo <= 1.0


def test_range_grid_does_not_depend_on_the_figure():
    # coarsening at random: with the same random numbers, two figures fall in bins of the
    # same grid (same width and offset), whatever the figures are
    for seed in range(200):
        lo1, hi1 = range_bin(1.234, np.random.default_rng(seed))
        lo2, hi2 = range_bin(9.876, np.random.default_rng(seed))
        width = hi1 - lo1
        assert hi2 - lo2 == pytest.approx(width)
        steps = (lo2 - lo1) / width
        assert steps == pytest.approx(round(steps), abs=1e-9)


def test_one_sided_reports_the_side_the_figure_is_on():
    assert one_sided(2.0, 1.0) == "floor"
    assert one_sided(1.0, 1.0) == "floor"
    assert one_sided(0.5, 1.0) == "ceiling"


# ----------------------------------------------------------------------- prior draws
def test_bias_draws_have_the_prior_mean_sd_and_group_correlation():
    speakers = [
        Speaker("own1", "A", "own"),
        Speaker("own2", "A", "own"),
        Speaker("neutral1", "A", "neutral"),
        Speaker("tally1", "A", "tally"),
        Speaker("independent1", "A", "independent"),
        Speaker("enemy1", "B", "enemy"),
    ]
    rng = np.random.default_rng(1)
    n = 4000
    draws = np.array([draw_biases(speakers, PRIORS, rng)[0] for _ in range(n)])
    for j, sp in enumerate(speakers):
        dist = PRIORS.for_type(sp.source_type).log_dist()
        mean, sd = float(dist.mean()), float(dist.std())
        # standard error of the mean sd/sqrt(n); of the sd about sd/sqrt(2n)
        assert abs(draws[:, j].mean() - mean) < Z * sd / math.sqrt(n), sp
        assert abs(draws[:, j].std(ddof=1) - sd) < Z * sd / math.sqrt(2 * n), sp
    # two own speakers about one side share the group offset: correlation
    # group_sigma^2 / (group_sigma^2 + bias_sigma^2); its SE is below 1/sqrt(n)
    own = PRIORS.for_type("own")
    rho = own.group_sigma**2 / (own.group_sigma**2 + own.bias_sigma**2)
    assert abs(np.corrcoef(draws[:, 0], draws[:, 1])[0, 1] - rho) < Z / math.sqrt(n)
    # speakers of different types, or about different sides, are independent
    assert abs(np.corrcoef(draws[:, 0], draws[:, 2])[0, 1]) < Z / math.sqrt(n)


def test_capped_tally_biases_never_exceed_the_cap():
    rng = np.random.default_rng(2)
    speakers = [Speaker(f"tally{k}", "A", "tally") for k in range(50)]
    upper = PRIORS.for_type("tally").bias_upper
    assert upper is not None
    draws = np.concatenate([draw_biases(speakers, PRIORS, rng)[0] for _ in range(200)])
    assert draws.max() <= upper
    # and the soft-capped prior's median, not a clipped normal's pile-up at the cap
    assert np.mean(draws > upper - 0.01) < 0.01
    assert np.median(draws) == pytest.approx(PRIORS.for_type("tally").log_dist().median(), abs=0.05)


@pytest.mark.parametrize("anchor", [0, 8, 15])
def test_log_rate_draws_follow_the_random_walk_prior(anchor):
    """The level sits at the anchor knot and the walk runs both ways from it."""
    import datetime as dt

    grid = Grid(dt.date(2020, 1, 1), dt.date(2020, 4, 9), 7)  # 100 days, 16 knots
    rng = np.random.default_rng(3)
    n = 4000
    draws = np.array([draw_log_rate(grid, PRIORS, rng, anchor) for _ in range(n)])
    knots = grid.knots
    var = PRIORS.level_sigma**2 + PRIORS.rate_volatility**2 * np.abs(knots - knots[anchor])
    assert np.all(np.abs(draws.mean(axis=0) - PRIORS.level_mu) < Z * np.sqrt(var / n))
    assert np.all(np.abs(draws.var(axis=0, ddof=1) / var - 1) < Z * math.sqrt(2 / n))
    steps = np.diff(draws, axis=1) / (PRIORS.rate_volatility * np.sqrt(np.diff(grid.knots)))
    assert abs(steps.std() - 1) < Z / math.sqrt(2 * steps.size)
    with pytest.raises(ValueError, match="level_mu"):
        draw_log_rate(grid, Priors(), rng)


# ------------------------------------------------------------------- simulated claims
@pytest.mark.parametrize("seed", range(12))
def test_simulated_claims_agree_with_their_figures(seed):
    sim = simulate([99, seed], PRIORS)
    design = sim.design
    assert 60 <= design.n_days <= 120
    for side in design.sides:
        types = {sp.source_type for sp in design.speakers if sp.side == side}
        assert types == set(SBC_TYPES)
        assert any(
            c.kind == "point" and design.speakers[c.speaker].side == side for c in design.claims
        )
    per_speaker = pd.Series([c.speaker for c in design.claims]).value_counts()
    assert per_speaker.max() < PRIORS.running_min_claims  # no running tallies
    for claim, y, spec in zip(sim.claims, sim.figures, design.claims, strict=True):
        assert y > 0
        assert claim.period_start == design.start + pd.Timedelta(days=spec.first_day)
        if claim.kind == "point":
            assert claim.value == pytest.approx(y, rel=1e-12)
        elif claim.kind == "range":
            assert claim.low is not None and claim.high is not None
            assert claim.low * (1 - 1e-12) <= y <= claim.high * (1 + 1e-12)
        elif claim.kind == "floor":
            assert claim.low is not None and y >= claim.low * (1 - 1e-12)
        else:
            assert claim.high is not None and y < claim.high
    # the figures are true window count x bias x t-noise; noise has the type's scale
    for claim, y, spec in zip(sim.claims, sim.figures, design.claims, strict=True):
        count = sim.truth.window_count(claim.side, claim.category, spec.first_day, spec.last_day)
        noise = math.log(y / count) - sim.truth.bias[spec.speaker]
        assert abs(noise) < 60 * PRIORS.for_type(claim.source_type).noise_sigma


def test_thresholds_and_bins_do_not_look_at_censored_figures():
    # Change the true bias of a speaker whose claims are all censored: its figures move,
    # but no threshold or bin grid may move with them (they depend only on observed point
    # figures and independent random numbers), or the censored likelihood is not exact.
    for seed in range(40):
        rng = np.random.default_rng([5, seed])
        design = draw_design(rng)
        truth = draw_truth(design, PRIORS, rng)
        censored = [
            j
            for j in range(len(design.speakers))
            if all(c.kind != "point" for c in design.claims if c.speaker == j)
        ]
        if censored:
            break
    else:
        pytest.skip("no speaker with only censored claims in 40 designs")
    j = censored[0]
    moved = truth.bias.copy()
    moved[j] += 0.7
    other = Truth(truth.log_rate_knots, truth.cumulative, truth.log_ratio, moved, truth.group)
    a, ya = draw_claims(design, truth, PRIORS, np.random.default_rng(7))
    b, yb = draw_claims(design, other, PRIORS, np.random.default_rng(7))
    for i, spec in enumerate(design.claims):
        if spec.speaker != j:
            assert a[i] == b[i]
            continue
        assert yb[i] == pytest.approx(ya[i] * math.exp(0.7))
        if spec.kind == "one-sided":
            # the same threshold, wherever the figure now falls
            assert (a[i].low or a[i].high) == pytest.approx(b[i].low or b[i].high)
        elif spec.kind == "range":
            lo_a, hi_a, lo_b, hi_b = (
                float(x or 0) for x in (a[i].low, a[i].high, b[i].low, b[i].high)
            )
            width = math.log(hi_a / lo_a)
            assert math.log(hi_b / lo_b) == pytest.approx(width)
            steps = math.log(lo_b / lo_a) / width
            assert steps == pytest.approx(round(steps), abs=1e-9)


def _true_values(sim, inputs) -> dict[str, np.ndarray]:
    """The model's free variables at the simulated truth (non-centred z's)."""
    knots = inputs.grid.knots
    bases = [side for side, _ in inputs.plan.bases]
    step_sd = np.sqrt(np.diff(knots))
    values: dict[str, np.ndarray] = {
        "level_z": np.array(
            [
                (sim.truth.walk_knots[s][k] - SBC_LEVEL_MU) / PRIORS.level_sigma
                for s, k in zip(bases, inputs.anchor_knot, strict=True)
            ]
        ),
        "steps_z": np.array(
            [np.diff(sim.truth.walk_knots[s]) / (PRIORS.rate_volatility * step_sd) for s in bases]
        ),
    }
    st = inputs.stretches
    if len(st):
        # the model lists every curve's stretches in curve order, as the simulator's per side
        lam = np.concatenate([sim.truth.stretch_lambda[s] for s in bases])
        walk = np.array([sim.truth.walk_knots[s] for s in bases])[st.curve]
        right = walk[np.arange(len(st)), st.right]
        left = np.where(st.left < 0, right, walk[np.arange(len(st)), np.maximum(st.left, 0)])
        days = st.last_day(knots) - st.first_day(knots) + 1
        values["stretch_z"] = st.z_of(lam, (left + right) / 2 + np.log(days))
    median, sd = PRIORS.ratios["wounded"]
    values["ratio_z"] = np.array(
        [(sim.truth.log_ratio[side] - math.log(median)) / sd for side, _ in inputs.plan.ratios]
    )
    values["group_z"] = np.array([sim.truth.group[g] for g in inputs.groups])
    keys = [sp.key for sp in sim.design.speakers]
    u, capped = [], []
    for j, (source, side) in enumerate(inputs.speakers):
        p = inputs.speaker_priors[j]
        g = inputs.speaker_group[j]
        shift = p.group_sigma * values["group_z"][g] if g >= 0 else 0.0
        bias = sim.truth.bias[keys.index(f"{source}|{side}")]
        if p.bias_upper is not None:  # back through the soft cap to its normal
            bias = float(p.log_dist()._inverse(bias)[0])
        u.append((bias - p.bias_mu - shift) / p.bias_sigma)
        capped.append(p.bias_upper is not None)
    u_arr, capped_arr = np.array(u), np.array(capped)
    values["bias_z"] = u_arr[~capped_arr]
    values["bias_z_capped"] = u_arr[capped_arr]
    if inputs.running:
        keyed = {sp.key: j for j, sp in enumerate(sim.design.speakers)}
        values["rise_noise_z"] = np.array(
            [
                np.log(
                    sim.truth.rise_noise[keyed["|".join(inputs.speakers[j])]] / PRIORS.running_noise
                )
                / PRIORS.running_noise_sd
                for j in inputs.running
            ]
        )
        # steps before the tally's first knot are masked to 0 in the graph: any z will do
        values["drift_z"] = np.array(
            [np.diff(sim.truth.drift[j]) / (PRIORS.bias_drift * step_sd) for j in inputs.running]
        )
    return {k: v for k, v in values.items() if v.size}


def _graph_at_truth(sim, inputs, names):
    import pytensor
    import pytensor.tensor as pt

    from casualty_models.model import build_model

    model = build_model(inputs)
    values = _true_values(sim, inputs)
    replace = {model[name]: pt.constant(v.astype("float64")) for name, v in values.items()}
    outputs = pytensor.graph.replace.graph_replace([model[n] for n in names], replace, strict=False)
    return pytensor.function([], outputs)()


def test_simulated_truth_reproduces_the_model_graph():
    """Plug the simulated truth into the PyMC graph: its counts and biases must match."""
    from casualty_models._backend import pymc
    from casualty_models.model import prepare

    pymc()
    sim = simulate([3, 1], PRIORS, p_two_sides=1.0, p_casualties=1.0)
    design = sim.design
    inputs = prepare(sim.claims, start=design.start, end=design.end, priors=PRIORS)
    assert np.array_equal(inputs.grid.knots, design.grid(PRIORS).knots)
    log_count, bias = _graph_at_truth(sim, inputs, ["log_count", "bias"])

    expected = [
        math.log(sim.truth.window_count(c.side, c.category, s.first_day, s.last_day))
        for c, s in zip(sim.claims, design.claims, strict=True)
    ]
    assert np.allclose(log_count, expected, rtol=0, atol=1e-9)
    keys = [sp.key for sp in design.speakers]
    want = [sim.truth.bias[keys.index(f"{src}|{side}")] for src, side in inputs.speakers]
    assert np.allclose(bias, want, rtol=0, atol=1e-12)
    assert any(c.category == "casualties" for c in sim.claims)


@pytest.mark.parametrize("seed", range(3))
def test_simulated_late_claims_reproduce_the_model_graph(seed):
    """Claims only at the end of a long window: the model's stretches (a head, gaps)
    are the simulator's, and the truth plugged into the graph gives its counts."""
    from casualty_models._backend import pymc
    from casualty_models.model import prepare

    pymc()
    sim = simulate([7, seed], PRIORS, n_days=(1500, 3000), late=0.9, p_window=0.5)
    design = sim.design
    inputs = prepare(sim.claims, start=design.start, end=design.end, priors=PRIORS)
    assert np.array_equal(inputs.grid.knots, design.grid(PRIORS).knots)
    st = inputs.stretches
    assert (st.left < 0).sum() == len(design.sides)  # every side's curve has a head
    # a head keeps few knots (gaps double going back), not one per lattice step
    first = min(inputs.grid.looked)
    spacing = inputs.grid.knot_days
    head_knots = (inputs.grid.knots < first - 2 * spacing).sum()
    assert head_knots <= math.log2(first / spacing) + 1 < first / spacing / 4
    (log_count,) = _graph_at_truth(sim, inputs, ["log_count"])
    expected = [
        math.log(sim.truth.window_count(c.side, c.category, s.first_day, s.last_day))
        for c, s in zip(sim.claims, design.claims, strict=True)
    ]
    assert np.allclose(log_count, expected, rtol=0, atol=1e-9)


@pytest.mark.filterwarnings("ignore::casualty_models.DecreasingTallyWarning")
def test_simulated_running_tally_reproduces_the_model_graph():
    """A simulated running tally is one in the model, with the drift the graph computes."""
    from casualty_models._backend import pymc
    from casualty_models.model import prepare

    pymc()
    sim = simulate([5, 2], PRIORS, p_two_sides=1.0, running_figures=(20, 30))
    design = sim.design
    inputs = prepare(sim.claims, start=design.start, end=design.end, priors=PRIORS)
    keys = [f"{src}|{side}" for src, side in inputs.speakers]
    running = sorted(keys.index(design.speakers[j].key) for j in sim.truth.drift)
    assert len(running) == 2 and inputs.running == running
    knots = inputs.grid.knots
    for j, drift in sim.truth.drift.items():
        k = inputs.running_first_knot[inputs.running.index(keys.index(design.speakers[j].key))]
        assert np.all(drift[: k + 1] == 0) and np.all(drift[k + 1 :] != 0)
    (loc,) = _graph_at_truth(sim, inputs, ["claim_loc"])
    expected = [
        math.log(sim.truth.window_count(c.side, c.category, s.first_day, s.last_day))
        + sim.truth.log_bias(s.speaker, s.last_day, knots)
        for c, s in zip(sim.claims, design.claims, strict=True)
    ]
    assert np.allclose(loc, expected, rtol=0, atol=1e-9)


def _expected_figure(sim, i, first, last, knots):
    """Claim ``i``'s speaker's figure without noise for days first..last: true count x
    bias x drift on the last day."""
    c, spec = sim.claims[int(i)], sim.design.claims[int(i)]
    count = sim.truth.window_count(c.side, c.category, first, last)
    return count * math.exp(sim.truth.log_bias(spec.speaker, last, knots))


@pytest.mark.filterwarnings("ignore::casualty_models.DecreasingTallyWarning")
def test_simulated_running_tally_rises_have_the_model_errors():
    """Standardised by the model's own scale and AR(1) rho, the simulated rises' errors
    are independent unit-variance Student-t(4) draws (pooled over 60 data sets, ~2,900
    rises): mean 0, variance 1, no lag-1 correlation, and the t4's heavy tails."""
    from casualty_models.model import prepare, rise_scale

    innovations, lagged = [], []
    for seed in range(60):
        sim = simulate([7, seed], PRIORS, p_two_sides=1.0, running_figures=(20, 30))
        design = sim.design
        inputs = prepare(sim.claims, start=design.start, end=design.end, priors=PRIORS)
        inc = inputs.increments
        knots = inputs.grid.knots

        mean = np.array(
            [
                _expected_figure(sim, i, f, la, knots)
                for i, f, la in zip(inc.claim, inc.first_day, inc.last_day, strict=True)
            ]
        )
        noise = np.array([sim.truth.rise_noise[design.claims[int(i)].speaker] for i in inc.claim])
        days = inc.last_day - inc.first_day + 1
        scale = rise_scale(mean, inc.level, noise / np.sqrt(days), PRIORS.running_level_noise)
        u = (inc.value - mean) / scale
        e = (u - inc.rho * u[np.maximum(inc.prev, 0)]) / np.sqrt(1 - inc.rho**2)
        innovations.extend(e)
        has_prev = inc.prev >= 0
        lagged.extend(zip(e[has_prev], e[inc.prev[has_prev]], strict=True))
    e = np.array(innovations)
    n = len(e)
    assert n > 2_000
    # a unit-variance t4 has an infinite fourth moment: test the variance against a
    # robust spread and the tails by a quantile, each with its sampling error
    assert abs(e.mean()) < Z / math.sqrt(n)
    t4 = stats.t(4, scale=math.sqrt(0.5))
    iqr = np.subtract(*np.quantile(e, [0.75, 0.25]))
    assert iqr == pytest.approx(np.subtract(*t4.ppf([0.75, 0.25])), rel=Z * 1.2 / math.sqrt(n))
    beyond = np.mean(np.abs(e) > t4.ppf(0.99))
    assert abs(beyond - 0.02) < Z * math.sqrt(0.02 * 0.98 / n)
    pairs = np.array(lagged)
    assert abs(np.corrcoef(pairs.T)[0, 1]) < Z / math.sqrt(len(pairs))


def test_misspecification_design_is_valid():
    design = misspecification_design()
    sim = simulate([1, 0], PRIORS, design=design, bias_override={0: math.log(0.1)})
    assert sim.truth.bias[0] == pytest.approx(math.log(0.1))
    assert len(sim.claims) == 15


# ------------------------------------------------------------------------- summaries
def _units(n_sims: int, rng: np.random.Generator, members: int = 3) -> pd.DataFrame:
    rows = []
    for i in range(n_sims):
        for m in range(members):
            rows.append(
                {
                    "index": i,
                    "divergences": i % 2,
                    "quantity": "bias[neutral]",
                    "label": f"n{m}",
                    "rank": int(rng.integers(0, 101)),
                    "n_rank_draws": 100,
                    "cover_50": bool(rng.random() < 0.5),
                    "cover_90": bool(rng.random() < 0.9),
                }
            )
    return pd.DataFrame(rows)


def test_summaries_of_calibrated_ranks():
    units = _units(400, np.random.default_rng(4))
    cov = coverage_table(units)
    assert list(cov.columns) == ["quantity", "level", "coverage", "n_sims", "divergences"]
    assert set(cov["n_sims"]) == {400}
    assert set(cov["divergences"]) == {200}
    for level, c in zip(cov["level"], cov["coverage"], strict=True):
        lo, hi = binomial_band(level, 400)
        assert lo <= c <= hi
    assert len(first_units(units)) == 400
    uni = uniformity_table(units).iloc[0]
    assert uni["df"] == 19 and float(uni["p_value"]) > 1e-4
    # ranks piled in the middle (an overdispersed posterior) fail the test
    units["rank"] = 50
    assert float(uniformity_table(units).iloc[0]["p_value"]) < 1e-10


def test_study_summaries_are_written_under_the_study_prefix(tmp_path):
    """validation.sbc --running writes sbc_running_* files and its own trust-page block."""
    from validation.sbc import summarize

    units = _units(60, np.random.default_rng(5), members=1)
    units["ess_bulk"] = 300.0
    records = [
        {
            "index": int(i),
            "base_seed": 1,
            "config": {"draws": 10},
            "divergences": 0,
            "ess_bulk_min": 300.0,
            "ess_tail_min": 200.0,
            "r_hat_max": 1.0,
            "seconds": 1.0,
            "units": g.drop(columns=["index", "divergences"])
            .assign(quantity="bias[running]")
            .to_dict(orient="records"),
        }
        for i, g in units.groupby("index")
    ]
    trust = tmp_path / "trust.md"
    trust.write_text("x\n<!-- sbc:start -->\nold\n<!-- sbc:end -->\ny\n")
    table = summarize(records, tmp_path, wall=12.0, trust=trust, prefix="sbc_running")
    assert "bias[running]" in table
    for name in ("coverage.csv", "uniformity.csv", "ranks.png", "coverage.png", "run.json"):
        assert (tmp_path / f"sbc_running_{name}").exists()
        assert not (tmp_path / f"sbc_{name}").exists()
    text = trust.read_text()
    assert "<!-- sbc:start -->\nold\n<!-- sbc:end -->" in text  # the main study untouched
    block = text.split("<!-- sbc-running:start -->")[1].split("<!-- sbc-running:end -->")[0]
    assert "| `bias[running]` | 90% |" in block


def test_only_a_study_writing_into_docs_validation_updates_the_trust_page(tmp_path):
    """A trial run elsewhere once overwrote docs/trust.md's 500-fit table with 2 fits."""
    assert trust_page(DOCS / "validation", None, no_trust=False) == TRUST
    assert trust_page(tmp_path, None, no_trust=False) is None
    assert trust_page(tmp_path, tmp_path / "t.md", no_trust=False) == tmp_path / "t.md"
    assert trust_page(DOCS / "validation", None, no_trust=True) is None


def test_binomial_band_matches_the_brief():
    lo, hi = binomial_band(0.9, 500)
    assert 0.86 < lo < 0.87 and 0.93 < hi < 0.94
    lo, hi = binomial_band(0.5, 500)
    assert 0.44 <= lo < 0.45 and 0.55 < hi <= 0.56


def test_replace_block(tmp_path):
    doc = tmp_path / "trust.md"
    doc.write_text("# Trust\n\ntext\n")
    replace_block(doc, "sbc", "| a |\n")
    replace_block(doc, "sbc", "| b |\n")
    text = doc.read_text()
    assert text.count("<!-- sbc:start -->") == 1 and "| b |" in text and "| a |" not in text
    assert text.startswith("# Trust\n\ntext\n")


def test_a_study_at_fit_defaults_resumes_only_its_own_records(tmp_path):
    """``sbc --fit-defaults`` fits as a user's ``fit()`` does, and its raw lines are never
    mixed with the fixed-settings study's when a run resumes."""
    at_defaults = FitConfig.of_fit()
    params = inspect.signature(fit).parameters
    for name in ("draws", "tune", "chains", "target_accept", "sampler", "max_attempts"):
        assert getattr(at_defaults, name) == params[name].default, name
    raw = tmp_path / "sbc_raw.jsonl"
    lines = [
        {"index": i, "config": config_dict(c)} for i, c in enumerate((FitConfig(), at_defaults))
    ]
    raw.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert [r["index"] for r in read_records(raw, at_defaults)] == [1]
    assert [r["index"] for r in read_records(raw, FitConfig())] == [0]
    on_nutpie = FitConfig.of_fit(sampler="nutpie")
    assert on_nutpie.sampler == "nutpie" and on_nutpie.draws == at_defaults.draws
    assert read_records(raw, on_nutpie) == []


# ---------------------------------------------------------------------------- MCMC
SMALL = FitConfig(
    draws=150,
    tune=200,
    design=(
        ("n_days", (60, 75)),
        ("per_type", (1, 1)),
        ("claims_per_speaker", (2, 3)),
        ("p_two_sides", 0.0),
    ),
)


@pytest.mark.mcmc
def test_small_sbc_run_is_not_absurd():
    """Ten seeded simulations from the prior, fitted with short chains.

    If the model is calibrated, whether a simulation's 90% interval covers its truth is
    a Bernoulli(0.9) draw, independent across simulations (each has its own prior draw).
    With 10 simulations P(at most 5 covered) = P(Binomial(10, 0.9) <= 5) = 0.0016, so
    "at least 6 of 10 covered" fails a calibrated model by chance about once in 600
    seeds, while a model whose 90% intervals really covered only 50% would fail it with
    probability P(Binomial(10, 0.5) <= 5) = 0.62. The same bound holds for the
    first-listed speaker's bias (one per simulation, chosen before seeing data). For the
    50% intervals, "between 1 and 9 of 10" fails a calibrated model with probability
    2 * 0.5^10 = 0.002.
    """
    n = 10
    with ProcessPoolExecutor(max_workers=2) as pool:
        records = list(pool.map(run_simulation, range(n), [7] * n, [SMALL] * n))
    assert not [r["error"] for r in records if "error" in r]
    units = pd.DataFrame([{"index": r["index"], **u} for r in records for u in r["units"]])
    assert units["rank"].between(0, units["n_rank_draws"]).all()
    count = units[units["quantity"] == "count"]
    assert len(count) == n
    assert count["cover_90"].sum() >= 6
    assert 1 <= count["cover_50"].sum() <= 9
    first_bias = units[units["quantity"].str.startswith("bias")].groupby("index").head(1)
    assert len(first_bias) == n
    assert first_bias["cover_90"].sum() >= 6
    # a 90% interval contains the 50% one, so it covers whenever the 50% one does
    assert (units["cover_90"] | ~units["cover_50"]).all()
    # a calibrated model does not produce many divergences on its own prior
    assert sum(r["divergences"] for r in records) <= 10


@pytest.mark.mcmc
def test_small_misspecification_run_moves_the_estimate_the_way_the_error_points():
    """Six data sets fitted twice: as drawn, and with both neutral sources inflated ×1.5.

    Common random numbers make the pair identical except for the neutrals' figures, so
    the second posterior median of the count must move up, and by at most the injected
    ×1.5 (the other sources did not move): the full 50-data-set study found ×1.34. Short
    chains add Monte Carlo noise of a few percent to each median, hence the margins:
    at least 5 of 6 pairs up, and a median shift between ×1.05 and ×1.6.
    """
    n, scenarios = 6, ["well specified", "all neutrals x1.5"]
    jobs = [(s, i) for s in scenarios for i in range(n)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        records = list(
            pool.map(run_scenario, *zip(*jobs, strict=True), [7] * len(jobs), [SMALL] * len(jobs))
        )
    assert not [r["error"] for r in records if "error" in r]
    median = {
        (r["scenario"], r["index"]): u["post_median"]
        for r in records
        for u in r["units"]
        if u["quantity"] == "count"
    }
    shift = np.array([median[(scenarios[1], i)] - median[(scenarios[0], i)] for i in range(n)])
    assert (shift > 0).sum() >= 5, np.exp(shift)
    assert 1.05 < math.exp(np.median(shift)) < 1.6, np.exp(shift)
