"""The `casualty-models` command, run in-process through main() (one console-script smoke test)."""

from __future__ import annotations

import dataclasses
import html
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

import casualty_models as cm
from casualty_models import report, trust
from casualty_models.cli import TRUST_FILES, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
SEED_CSV = ROOT / "seeds" / "ukraine_2022-03.csv"
OUTPUTS = (
    "estimate.json",
    "summary.csv",
    "panels.png",
    "claims.png",
    "timeline.png",
    "sources.png",
    "report.html",
    "estimate.nc",
)

HEADER = "source,source_type,side,category,as_of,value,low,high\n"
TRUST_HEADING = "<h2>How far to trust the answer</h2>"


# ------------------------------------------------------------------------------ validate


def test_validate_ok(capsys):
    assert main(["validate", str(SEED_CSV)]) == 0
    out, err = capsys.readouterr()
    fingerprint = cm.read_claims(SEED_CSV).fingerprint
    assert out == f"OK: 4 claims, 2 series, 4 speakers (fingerprint {fingerprint[:8]}…)\n"
    assert err == ""


def test_validate_notes_same_day_figures_and_a_missing_start(tmp_path, capsys):
    path = tmp_path / "outlets.csv"
    path.write_text(
        "source,source_type,side,category,as_of,value,citation\n"
        "Ministry,enemy,russia,killed,2022-03-02,9000,outlet A\n"
        "Ministry,enemy,russia,killed,2022-03-02,9100,outlet B\n",
        encoding="utf-8",
    )
    assert main(["validate", str(path)]) == 0
    out, _ = capsys.readouterr()
    notes = [line for line in out.splitlines() if line.startswith("note: ")]
    assert len(notes) == 2
    assert "'Ministry' gives 2 figures of russia killed as of 2022-03-02" in notes[0]
    assert "need --start YYYY-MM-DD" in notes[1]
    # estimate says the same, before loading PyMC, and writes nothing
    out_dir = tmp_path / "out"
    assert main(["estimate", str(path), "--out", str(out_dir)]) == 2
    _, err = capsys.readouterr()
    assert "error: no claim gives a period_start" in err and "--start YYYY-MM-DD" in err
    assert not out_dir.exists()


def test_messages_name_command_line_options_not_python_arguments():
    from casualty_models.cli import _as_cli
    from casualty_models.diagnostics import Diagnostics

    apart = Diagnostics(1.2, 100.0, 90.0, 3, 0, 2, 1500, "bias[x]", 10, 5, ("x",), 9.0)
    slow = dataclasses.replace(apart, chains_apart=0.0)  # the chains agree, mix slowly
    text = " ".join(_as_cli(r) for d in (apart, slow) for r in d.remedies())
    for flag in ("--target-accept 0.98", "--sampler nutpie", "--tune", "--draws", "--priors FILE"):
        assert flag in text, text
    assert "fit(" not in text and "cm.Priors" not in text and "draws=" not in text
    parser = build_parser()
    args = parser.parse_args(
        [
            "estimate",
            "x.csv",
            "--target-accept",
            "0.95",
            "--sampler",
            "nutpie",
            "--max-attempts",
            "1",
        ]
    )
    assert (args.target_accept, args.sampler, args.max_attempts) == (0.95, "nutpie", 1)


def test_validate_lists_every_problem(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + "Ministry A,own,russia,killed,2022-03-02,498,,\n"  # fine
        + "Ministry B,gossip,russia,killed,2022-03-02,100,,\n"  # unknown source_type
        + "Ministry C,enemy,ukraine,killed,2022-03-32,100,,\n"  # impossible date
        + "Ministry D,enemy,ukraine,killed,2022-03-02,-5,,\n"  # negative count
        + "Ministry E,neutral,russia,killed,2022-03-02,,4000,2000\n",  # low > high
        encoding="utf-8",
    )
    assert main(["validate", str(bad)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    expected = [(3, "source_type"), (4, "as_of"), (5, "value"), (6, "low")]
    for row, column in expected:
        hits = [ln for ln in lines if f"row {row}," in ln and f"column '{column}'" in ln]
        assert hits, f"no problem reported for row {row}, column {column}:\n{err}"
        assert all(ln.startswith(str(bad)) for ln in hits)
    assert not any("row 2," in ln for ln in lines)
    assert "Traceback" not in err


def test_validate_several_files_together_and_reports_every_files_problems(tmp_path, capsys):
    lines = SEED_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("".join(lines[:3]), encoding="utf-8")
    second.write_text(lines[0] + "".join(lines[3:]), encoding="utf-8")
    assert main(["validate", str(first), str(second)]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("OK: 4 claims, 2 series, 4 speakers")

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "Ministry B,gossip,russia,killed,2022-03-02,100,,\n", encoding="utf-8")
    missing = tmp_path / "nope.csv"
    assert main(["validate", str(bad), str(first), str(missing)]) == 1
    _, err = capsys.readouterr()
    assert f"{bad}, row 2, column 'source_type'" in err and f"not found: {missing}" in err
    # the same claim in two files is a duplicate across the files, named by file and row
    copy = tmp_path / "copy.csv"
    copy.write_text(lines[0] + lines[2], encoding="utf-8")
    assert main(["validate", str(first), str(copy)]) == 1
    _, err = capsys.readouterr()
    assert f"{copy}, row 2: duplicate of {first} row 3" in err
    assert f"{first} + {copy}: 1 problem found" in err


def test_validate_missing_file(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert main(["validate", str(missing)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "not found" in err and str(missing) in err
    assert "Traceback" not in err


# ------------------------------------------------------------------ estimate, no sampling


def test_estimate_bad_claims_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "Ministry B,gossip,russia,killed,2022-03-02,100,,\n")
    out_dir = tmp_path / "out"
    assert main(["estimate", str(bad), "--out", str(out_dir), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "source_type" in err and "nothing was written" in err
    assert not out_dir.exists()


def test_estimate_missing_file(tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert main(["estimate", str(tmp_path / "nope.csv"), "--out", str(out_dir)]) == 1
    assert "not found" in capsys.readouterr().err
    assert not out_dir.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["estimate", str(SEED_CSV), "--draws", "0"], "--draws: must be at least 1"),
        (["estimate", str(SEED_CSV), "--tune", "many"], "--tune: 'many' is not a whole number"),
        (["estimate", str(SEED_CSV), "--chains", "-2"], "--chains: must be at least 1"),
        (["estimate", str(SEED_CSV), "--seed", "-1"], "--seed: must be at least 0"),
        (["estimate", str(SEED_CSV), "--as-of", "2022-02-30"], "--as-of: '2022-02-30' is not"),
        (["estimate", str(SEED_CSV), "--start", "11/03/2022"], "use YYYY-MM-DD"),
        (
            ["estimate", str(SEED_CSV), "--start", "2022-03-05", "--as-of", "2022-03-01"],
            "before --start",
        ),
        (["estimate"], "required: CLAIMS"),
        (["frobnicate"], "invalid choice"),
        ([], "usage:"),
    ],
)
def test_bad_arguments_exit_2(args, message, tmp_path, capsys):
    out_dir = tmp_path / "out"
    if args and args[0] == "estimate":
        args = [*args, "--out", str(out_dir)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not out_dir.exists()


def test_start_after_the_claims_is_a_usage_error(tmp_path, capsys):
    """fit() rejects a --start after the headline date (the latest claim): exit 2."""
    out_dir = tmp_path / "out"
    code = main(["estimate", str(SEED_CSV), "--start", "2022-04-01", "--out", str(out_dir)])
    assert code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "2022-04-01" in err and "nothing was written" in err
    assert "Traceback" not in err
    assert not out_dir.exists()


def test_priors_command_writes_a_file_that_estimate_reads(tmp_path, capsys, monkeypatch):
    """`casualty-models priors` prints an editable file; --priors takes it, or a preset,
    and a misspelt key is an error naming the line, before anything is fitted."""
    import casualty_models._backend
    import casualty_models.cli as cli
    import casualty_models.fitting
    from casualty_models.model.priors_file import PRESETS

    assert main(["priors", "--preset", "disaster"]) == 0
    text = capsys.readouterr().out
    path = tmp_path / "priors.yaml"
    path.write_text(text.replace("own: {factor: 1.0,", "own: {factor: 2.0,", 1), encoding="utf-8")
    seen = []

    def fake_fit(claims, *, draws=1500, tune=1000, chains=2, **kwargs):
        seen.append(kwargs["priors"])
        raise KeyboardInterrupt  # stop before any output: only the arguments matter

    monkeypatch.setattr(casualty_models._backend, "pymc", lambda: None)
    monkeypatch.setattr(casualty_models.fitting, "fit", fake_fit)
    out = str(tmp_path / "out")
    assert main(["estimate", str(SEED_CSV), "--out", out, "--priors", str(path)]) == 130
    assert main(["estimate", str(SEED_CSV), "--out", out, "--priors", "civilian"]) == 130
    assert seen[0].for_type("own").bias_mu == pytest.approx(math.log(2.0))
    assert seen[0].for_type("neutral") == PRESETS["disaster"].for_type("neutral")
    assert seen[1] == PRESETS["civilian"]
    capsys.readouterr()
    path.write_text("source_types:\n  own: {facto: 2.0}\n", encoding="utf-8")
    assert main(["estimate", str(SEED_CSV), "--out", out, "--priors", str(path)]) == 1
    err = capsys.readouterr().err
    assert "line 2" in err and "'facto'" in err and "nothing was written" in err
    assert main(["estimate", str(SEED_CSV), "--out", out, "--priors", "peacetime"]) == 2
    assert "neither a preset" in capsys.readouterr().err
    assert len(seen) == 2 and cli.EXIT_MODEL_CHECK == 4


def test_out_is_a_file(tmp_path, capsys):
    not_a_dir = tmp_path / "out"
    not_a_dir.write_text("x")
    assert main(["estimate", str(SEED_CSV), "--out", str(not_a_dir)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_unwritable_outputs_exit_1(tmp_path, capsys, monkeypatch):
    """An OSError while writing is reported in one line, not as a traceback."""
    import casualty_models._backend
    import casualty_models.cli as cli
    import casualty_models.fitting

    def fake_fit(claims, *, draws=1000, tune=1000, chains=2, **kwargs):
        return object()

    def refuse(est, out, **tables):
        raise PermissionError(13, "Permission denied", str(out / "estimate.nc"))

    monkeypatch.setattr(casualty_models._backend, "pymc", lambda: None)
    monkeypatch.setattr(casualty_models.fitting, "fit", fake_fit)
    monkeypatch.setattr(cli, "_write_outputs", refuse)
    assert main(["estimate", str(SEED_CSV), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "cannot write the outputs" in err and "Permission denied" in err
    assert "Traceback" not in err


def test_trust_is_off_unless_asked():
    parser = build_parser()
    assert parser.parse_args(["estimate", "c.csv"]).trust is False
    assert parser.parse_args(["estimate", "c.csv", "--trust"]).trust is True
    assert parser.parse_args(["estimate", "c.csv", "--trust", "--no-trust"]).trust is False


def test_trust_interrupted_exits_130_and_writes_nothing(tmp_path, capsys, monkeypatch):
    """Ctrl-C during the (long) trust step: exit 130, and no output half-written."""
    import casualty_models._backend
    import casualty_models.fitting

    def interrupt(**kwargs):
        raise KeyboardInterrupt

    fitted = SimpleNamespace(
        claims=cm.read_claims(SEED_CSV),
        diagnostics=SimpleNamespace(ok=True),
        sensitivity=interrupt,
    )
    monkeypatch.setattr(casualty_models._backend, "pymc", lambda: None)

    def fake_fit(claims, *, draws=1000, tune=1000, chains=2, **kwargs):
        return fitted

    monkeypatch.setattr(casualty_models.fitting, "fit", fake_fit)
    out_dir = tmp_path / "out"
    assert main(["estimate", str(SEED_CSV), "--out", str(out_dir), "--trust"]) == 130
    err = capsys.readouterr().err
    assert "trust 1/2: sensitivity to the bias priors" in err
    assert err.rstrip().splitlines()[-1] == "interrupted: nothing was written"
    assert "writing outputs" not in err and "Traceback" not in err
    assert not out_dir.exists()


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"casualty-models {cm.__version__}"


def test_console_script_version():
    exe = Path(sys.executable).parent / "casualty-models"
    script = str(exe) if exe.exists() else shutil.which("casualty-models")
    assert script, "the casualty-models console script is not installed"
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"casualty-models {cm.__version__}"


def test_cli_import_is_light():
    code = (
        "import sys, casualty_models.cli; "
        "heavy = [m for m in ('pymc', 'pytensor', 'arviz', 'matplotlib') if m in sys.modules]; "
        "print(heavy); sys.exit(bool(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# ------------------------------------------------------------------------- real fits


def _leftovers(out_dir: Path) -> list[str]:
    return [p.name for p in out_dir.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


@pytest.mark.mcmc
def test_estimate_end_to_end(tmp_path, capsys):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for name in TRUST_FILES:  # left by an earlier run with --trust: must not outlive it
        (out_dir / name).write_text("stale\n")
    args = ["estimate", str(SEED_CSV), "--out", str(out_dir), "--draws", "500", "--tune", "500"]
    assert main([*args, "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # --quiet: no progress, and the diagnostics passed
    for name in TRUST_FILES:
        assert not (out_dir / name).exists(), f"stale {name} kept"

    for name in OUTPUTS:
        assert (out_dir / name).is_file(), f"{name} missing"
        assert (out_dir / name).stat().st_size > 0, f"{name} is empty"
    assert _leftovers(out_dir) == []

    fingerprint = cm.read_claims(SEED_CSV).fingerprint
    data = json.loads((out_dir / "estimate.json").read_text())
    assert data["claims_fingerprint"] == fingerprint
    assert data["package_version"] == cm.__version__
    assert {(s["side"], s["category"]) for s in data["series"]} == {
        ("russia", "killed"),
        ("ukraine", "killed"),
    }
    for series in data["series"]:
        assert series["values"]
        for value in series["values"]:
            assert {"date", "mean", "median", "interval_50", "interval_90"} <= set(value)
            lo, hi = value["interval_90"]
            assert 0 < lo <= value["median"] <= hi
    assert len(data["sources"]) == 4
    for source in data["sources"]:
        assert {"bias_factor", "interval_90"} <= set(source)
        assert source["interval_90"][0] <= source["bias_factor"] <= source["interval_90"][1]
    assert {"r_hat_max", "ess_bulk_min", "divergences"} <= set(data["diagnostics"])

    summary = pd.read_csv(out_dir / "summary.csv", parse_dates=["date"])
    assert {"side", "category", "date", "mean", "median", "low_90", "high_90"} <= set(summary)
    assert len(summary) == sum(len(s["values"]) for s in data["series"])

    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert fingerprint in page
    assert TRUST_HEADING not in page and "the median moves from" not in page  # no --trust
    for png in ("panels.png", "claims.png", "timeline.png", "sources.png"):
        assert (out_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cm.load(out_dir / "estimate.nc").claims.fingerprint == fingerprint

    # the human summary on stdout: one headline per series, then the diagnostics
    assert re.search(r"russia killed: [\d,]+ \(90% interval [\d,]+–[\d,]+\)", out)
    assert re.search(r"ukraine killed: [\d,]+ \(90% interval [\d,]+–[\d,]+\)", out)
    assert "Sampler ok: R-hat max" in out
    assert "Model check ok: 0 of 4 claims outside their 99% predictive interval" in out


@pytest.mark.mcmc
def test_estimate_not_converged_exits_3_but_writes(tmp_path, capsys):
    """Far too few draws: diagnostics fail, exit 3 with remedies; outputs still written.

    The --start after the claims' period_start also makes the model warn; the CLI
    prints that as a plain warning line. --trust is skipped on a fit that failed.
    """
    out_dir = tmp_path / "out"
    args = ["estimate", str(SEED_CSV), "--out", str(out_dir), "--draws", "20", "--tune", "20"]
    assert main([*args, "--start", "2022-02-26", "--trust"]) == 3
    out, err = capsys.readouterr()
    # --trust on a fit that failed its checks: skipped, said so, nothing pretends otherwise
    assert "warning: --trust skipped" in err and "trust 1/2" not in err
    assert not any((out_dir / name).exists() for name in TRUST_FILES)
    assert TRUST_HEADING not in (out_dir / "report.html").read_text(encoding="utf-8")
    for stage in ("reading claims…", "sampling 2 chains × 20 draws", "writing outputs…"):
        assert stage in err
    assert re.search(r"\[\s*\d+\.\ds\] writing outputs", err)
    # remedies speak the CLI's language: flags, not Python keyword arguments
    assert "ESS" in err and "remedies:" in err and "--draws" in err and "draws=" not in err
    warned = [ln for ln in err.splitlines() if ln.startswith("warning: ") and "2022-02-26" in ln]
    assert len(warned) == 1, err
    assert "Sampler FAILED" in out and "Model check ok" in out
    # 20 draws: the ESS asks for more than 3x the first run (the budget), so none follow
    assert "fit() stopped after 1 run: more draws would help" in err, err
    for name in OUTPUTS:
        assert (out_dir / name).is_file(), f"{name} missing"
    assert _leftovers(out_dir) == []
    assert json.loads((out_dir / "estimate.json").read_text())["diagnostics"]["ok"] is False


def _about(x: float) -> str:
    """Two significant figures with thousands separators, as the report's prose rounds."""
    return f"{round(x, 1 - math.floor(math.log10(x))):,.0f}"


@pytest.mark.mcmc
def test_estimate_trust_section_matches_the_estimates_own_tables(tmp_path, capsys):
    """--trust: report.html says, in plain language, what sensitivity() and
    leave_one_source_out() of the same estimate say; both tables are written as CSV."""
    out_dir = tmp_path / "out"
    args = ["estimate", str(SEED_CSV), "--out", str(out_dir), "--draws", "500", "--tune", "500"]
    assert main([*args, "--seed", "3", "--trust"]) == 0
    _, err = capsys.readouterr()
    stages = ("trust 1/2: sensitivity", "prior changes,", "trust 2/2: leaving out each of 3")
    for stage in stages:
        assert stage in err, err
    for name in (*OUTPUTS, *TRUST_FILES):
        assert (out_dir / name).is_file(), f"{name} missing"
    assert _leftovers(out_dir) == []
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert TRUST_HEADING in page

    # the tables written are the estimate's own: seeded refits, the saved headline as base
    # (that sensitivity() and leave_one_source_out() compute them is tested in test_trust)
    est = cm.load(out_dir / "estimate.nc")
    assert est.settings.random_seed == 3 and est.settings.draws == 500
    sens = pd.read_csv(out_dir / "sensitivity.csv")
    loso = pd.read_csv(out_dir / "leave_one_source_out.csv")
    assert set(loso["source"]) == {c.source for c in est.claims}
    headline = est.headline().set_index("side")
    for table in (sens, loso):
        for r in table.to_dict(orient="records"):
            assert r["base_median"] == pytest.approx(headline.loc[r["side"], "median"])

    # the plain-language sentence, with the numbers of the estimate's own table
    for r in trust.sensitivity_summary(sens).to_dict(orient="records"):
        assert r["base_median"] == pytest.approx(headline.loc[r["side"], "median"])
        lead = (
            f"The estimate of {r['side']} {r['category']} rests mostly on the prior for"
            if r["rests_on_prior"]
            else f"No single bias prior dominates the estimate of {r['side']} {r['category']}"
        )
        move = f"the median moves from {_about(r['base_median'])} to {_about(r['median'])} ("
        found = re.search(re.escape(html.escape(lead)) + r"[^<]*?" + re.escape(move), page)
        assert found, (lead, move)
    for sentence in report._sensitivity_sentences(sens):
        assert html.escape(sentence) in page
    moved = loso[loso["shift_pct"].notna() & (loso["shift_pct"] != 0)]
    top = moved.iloc[moved["shift_pct"].abs().argmax()]
    assert (
        f"Leaving out {top['source']} moves the {top['side']} {top['category']} median most, "
        f"from {_about(top['base_median'])} to {_about(top['median'])}"
    ) in html.unescape(page)
    for sentence in report._loso_sentences(loso):
        assert html.escape(sentence) in page


# ------------------------------------------------------------------------------ vintages


def _with_later_claim(tmp_path: Path) -> Path:
    """The seed plus the Russian MoD's 25 March 2022 figure (published that day)."""
    path = tmp_path / "claims.csv"
    later = (
        "Russian Ministry of Defence,own,russia,killed,2022-03-25,,2022-02-24,1351,,,,"
        '"CNN live updates, ""Russia-Ukraine news, March 25, 2022"", 2022-03-25",,\n'
    )
    path.write_text(SEED_CSV.read_text(encoding="utf-8") + later, encoding="utf-8")
    return path


@pytest.mark.mcmc
def test_estimate_as_reported_on_uses_the_vintage(tmp_path, capsys):
    out_dir = tmp_path / "out"
    args = ["estimate", str(_with_later_claim(tmp_path)), "--out", str(out_dir), "--quiet"]
    assert main([*args, "--as-reported-on", "2022-03-12", "--draws", "500", "--tune", "500"]) == 0
    out, _ = capsys.readouterr()
    assert "Estimate as of 2022-03-12 from 4 claims" in out
    data = json.loads((out_dir / "estimate.json").read_text())
    assert data["settings"]["as_reported_on"] == "2022-03-12"


@pytest.mark.mcmc
def test_backtest_command_writes_history_and_plot(tmp_path, capsys):
    out_dir = tmp_path / "bt"
    args = ["backtest", str(_with_later_claim(tmp_path)), "--out", str(out_dir), "--quiet"]
    args += ["--dates", "2022-03-11", "2022-03-25", "--draws", "400", "--tune", "400"]
    assert main(args) in (0, 3)  # 3 only if a small vintage fit failed its checks
    hist = pd.read_csv(out_dir / "backtest.csv", parse_dates=["as_reported_on"])
    assert hist.groupby("as_reported_on").n_claims.first().tolist() == [4, 5]
    assert (out_dir / "backtest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _leftovers(out_dir) == []
    assert main(["backtest", str(SEED_CSV), "--dates", "2021-01-01", "--out", str(out_dir)]) == 2


def test_unknown_series_is_a_usage_error_before_any_fit(tmp_path, capsys):
    out_dir = tmp_path / "out"
    code = main(["estimate", str(SEED_CSV), "--series", "russia|wounded", "--out", str(out_dir)])
    assert code == 2
    err = capsys.readouterr().err
    assert "russia|wounded" in err and "russia|killed" in err and "nothing was written" in err
    assert not out_dir.exists()


def test_figure_formats_and_focused_series_reach_the_files(tmp_path, seed_claims):
    """--figure-format writes each figure in every format; --series focuses the report."""
    from casualty_models.cli import _write_outputs
    from tests.conftest import offline_estimate

    est = offline_estimate(seed_claims)
    written = _write_outputs(est, tmp_path, series=["ukraine|killed"], formats=["png", "svg"])
    names = {p.name for p in written}
    for figure in ("panels", "claims", "timeline", "sources"):
        assert {f"{figure}.png", f"{figure}.svg"} <= names
    assert (tmp_path / "panels.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    summary = html[html.index('<section id="summary-text">') :]
    table = summary[: summary.index("</table>")]
    assert "<td>ukraine</td><td>killed</td>" in table and "<td>russia</td>" not in table
