"""The bias atlas (issue 28): its data, the atlas model, the historical presets, leave one
event out, and the simulated-atlas recovery check."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from casualty_models.atlas import CELLS, AtlasError, load_atlas
from casualty_models.atlas.data import CUTOFF, early_share
from casualty_models.atlas.model import MU_SD
from casualty_models.atlas.preset import (
    PRESET_NAMES,
    atlas_fingerprint,
    atlas_note,
    derived_priors,
    preset_text,
)
from casualty_models.cli import main
from casualty_models.model.preset_files import preset_about
from casualty_models.model.priors import Priors
from casualty_models.model.priors_file import dump_priors, load_priors_text, preset

ATLAS = Path(__file__).resolve().parents[1] / "seeds" / "bias_atlas"
PRESETS = Path(__file__).resolve().parents[1] / "casualty_models" / "presets"
SMALL = ("dresden_1945", "falklands_1982", "srebrenica_1995")
"""Three events whose 20 scored claims cover all seven cells."""


@pytest.fixture(scope="module")
def atlas():
    return load_atlas(ATLAS)


@pytest.fixture
def small_atlas_dir(tmp_path, atlas):
    """A copy of the atlas holding only :data:`SMALL`."""
    root = tmp_path / "atlas"
    root.mkdir()
    events = pd.read_csv(ATLAS / "events.csv", dtype=str, keep_default_na=False)
    events[events["event"].isin(SMALL)].to_csv(root / "events.csv", index=False)
    later = pd.read_csv(ATLAS / "later_counts.csv", dtype=str, keep_default_na=False)
    later[later["event"].isin(SMALL)].to_csv(root / "later_counts.csv", index=False)
    for event in SMALL:
        shutil.copytree(ATLAS / event, root / event)
    return root


# ------------------------------------------------------------------------ the data


def test_the_atlas_data_validates(atlas):
    # load_atlas checks every claims file, citations, links and later counts
    assert len(atlas.names) >= 10
    assert all(end < CUTOFF for end in atlas.events["end"])
    obs = atlas.observations()
    assert len(obs) == 70  # 79 strong claims less echoes and unscored categories
    assert set(obs["cell"]) == set(CELLS)  # every cell has claims
    assert obs["early"].between(0, 1).all()
    assert np.isfinite(obs["count_log"]).all()
    for event in atlas.names:
        claims = atlas.claims[event]
        assert all(c.citation.strip() and c.url.strip() for c in claims)
    # the weak figures are left out unless asked for
    assert len(atlas.observations(include_weak=True)) > len(obs)


def test_observations_read_the_claims_as_the_readme_says(atlas):
    obs = atlas.observations()
    # an echo (derived_from) is not evidence of its own
    assert "Novosti press agency (Rozental)" not in set(obs["source"])
    # a documented tally's figure is its count: a point, not a floor
    tally = obs[obs["source"] == "UK forces burial count"].iloc[0]
    assert tally["kind"] == "point" and math.isclose(math.exp(tally["log_value"]), 61)
    # "at least 85,000": a floor, judged against the Finnish count
    floor = obs[obs["source"] == "Leningrad Military District HQ"].iloc[0]
    assert floor["kind"] == "floor" and floor["cell"] == "enemy:military"
    # the UK's 74 dead of 25 May 1982: 20 of the war's 73 days still to come
    uk = obs[(obs["source"] == "UK Ministry of Defence") & (obs["category"] == "killed")]
    assert sorted(uk["early"].round(4)) == [0.0, round(20 / 73, 4)]
    # own/enemy split by whose dead are counted; the other kinds are not split
    assert set(obs[obs["source_type"] == "own"]["cell"]) == {"own:military", "own:civilian"}
    assert set(obs[obs["source_type"] == "neutral"]["cell"]) == {"neutral"}


def test_early_share_of_dates_known_to_the_month():
    import datetime as dt

    start, end = dt.date(1994, 4, 7), dt.date(1994, 7, 15)
    # "May 1994": the middle of May, 16 May, with 60 of the event's 99 days to come
    assert early_share(dt.date(1994, 5, 1), "month", start, end) == 60 / 99
    assert early_share(dt.date(1994, 8, 1), "day", start, end) == 0.0
    assert early_share(dt.date(1994, 1, 1), "day", start, end) == 1.0


def test_bad_atlas_data_is_refused_with_every_problem(small_atlas_dir):
    events = small_atlas_dir / "events.csv"
    events.write_text(events.read_text().replace("1995-07-19", "2003-07-19"))
    later = small_atlas_dir / "later_counts.csv"
    text = later.read_text()
    text = text.replace(
        ",20000,18000,25000,named_list,civilian,", ",20000,21000,25000,census,people,"
    )
    later.write_text(text)
    with pytest.raises(AtlasError) as err:
        load_atlas(small_atlas_dir)
    problems = "\n".join(err.value.problems)
    assert "not before 2001-01-01" in problems
    assert "low <= value <= high" in problems
    assert "victims 'people'" in problems
    assert len(err.value.problems) == 3


def test_cli_atlas_check(capsys):
    assert main(["atlas", "check", "--atlas", str(ATLAS)]) == 0
    out = capsys.readouterr().out
    assert re.match(r"OK: 12 events, 79 claims \(70 scored against 19 later counts\)", out)


# --------------------------------------------------------------- the shipped preset


def test_shipped_historical_presets_are_current_and_round_trip():
    for name in PRESET_NAMES:
        text = (PRESETS / f"{name}.yaml").read_text(encoding="utf-8")
        # learned from the atlas as it is now (regenerate: casualty-models atlas fit)
        assert f"Atlas data fingerprint {atlas_fingerprint(ATLAS)}" in " ".join(
            line.lstrip("# ") for line in text.splitlines()
        )
        priors = preset(name)
        assert priors == load_priors_text(text)
        assert load_priors_text(dump_priors(priors)) == priors
        assert preset_about(name, text).summary.startswith(
            "Bias priors learned from the bias atlas"
        )
        # every learned number comes with its derivation in the comments
        assert text.count("# factor = predictive median") == 4
        assert text.count("# Capped at ×1: factor = ") == 1
    note = atlas_note(preset("historical"))
    assert note.startswith("They were learned from the bias atlas: 70 claims about 12")
    assert atlas_note(Priors()) is None


def test_the_report_names_the_atlas_when_historical_priors_were_used(seed_claims):
    import dataclasses

    import casualty_models as cm
    from casualty_models.report.facts import gather
    from tests.conftest import offline_estimate

    est = offline_estimate(seed_claims)
    plain = gather(est, level=0.9, with_figures=False).overview
    assert "bias atlas" not in plain
    for name in PRESET_NAMES:
        settings = dataclasses.replace(est.settings, priors=preset(name))
        hist = cm.Estimate(claims=est.claims, settings=settings, idata=est.idata)
        overview = gather(hist, level=0.9, with_figures=False).overview
        assert "They were learned from the bias atlas: 70 claims about 12 past events" in overview
        assert overview.startswith(plain.split(" Bias priors:")[0])


# ----------------------------------------------------------------- small real fits


@pytest.fixture(scope="module")
def quick_fit(atlas):
    """The whole atlas, short runs (the shipped presets use 2,000 draws)."""
    from casualty_models.atlas.model import fit_atlas

    return fit_atlas(atlas, draws=200, tune=300, random_seed=3)


@pytest.mark.mcmc
def test_a_preset_written_from_a_fit_reads_back_to_the_derived_priors(quick_fit, atlas):
    # the weak figures are left out of the fit by default
    assert set(quick_fit.obs["origin"]) == {"claims"}
    assert quick_fit.settings["include_weak"] is False
    learned = derived_priors(quick_fit)
    for name in PRESET_NAMES:
        text = preset_text(quick_fit, name, atlas=atlas)
        assert load_priors_text(text, origin=f"{name}.yaml") == learned[name]
        assert preset_about(name, text).name == name
    table = quick_fit.cell_rows()
    # the preset's spreads are the predictive's variance split in two, nothing lost
    for cell in ("own:military", "neutral"):
        pred = quick_fit.predictive(cell)
        total = math.hypot(table[cell]["shared"], table[cell]["spread"])
        # Monte Carlo sd of a sd from 400 draws: about 4%; 10% allows for the t tails
        assert total == pytest.approx(float(np.std(pred)), rel=0.1)
    # a tally's prior is capped at x1 and has no group offset, as the main model needs
    tally = learned["historical"].source_types["tally"]
    assert tally.bias_upper == 0.0 and tally.group_sigma == 0.0
    # the learned numbers are the fit's, rounded to two significant digits
    own = learned["historical"].source_types["own"]
    assert math.exp(own.bias_mu) == float(f"{table['own:military']['factor']:.2g}")


@pytest.mark.mcmc
def test_forest_plot_draws_every_scored_claim(quick_fit):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from casualty_models.atlas.plot import forest_plot

    ax = forest_plot(quick_fit)
    assert len(ax.get_yticks()) == len(quick_fit.obs)
    assert ax.get_xscale() == "log"
    plt.close(ax.figure)


@pytest.mark.mcmc
def test_cli_atlas_fit_writes_presets_that_estimate_can_use(tmp_path, capsys):
    out = tmp_path / "presets"
    code = main(
        ["atlas", "fit", "--atlas", str(ATLAS), "--out", str(out), "--draws", "100",
         "--tune", "100", "--quiet"]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "own:military" in text and "early-claim slope" in text
    for name in PRESET_NAMES:
        written = (out / f"{name}.yaml").read_text(encoding="utf-8")
        assert "casualty-models atlas fit --draws 100 --tune 100" in written
        assert f"Atlas data fingerprint {atlas_fingerprint(ATLAS)}" in " ".join(
            line.lstrip("# ") for line in written.splitlines()
        )
        load_priors_text(written)


@pytest.mark.mcmc
def test_leave_one_event_out_runs_on_one_event():
    from casualty_models.atlas.loo import leave_one_event_out, loo_summary

    rows, info = leave_one_event_out(
        ATLAS,
        ["srebrenica_1995"],
        atlas_kwargs={"draws": 100, "tune": 150},
        fit_kwargs={"draws": 100, "tune": 100},
        comparisons={"military": (), "civilian": ("defaults",)},
    )
    # Srebrenica's two later counts (killed, missing), each under two priors
    assert len(rows) == 4
    assert set(rows["priors"]) == {"historical", "defaults"}
    assert (rows["low"] < rows["median"]).all() and (rows["median"] < rows["high"]).all()
    covered = (rows["low"] <= rows["later"]) & (rows["later"] <= rows["high"])
    assert (covered == rows["covered"]).all()
    assert np.allclose(rows["width"], rows["high"] / rows["low"])
    # the atlas was fitted without the event: Srebrenica holds the only claims of the
    # perpetrators about the victims, so that cell had none
    cells = {c["cell"]: c for c in info[0]["cells"]}
    assert cells["enemy:civilian"]["claims"] == 0
    assert cells["neutral"]["events"] == 8  # of the 9 events with neutral claims
    summary = loo_summary(rows).set_index("priors")
    assert summary.loc["historical", "series"] == 2
    assert (
        summary.loc["historical", "covered"]
        == rows[rows["priors"] == "historical"]["covered"].sum()
    )


# ---------------------------------------------------- simulated atlases: recovery


def test_simulated_claims_keep_the_real_cut_points(atlas):
    from casualty_models.atlas.simulate import draw_parameters, simulate

    obs = atlas.observations()
    params = draw_parameters(np.random.default_rng(0))
    sim = simulate(obs, params, seed=0)
    assert len(sim) == len(obs)
    for (_, real), (_, new) in zip(obs.iterrows(), sim.iterrows(), strict=True):
        if real["kind"] == "point":
            assert new["kind"] == "point"
        else:  # the claim says on which side of a real cut point the figure fell
            cuts = {real["log_low"], real["log_high"]} - {math.nan}
            got = {new["log_low"], new["log_high"]}
            assert any(c in got for c in cuts if not math.isnan(c))
    # same seed, same atlas
    assert sim.equals(simulate(obs, params, seed=0))


KNOWN = {
    "mu": {
        "own:military": -0.9,
        "own:civilian": 0.3,
        "enemy:military": 1.0,
        "enemy:civilian": -1.2,
        "neutral": 0.0,
        "independent": 0.2,
        "tally": -0.7,
    },
    "spread": dict.fromkeys(CELLS, 0.25),
    "shared": dict.fromkeys((c for c in CELLS if c != "tally"), 0.25),
    "noise": 0.15,
    "early": -1.0,
}


@pytest.mark.mcmc
def test_the_atlas_model_recovers_known_biases_from_a_simulated_atlas(atlas):
    from casualty_models.atlas.model import fit_atlas
    from casualty_models.atlas.simulate import simulate

    # the real atlas's structure (70 claims, 12 events, the real cut points of its ranges
    # and bounds), figures drawn from the known biases above
    sim = simulate(atlas.observations(), KNOWN, seed=12)
    fit = fit_atlas(sim, draws=200, tune=300, random_seed=12)
    diag = fit.diagnostics()
    assert diag["max_rhat"] < 1.1 and diag["divergences"] == 0
    mu = fit.draws("mu")
    for i, cell in enumerate(CELLS):
        n = int((sim["cell"] == cell).sum())
        lo, med, hi = np.quantile(mu[:, i], [0.005, 0.5, 0.995])
        # every cell's 99% interval holds its truth (with 90% intervals, one of the seven
        # would miss by chance about half the time)
        assert lo <= KNOWN["mu"][cell] <= hi, cell
        if n >= 5:  # a cell with five claims or more is learned, not left at its prior:
            # its median within x1.65 of the truth, its 99% interval at most half the prior's
            assert abs(med - KNOWN["mu"][cell]) < 0.5, cell
            assert hi - lo < 2.576 * MU_SD, cell
    e = fit.early_effect()
    assert e["low_90"] < KNOWN["early"] < e["high_90"]
    noise = np.quantile(fit.draws("noise"), [0.005, 0.995])
    assert noise[0] < KNOWN["noise"] < noise[1]
