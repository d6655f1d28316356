"""CSVs we write stay inert in a spreadsheet (OWASP's CSV-injection advice), numbers stay
numbers, our readers read back what we wrote; and outputs name claim files relative to
the working directory, never by absolute paths. No MCMC: fit() gives offline estimates."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import SEED_CSV, offline_estimate
from hypothesis import given, settings
from hypothesis import strategies as st

import casualty_models as cm
from casualty_models._cells import FORMULA_STARTS, frame_to_csv, neutralise, restore
from casualty_models.cli import main
from casualty_models.history import read_history

HYPERLINK = '=HYPERLINK("http://x","y")'


def _live_formulas(text: str) -> list[str]:
    """Cells of a CSV text a spreadsheet would run as formulas."""
    out = []
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            if cell[:1] in FORMULA_STARTS:
                try:
                    float(cell)
                except ValueError:
                    out.append(cell)
    return out


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_neutralise_is_undone_by_restore(text):
    safe = neutralise(text)
    assert restore(safe) == text
    assert safe[:1] not in FORMULA_STARTS or safe == text  # only numbers start so


@pytest.mark.parametrize(
    ("text", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("=1+1", "'=1+1"),
        ("+ukraine", "'+ukraine"),
        ("-note", "'-note"),
        ("@sum", "'@sum"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=quoted", "''=quoted"),  # so that reading drops exactly one quote
        ("-5", "-5"),  # a negative number is a number
        ("+1.5e3", "+1.5e3"),
        ("'plain", "'plain"),
        ("Pentagon", "Pentagon"),
    ],
)
def test_what_is_neutralised(text, written):
    assert neutralise(text) == written and restore(written) == text


def test_frame_to_csv_neutralises_text_and_leaves_numbers(tmp_path):
    frame = pd.DataFrame(
        {"source": [HYPERLINK, "-x", "ok"], "value": [-5.0, 2.0, 3.5], "n": [-1, 2, 3]}
    )
    text = frame_to_csv(frame)
    assert _live_formulas(text) == []
    back = pd.read_csv(io.StringIO(text))
    assert back["value"].tolist() == [-5.0, 2.0, 3.5] and back["n"].tolist() == [-1, 2, 3]
    assert [restore(s) for s in back["source"]] == [HYPERLINK, "-x", "ok"]


def _hostile_claims(folder: Path) -> Path:
    """The seed claims with hostile text: a source =HYPERLINK(...), a citation =1+1."""
    claims = cm.read_claims(SEED_CSV)
    import dataclasses

    first = dataclasses.replace(claims[0], source=HYPERLINK, citation="=1+1", notes="@note")
    hostile = cm.ClaimSet([first, *claims[1:]], origin="hostile")
    path = folder / "hostile.csv"
    hostile.to_csv(path)
    return path


def test_a_claims_echo_is_inert_and_reads_back_the_same(tmp_path):
    path = _hostile_claims(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert _live_formulas(text) == []
    quoted = '"' + "'" + HYPERLINK.replace('"', '""') + '"'
    assert quoted in text  # as a CSV writes the cell '=HYPERLINK(...)
    back = cm.read_claims(path)
    assert back[0].source == HYPERLINK and back[0].citation == "=1+1"
    assert back[0].notes == "@note"
    written = cm.ClaimSet(list(back), origin="x")
    assert written.fingerprint == cm.read_claims(path).fingerprint
    assert back.to_csv() == text  # a second echo is the same file


@pytest.fixture
def fake_fit(monkeypatch):
    import casualty_models._backend
    import casualty_models.fitting
    from casualty_models import report
    from casualty_models.report import figures

    def fit(claims, *, draws=1500, tune=1000, chains=2, **kwargs):
        return offline_estimate(cm.read_claims(claims))

    monkeypatch.setattr(casualty_models._backend, "pymc", lambda: None)
    monkeypatch.setattr(casualty_models.fitting, "fit", fit)
    monkeypatch.setattr(figures, "render", lambda kind, *a, **k: figures.Figure(b"", kind))
    monkeypatch.setattr(report, "save_plots", lambda *a, **k: [])


def test_every_csv_the_cli_writes_is_inert(tmp_path, fake_fit, monkeypatch, capsys):
    """estimate, update (changes.csv, history.csv), the --trust tables and backtest.csv,
    from claims whose source is =HYPERLINK(...) and one of whose sides is +ukraine."""
    claims = _hostile_claims(tmp_path)
    text = claims.read_text(encoding="utf-8").replace(",ukraine,", ",+ukraine,")
    claims.write_text(text, encoding="utf-8")
    assert cm.read_claims(claims).series[1] == ("+ukraine", "killed")
    out = tmp_path / "out"
    assert main(["estimate", str(claims), "--out", str(out), "--quiet"]) == 0
    later = tmp_path / "later.csv"
    later.write_text(
        text + f'"\'{HYPERLINK.replace(chr(34), chr(34) * 2)}",enemy,russia,killed,'
        '2022-03-12,,2022-02-24,13000,,,,"\'=1+1",,,\n',
        encoding="utf-8",
    )
    assert len(cm.read_claims(later)) == 5
    assert main(["update", str(out), str(later), "--quiet", "--attribution", "reweight"]) == 0
    # the trust tables, as the CLI writes them (the report, which reads them, aside)
    from casualty_models import report
    from casualty_models.cli import _write_outputs

    monkeypatch.setattr(report, "write_report", lambda est, path, **k: Path(path))

    est = offline_estimate(cm.read_claims(later))
    table = pd.DataFrame({"source": [HYPERLINK], "side": ["+ukraine"], "shift_pct": [-3.0]})
    trust = tmp_path / "trust"
    _write_outputs(est, trust, sensitivity=table, loso=table)
    # backtest.csv (the module, which the package's backtest function shadows)
    import importlib

    backtest_module = importlib.import_module("casualty_models.backtest")

    history = pd.DataFrame(
        {"as_reported_on": ["2022-03-11"], "side": ["+ukraine"], "median": [-1.0]}
    )
    plot = SimpleNamespace(
        figure=SimpleNamespace(savefig=lambda tmp, **k: Path(tmp).write_bytes(b""))
    )
    result = SimpleNamespace(
        history=history.assign(converged=True, model_ok=True), plot=lambda: plot
    )
    monkeypatch.setattr(backtest_module, "backtest", lambda *a, **k: result)
    bt = tmp_path / "bt"
    args = ["backtest", str(later), "--dates", "2022-03-11", "--out", str(bt), "--quiet"]
    assert main(args) == 0
    capsys.readouterr()

    written = [
        out / "summary.csv",
        out / "changes.csv",
        out / "history.csv",
        trust / "sensitivity.csv",
        trust / "leave_one_source_out.csv",
        bt / "backtest.csv",
    ]
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert _live_formulas(text) == [], path.name
    assert "'+ukraine" in (out / "summary.csv").read_text(encoding="utf-8")
    assert f"'{HYPERLINK}".replace('"', '""') in (out / "changes.csv").read_text(encoding="utf-8")
    assert "-3.0" in (trust / "sensitivity.csv").read_text(encoding="utf-8")  # a number
    # our readers read back what we wrote
    assert set(read_history(out / "history.csv")["side"]) == {"russia", "+ukraine"}
    assert cm.load(out / "estimate.nc").claims == cm.read_claims(later)


def test_outputs_name_claim_files_relative_to_the_working_directory(
    tmp_path, fake_fit, monkeypatch, capsys
):
    """estimate.json's worst_claims, changes.json, changes.csv and the report name a
    claims file as the report does: relative to the working directory, never absolute."""
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    monkeypatch.chdir(work)
    claims = work / "data" / "claims.csv"
    claims.write_text(SEED_CSV.read_text(encoding="utf-8"), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere.csv"  # outside the working directory
    elsewhere.write_text(
        SEED_CSV.read_text(encoding="utf-8").splitlines(keepends=True)[0]
        + "Kyiv Independent,neutral,russia,killed,2022-03-12,,2022-02-24,9000,,,,x,,\n",
        encoding="utf-8",
    )
    out = work / "out"
    assert main(["estimate", str(claims), "--out", str(out), "--quiet"]) == 0
    args = ["update", str(out), str(claims), str(elsewhere), "--quiet", "--attribution", "reweight"]
    assert main(args) == 0
    capsys.readouterr()
    worst = json.loads((out / "estimate.json").read_text())["diagnostics"]["worst_claims"]
    assert worst and all(
        "data/claims.csv, row " in w or "elsewhere.csv, row " in w for w in worst
    ), worst
    changes = json.loads((out / "changes.json").read_text())
    assert changes["previous_estimate"] == "previous.nc"
    assert changes["old"]["claims_origin"] == "data/claims.csv"
    assert changes["new"]["claims_origin"] == "data/claims.csv + elsewhere.csv"
    assert "elsewhere.csv, row 2" in (out / "changes.csv").read_text(encoding="utf-8")
    for name in ("estimate.json", "changes.json", "changes.csv", "report.html", "history.csv"):
        text = (out / name).read_text(encoding="utf-8")
        assert str(tmp_path) not in text, f"{name} names an absolute path"
