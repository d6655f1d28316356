"""`casualty-models update`, `estimate --compare`, `--fail-if-moved` and `history`, with
fit() replaced by offline estimates (no MCMC): exit codes, files and the history."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from conftest import offline_estimate

import casualty_models as cm
from casualty_models.cli import CHANGE_FILES, EXIT_MOVED, main
from casualty_models.history import COLUMNS, HistoryError, read_history

ROOT = Path(__file__).resolve().parents[1]
SEED_CSV = ROOT / "seeds" / "ukraine_2022-03.csv"
LATER = (
    "Russian Ministry of Defence,own,russia,killed,2022-03-11,,2022-02-24,{value},,,,"
    '"a later statement",,\n'
)


@pytest.fixture
def fake_fit(monkeypatch):
    """fit() -> an offline estimate of the claims, its curves times ``factor["x"]``;
    records the keyword arguments of every call."""
    import casualty_models._backend
    import casualty_models.fitting

    factor = {"x": 1.0, "calls": []}

    def fit(claims, *, draws=1500, tune=1000, chains=2, warm_start=None, **kwargs):
        kwargs.update(draws=draws, tune=tune, chains=chains, warm_start=warm_start)
        factor["calls"].append(kwargs)
        est = offline_estimate(cm.read_claims(claims))
        idata = est.idata.copy()
        idata.posterior["log_rate"] = idata.posterior["log_rate"] + math.log(factor["x"])
        settings = dataclasses.replace(
            est.settings,
            random_seed=kwargs.get("random_seed") or 0,
            draws=kwargs.get("draws", 1500),
        )
        return cm.Estimate(claims=est.claims, settings=settings, idata=idata)

    monkeypatch.setattr(casualty_models._backend, "pymc", lambda: None)
    monkeypatch.setattr(casualty_models.fitting, "fit", fit)
    return factor


@pytest.fixture
def quick_plots(monkeypatch):
    """No plots drawn (a few seconds each): the report's figures are a stub, and the
    plot files are not written. The test of `update` in place draws them all."""
    from casualty_models import report
    from casualty_models.report import figures

    monkeypatch.setattr(figures, "render", lambda kind, *a, **k: figures.Figure(b"", kind))
    monkeypatch.setattr(report, "save_plots", lambda *a, **k: [])


def _claims(tmp_path: Path, *values: int) -> Path:
    """The seed claims plus a later statement of the Russian MoD per value."""
    path = tmp_path / f"claims_{len(values)}.csv"
    text = SEED_CSV.read_text(encoding="utf-8")
    for k, v in enumerate(values):
        text += LATER.format(value=v).replace("a later statement", f"statement {k}")
    path.write_text(text, encoding="utf-8")
    return path


def _estimate(tmp_path: Path, out: Path) -> None:
    assert main(["estimate", str(SEED_CSV), "--out", str(out), "--quiet", "--seed", "7"]) == 0


def test_update_in_place_writes_changes_history_and_keeps_the_previous(tmp_path, fake_fit, capsys):
    out = tmp_path / "out"
    _estimate(tmp_path, out)
    capsys.readouterr()
    fake_fit["x"] = 1.2
    claims = _claims(tmp_path, 600)
    assert main(["update", str(out), str(claims), "--quiet", "--draws", "900"]) == 0
    printed = capsys.readouterr().out
    # the previous run's settings, except those given again
    kwargs = fake_fit["calls"][-1]
    assert kwargs["random_seed"] == 7 and kwargs["draws"] == 900
    previous = cm.load(out / "previous.nc")
    assert kwargs["start"] == previous.settings.start
    assert kwargs["warm_start"].claims == previous.claims  # warm-started from it
    for name in (*CHANGE_FILES, "history.csv", "estimate.nc", "report.html", "estimate.json"):
        assert (out / name).is_file(), name
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert cm.load(out / "previous.nc").claims == cm.read_claims(SEED_CSV)
    changes = json.loads((out / "changes.json").read_text())
    assert changes["previous_estimate"] == "previous.nc" and changes["added"] == 1
    assert [r["change_pct"] for r in changes["headline"]] == pytest.approx([20.0, 20.0])
    assert "What changed since the estimate as of 2022-03-11:" in printed
    for sentence in changes["sentences"]:
        assert sentence in printed
    assert changes["sentences"][0].startswith("russia killed moved from ")
    csv = pd.read_csv(out / "changes.csv")
    assert set(csv["change"]) == {"added", "interactions"}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "What changed since the estimate as of 2022-03-11 (4 claims)" in page
    assert 'alt="The earlier and the new estimate through time' in page  # the plot
    assert page.index('id="changes"') < page.index('id="sources"')


def test_fail_if_moved_exits_5_naming_the_move(tmp_path, fake_fit, quick_plots, capsys):
    out = tmp_path / "out"
    _estimate(tmp_path, out)
    claims = _claims(tmp_path, 600)
    fake_fit["x"] = 1.2
    capsys.readouterr()
    assert main(["update", str(out), str(claims), "--quiet", "--fail-if-moved", "25"]) == 0
    assert main(["update", str(out), str(claims), "--quiet", "--fail-if-moved", "10"]) == 0
    # the second update compared with the first (already ×1.2): it moved by 0%
    fake_fit["x"] = 1.5
    capsys.readouterr()
    assert main(["update", str(out), str(claims), "--quiet", "--fail-if-moved", "10"]) == EXIT_MOVED
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 2 and "russia killed moved by +25.0% (more than 10%)" in lines[0]
    assert "since the estimate as of 2022-03-11" in lines[0]
    assert (out / "changes.json").is_file()  # the outputs were written all the same
    # estimate --compare does the same against any earlier output folder or .nc file
    other = tmp_path / "other"
    args = ["estimate", str(claims), "--out", str(other), "--quiet", "--compare"]
    fake_fit["x"] = 1.0
    assert main([*args, str(out / "previous.nc"), "--fail-if-moved", "5"]) == EXIT_MOVED
    assert not (other / "history.csv").exists() and not (other / "previous.nc").exists()
    data = json.loads((other / "changes.json").read_text())
    # named relative to the folder of changes.json, never by an absolute path
    assert data["previous_estimate"] == "../out/previous.nc"
    assert main([*args, str(other), "--fail-if-moved", "5"]) == 0  # in place, unmoved
    assert (other / "previous.nc").is_file()
    # a plain estimate into that folder removes the comparison it no longer describes
    assert main(["estimate", str(claims), "--out", str(other), "--quiet"]) == 0
    assert not any((other / name).exists() for name in CHANGE_FILES)


def test_a_failed_fit_exits_3_before_5(tmp_path, fake_fit, quick_plots, monkeypatch, capsys):
    out = tmp_path / "out"
    _estimate(tmp_path, out)
    fit = cm.fitting.fit

    def failing(claims, **kwargs):
        est = fit(claims, **kwargs)
        bad = dataclasses.replace(est.diagnostics, divergences=50)
        est.__dict__["diagnostics"] = bad  # the cached property, as a failed run has it
        return est

    monkeypatch.setattr(cm.fitting, "fit", failing)
    fake_fit["x"] = 2.0
    args = ["update", str(out), str(_claims(tmp_path, 600)), "--quiet", "--fail-if-moved", "1"]
    assert main(args) == 3
    err = capsys.readouterr().err
    assert "moved by +100.0%" in err and "divergent" in err
    assert "measured by reweighting only" in err


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "holds no estimate.nc"),
        (lambda p: p / "missing", "previous estimate not found"),
        (
            lambda p: (p / "x.nc").write_text("not netcdf") and p / "x.nc",
            "cannot read the previous",
        ),
    ],
)
def test_update_with_a_bad_previous_folder_writes_nothing(
    tmp_path, fake_fit, capsys, make, message
):
    prev = make(tmp_path)
    assert main(["update", str(prev), str(SEED_CSV), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert message in err and "nothing was written" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists() and fake_fit["calls"] == []


def test_fail_if_moved_needs_a_previous_estimate(tmp_path, capsys):
    args = ["estimate", str(SEED_CSV), "--out", str(tmp_path / "o"), "--fail-if-moved", "5"]
    assert main(args) == 2
    assert "--fail-if-moved needs --compare" in capsys.readouterr().err
    assert main([*args[:-1], "-3"]) == 2
    assert main(["update", str(tmp_path)]) == 2  # no claims


def test_history_across_three_updates(tmp_path, fake_fit, quick_plots, capsys):
    """An estimate, then three updates in place: history.csv has four runs, one row per
    series each, the claim counts and fingerprints of each run, and each run's move;
    `history` plots it."""
    out = tmp_path / "out"
    _estimate(tmp_path, out)
    sets = [_claims(tmp_path, *range(600, 600 + 50 * k, 50)) for k in (1, 2, 3)]
    factors = [1.1, 1.21, 1.21]
    for claims, x in zip(sets, factors, strict=True):
        fake_fit["x"] = x
        assert main(["update", str(out), str(claims), "--quiet"]) == 0
    hist = read_history(out / "history.csv")
    assert list(hist.columns) == list(COLUMNS)
    assert hist["run"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert hist.groupby("run")["n_claims"].first().tolist() == [4, 5, 6, 7]
    fingerprints = hist.groupby("run")["claims_fingerprint"].first().tolist()
    assert fingerprints == [cm.read_claims(p).fingerprint for p in (SEED_CSV, *sets)]
    killed = hist[hist["side"] == "russia"]
    assert math.isnan(killed["change_pct"].iloc[0])
    assert killed["change_pct"].iloc[1:].tolist() == pytest.approx([10.0, 10.0, 0.0])
    assert killed["ok"].all() and (killed["divergences"] == 0).all()
    assert (hist["run_at"].diff().dropna() >= pd.Timedelta(0)).all()
    # an update into another folder carries the history with it
    fake_fit["x"] = 1.0
    elsewhere = tmp_path / "elsewhere"
    assert main(["update", str(out), str(sets[-1]), "--out", str(elsewhere), "--quiet"]) == 0
    assert read_history(elsewhere / "history.csv")["run"].max() == 5
    assert read_history(out / "history.csv")["run"].max() == 4  # the previous folder untouched
    capsys.readouterr()
    assert main(["history", str(out)]) == 0
    printed = capsys.readouterr().out
    assert (out / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "run 4 (7 claims published by 2022-03-11" in printed and "+10%" in printed
    assert main(["history", str(out), "--series", "russia|killed", "--by", "run"]) == 0
    assert main(["history", str(out), "--series", "russia|wounded"]) == 2
    assert main(["history", str(tmp_path)]) == 1
    assert "holds no history.csv" in capsys.readouterr().err
    (out / "history.csv").write_text("a,b\n1,2\n")
    with pytest.raises(HistoryError, match="missing columns"):
        read_history(out / "history.csv")
    assert main(["history", str(out)]) == 1
