"""tools/run_notebooks.py (make notebook): which notebooks it runs, and that a failing
cell fails the run and leaves no executed copy behind."""

from __future__ import annotations

import json
import os

import nbformat

from tools import run_notebooks


def test_discover_takes_py_notebooks_and_ipynb_without_a_py_twin(tmp_path):
    for name in ("a.py", "a.ipynb", "b.ipynb", "c.py", "notes.txt"):
        (tmp_path / name).write_text("")
    assert [p.name for p in run_notebooks.discover(tmp_path)] == ["a.py", "b.ipynb", "c.py"]


def test_the_bundled_notebooks_are_found():
    found = run_notebooks.discover(run_notebooks.NOTEBOOKS)
    assert {p.name for p in found} >= {"01_seed_estimate.py", "02_full_war.py"}


def test_runs_in_the_notebooks_folder_and_fails_on_a_failing_cell(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CASUALTY_MODELS_FAST", raising=False)
    src = tmp_path / "nb"
    src.mkdir()
    (src / "data.txt").write_text("41")
    (src / "good.py").write_text(
        "# %%\nimport os\n"
        "print(int(open('data.txt').read()) + 1, os.environ['CASUALTY_MODELS_FAST'])\n"
    )
    (src / "bad.py").write_text("# %%\nx = 1\n\n# %%\nraise ValueError('cell broke')\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "bad.ipynb").write_text("stale")  # from an earlier, passing run

    code = run_notebooks.main([str(src / "bad.py"), str(src / "good.py"), "--out", str(out)])

    assert code == 1
    assert "CASUALTY_MODELS_FAST" not in os.environ  # set for the kernels only
    assert not (out / "bad.ipynb").exists()  # nothing stale for the docs to render
    nb = nbformat.read(out / "good.ipynb", as_version=4)  # ran although bad.py failed
    (cell,) = [c for c in nb.cells if c.cell_type == "code"]
    assert [o["text"] for o in cell.outputs] == ["42 1\n"]
    text = capsys.readouterr()
    assert "FAILED" in text.out and "bad.py" in text.out and "cell broke" in text.err
    assert "1 of 2 notebooks failed" in text.err
    assert json.loads((out / "good.ipynb").read_text())["metadata"]["kernelspec"]["name"] == (
        "python3"
    )


def test_a_claim_set_shows_as_escaped_html_in_an_executed_notebook(tmp_path, capsys):
    """Issue 30: the last expression of a cell, a ClaimSet, is shown as rich HTML in
    the executed notebook, its untrusted text escaped; a bundled notebook that shows no
    such display fails the run."""
    src = tmp_path / "nb"
    src.mkdir()
    (src / "claims.py").write_text(
        "# %%\nimport casualty_models as cm\n"
        "claims = cm.ClaimSet([cm.Claim(source='<script>alert(1)</script>', "
        "source_type='neutral', side='a', category='killed', as_of='2022-03-10', value=5, "
        "citation='x')])\nclaims\n"
    )
    out = tmp_path / "out"
    assert run_notebooks.main([str(src / "claims.py"), "--out", str(out)]) == 0
    nb = nbformat.read(out / "claims.ipynb", as_version=4)
    assert run_notebooks.rich_displays(nb) == {"claims"}
    (cell,) = [c for c in nb.cells if c.cell_type == "code"]
    html = cell.outputs[0]["data"]["text/html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "rich displays: claims" in capsys.readouterr().out

    (src / "01_seed_estimate.py").write_text("# %%\nx = 1\nx\n")  # a bundled name
    code = run_notebooks.main([str(src / "01_seed_estimate.py"), "--out", str(out)])
    assert code == 1
    assert "shows no rich display of: claims, estimate" in capsys.readouterr().err
    assert not (out / "01_seed_estimate.ipynb").exists()
