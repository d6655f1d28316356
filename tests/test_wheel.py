"""The package as a user gets it: a wheel, installed with pip in a fresh virtual environment,
run from an empty folder, fits the seed from its shipped example.

Builds the wheel (``pip wheel``), makes a new venv, installs the wheel with its
dependencies by pip's ordinary configuration (a package index, or a local mirror where
pip is set up with one), then from an empty folder: ``casualty-models examples``,
``casualty-models estimate --example seed`` (a short MCMC run) and
``cm.examples.load("seed")`` in Python, checking that the package imported is the
installed one, not this clone. About a minute, most of it pip's install; marked
``wheel`` (``pytest -m wheel`` runs it alone) and ``mcmc``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.wheel, pytest.mark.mcmc]


def _run(
    cmd: list[str], cwd: Path, timeout: float = 900, ok: tuple[int, ...] = (0,)
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode in ok, (cmd, done.stdout[-3000:], done.stderr[-3000:])
    return done


def test_a_wheel_in_a_fresh_venv_fits_the_seed_example_from_an_empty_folder(tmp_path):
    dist = tmp_path / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)], ROOT
    )
    (wheel,) = dist.glob("casualty_models-*.whl")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    # --no-compile: the byte code of the modules a run imports is written on import; pip
    # compiling every module of every dependency was half of this test's time
    _run([str(py), "-m", "pip", "install", "-q", "--no-compile", str(wheel)], tmp_path)

    empty = tmp_path / "empty"
    empty.mkdir()
    cli = str(env_dir / "bin" / "casualty-models")
    listed = _run([cli, "examples"], empty).stdout
    assert listed.split()[0] == "seed"

    out = empty / "out"
    short = ["--draws", "300", "--tune", "300", "--max-attempts", "1", "--quiet"]
    # 3: written, but a run this short may miss the ESS target; the wheel is what is tested
    _run([cli, "estimate", "--example", "seed", "--out", str(out), *short], empty, ok=(0, 3))
    result = json.loads((out / "estimate.json").read_text(encoding="utf-8"))
    (head,) = [h for h in result["headline"] if (h["side"], h["category"]) == ("russia", "killed")]
    assert 498 < head["median"] < 12_000  # between the partisan figures (README: ~3,200)
    assert (out / "report.html").is_file()

    check = (
        "import json, casualty_models as cm\n"
        "claims = cm.examples.load('seed')\n"
        "print(json.dumps({'file': cm.__file__, 'path': str(cm.examples.path('seed')),"
        " 'n': len(claims)}))\n"
    )
    seen = json.loads(_run([str(py), "-c", check], empty).stdout)
    assert seen["n"] == 4
    site = str(env_dir.resolve())
    assert seen["file"].startswith(site) and seen["path"].startswith(site), seen
    assert "_example_data" in seen["path"]
    assert not list(empty.glob("*.csv"))  # nothing but the output folder was needed
