"""The CLI killed at many moments, with SIGKILL and with SIGINT (Ctrl-C), during the fit
and while writing: the output folder is always one complete run, the previous one or
the new one, never a mix, and no temporary file is left in it.

Each attempt forks this (already warmed-up) process and runs ``main()`` in the child,
so an attempt costs its run, not an interpreter start. fit() is replaced by an offline
estimate after a short sleep (the "fit"), the figures are stubs, and the test hook
``CASUALTY_MODELS_TEST_WRITE_DELAY`` makes the writing print each stage and pause
before it, so that kills land at known moments of the writing (and, with offsets, in
the middle of writing a file). One real MCMC run is interrupted at the end
(``test_ctrl_c_stops_real_sampling``): PyMC's sampler catches KeyboardInterrupt and
returns the draws so far, and Ctrl-C must still stop the command.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from conftest import SEED_CSV, offline_estimate

import casualty_models as cm
from casualty_models.cli import WRITE_DELAY_ENV, main
from casualty_models.outputs import MANIFEST, check_manifest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forks (POSIX only)")

FIT_SECONDS = 0.2
DELAY = 0.05  # the pause before each stage of writing
LATER = (
    "Russian Ministry of Defence,own,russia,killed,2022-03-11,,2022-02-24,{value},,,,"
    '"a later statement",,\n'
)
WRITE_STAGES = ("estimate.nc", "summary.csv", "figures", "report.html", "estimate.json", "done")


@dataclass
class Outcome:
    status: int  # as os.waitpid gives it
    err: str

    @property
    def killed_by(self) -> int | None:
        return os.WTERMSIG(self.status) if os.WIFSIGNALED(self.status) else None

    @property
    def code(self) -> int | None:
        return os.WEXITSTATUS(self.status) if os.WIFEXITED(self.status) else None


def _run(args: list[str], err_path: Path, *, marker: str, offset: float, sig: int) -> Outcome:
    """Fork, run ``main(args)`` in the child; once ``marker`` appears on its stderr wait
    ``offset`` seconds and send ``sig``. The child's exit status and stderr."""
    err_path.unlink(missing_ok=True)
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 99
        try:
            stream = open(err_path, "w", buffering=1, encoding="utf-8")  # noqa: SIM115
            os.dup2(stream.fileno(), 2)
            sys.stderr = stream
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            code = main(args)
        except BaseException as err:
            print(f"child raised {err!r}", file=sys.stderr, flush=True)
        finally:
            os._exit(code)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if err_path.exists() and marker in err_path.read_text(encoding="utf-8"):
            break
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:  # finished before the marker: no kill
            return Outcome(status, err_path.read_text(encoding="utf-8"))
        time.sleep(0.002)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail(f"marker {marker!r} never appeared")
    time.sleep(offset)
    with contextlib.suppress(ProcessLookupError):  # it may have finished
        os.kill(pid, sig)
    _, status = os.waitpid(pid, 0)
    return Outcome(status, err_path.read_text(encoding="utf-8"))


@pytest.fixture
def harness(monkeypatch, tmp_path):
    """The two claim sets (A: the seed; B: the seed and a later claim), their offline
    estimates, fit() giving them after FIT_SECONDS, stub figures and the write hook."""
    import casualty_models._backend
    import casualty_models.fitting
    from casualty_models import report
    from casualty_models.report import figures

    a = SEED_CSV
    b = tmp_path / "b.csv"
    b.write_text(SEED_CSV.read_text(encoding="utf-8") + LATER.format(value=600), "utf-8")
    fitted = {}
    for path in (a, b):
        claims = cm.read_claims(path)
        fitted[claims.fingerprint] = offline_estimate(claims)

    def fit(claims, *, draws=1500, tune=1000, chains=2, **kwargs):
        deadline = time.monotonic() + FIT_SECONDS
        while time.monotonic() < deadline:  # a "fit" that Ctrl-C can stop
            time.sleep(0.01)
        return fitted[claims.fingerprint]

    def save_plots(est, out, **kwargs):  # one small figure file, written as plots are
        from casualty_models._atomic import atomic_write

        return [atomic_write(Path(out) / "panels.png", b"\x89PNG\r\n\x1a\n" + bytes(2000))]

    monkeypatch.setattr(casualty_models._backend, "pymc", lambda: None)
    monkeypatch.setattr(casualty_models.fitting, "fit", fit)
    monkeypatch.setattr(figures, "render", lambda kind, *a, **k: figures.Figure(b"", kind))
    monkeypatch.setattr(report, "save_plots", save_plots)
    monkeypatch.setenv(WRITE_DELAY_ENV, str(DELAY))
    return {cm.read_claims(a).fingerprint: a, cm.read_claims(b).fingerprint: b}


def _state(out: Path, known: dict | None = None) -> dict:
    """The folder checked to be one complete run: every file as its manifest lists it,
    one fingerprint and one package version across its files; what it holds. A folder
    whose manifest is ``known``'s (a state checked before) needs only its files hashed."""
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]
    assert not leftovers, f"temporary files in {out}: {leftovers}"
    manifest = check_manifest(out)
    if known is not None and (out / MANIFEST).read_bytes() == known["manifest"]:
        return known
    fp, version = manifest["claims_fingerprint"], manifest["package_version"]
    data = json.loads((out / "estimate.json").read_text(encoding="utf-8"))
    assert (data["claims_fingerprint"], data["package_version"]) == (fp, version)
    est = cm.load(out / "estimate.nc")
    assert (est.claims.fingerprint, est.version) == (fp, version)
    assert fp in (out / "report.html").read_text(encoding="utf-8")
    history = None
    if (out / "history.csv").exists():
        history = pd.read_csv(out / "history.csv", dtype={"claims_fingerprint": str})
        if manifest["command"] == "update" or "history.csv" not in manifest.get(
            "kept_from_previous_run", []
        ):
            last = history[history["run"] == history["run"].max()]
            assert set(last["claims_fingerprint"]) == {fp}
            assert set(last["package_version"]) == {version}
    previous = None
    if (out / "previous.nc").exists():
        previous = cm.load(out / "previous.nc").claims.fingerprint
    return {
        "fingerprint": fp,
        "previous": previous,
        "manifest": (out / MANIFEST).read_bytes(),
        "runs": 0 if history is None else int(history["run"].max()),
    }


def test_killed_at_many_moments_the_folder_is_one_whole_run(harness, tmp_path):
    out = tmp_path / "out"
    err_path = tmp_path / "stderr.txt"
    fps = list(harness)
    assert main(["estimate", str(harness[fps[0]]), "--out", str(out), "--quiet"]) == 0
    state = _state(out)

    # (command, marker, offset, signal): during the fit, then at each stage of writing,
    # just after it begins and just after its pause (in the middle of writing its file),
    # each with both signals; then moments drawn at random
    moments: list[tuple[str, str, float, signal.Signals]] = []
    for command in ("estimate", "update"):
        moments.append((command, "sampling", 0.02, signal.SIGKILL))
        moments.append((command, "sampling", FIT_SECONDS * 0.7, signal.SIGINT))
        stages = (*WRITE_STAGES, "history.csv") if command == "update" else WRITE_STAGES
        for k, stage in enumerate(stages):
            first, second = (signal.SIGKILL, signal.SIGINT)[:: 1 if k % 2 else -1]
            moments.append((command, f"writing stage: {stage}", 0.01, first))
            moments.append((command, f"writing stage: {stage}", DELAY + 0.003, second))
    rng = random.Random(27)
    for _ in range(8):
        command = rng.choice(("estimate", "update"))
        sig = rng.choice((signal.SIGKILL, signal.SIGINT))
        moments.append((command, "sampling", rng.uniform(0, FIT_SECONDS + 8 * DELAY), sig))

    tried = survived = completed = replaced = 0
    for i, (command, marker, offset, sig) in enumerate(moments):
        new_fp = fps[1] if state["fingerprint"] == fps[0] else fps[0]
        claims = str(harness[new_fp])
        if command == "update":
            args = ["update", str(out), claims]
        else:
            args = ["estimate", claims, "--out", str(out)]
        outcome = _run(args, err_path, marker=marker, offset=offset, sig=sig)
        tried += 1
        after = _state(out)
        where = f"attempt {i} ({command}, {marker!r} + {offset:.3f}s, {sig.name})"
        if after["manifest"] == state["manifest"]:
            assert after["fingerprint"] == state["fingerprint"], where
            new = False
        else:
            assert after["fingerprint"] == new_fp, where
            expected_runs = state["runs"]
            if command == "update":  # the run, and before the first the run it updates
                expected_runs = state["runs"] + 1 if state["runs"] else 2
            assert after["runs"] == expected_runs, where  # the row came with the run
            if command == "update":  # and the run it replaced, kept whole beside it
                assert after["previous"] == state["fingerprint"], where
            new = True
            replaced += 1
        if outcome.killed_by is None and outcome.code == 0:
            assert new, where  # not killed in time: it completed
            completed += 1
        elif sig == signal.SIGINT:
            assert outcome.code == 130, (where, outcome.err)
            lines = outcome.err.strip().splitlines()
            assert "Traceback" not in outcome.err, (where, outcome.err)
            assert [ln for ln in lines if ln.startswith("interrupted")] == lines[-1:], where
            said = lines[-1]
            if new:
                assert said == f"interrupted: the new run is complete in {out}", where
            else:
                assert "as it was" in said or "as they were" in said, (where, said)
            survived += 1
        else:
            assert outcome.killed_by == signal.SIGKILL, (where, outcome.err)
            survived += 1
        siblings = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")]
        if sig == signal.SIGINT or outcome.killed_by is None:
            assert siblings == [], (where, siblings)
        else:  # a killed run cannot clean up: the next run removes its partial folder
            assert all(".out.partial-" in s for s in siblings), (where, siblings)
        state = after
    # the next run into the folder removes what killed runs left beside it
    assert main(["estimate", str(harness[fps[0]]), "--out", str(out), "--quiet"]) == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []
    _state(out)
    print(
        f"\nkill test: {tried} kills tried, {survived} survived ({replaced - completed} left "
        f"the new run, the others the previous one), {completed} runs completed first"
    )
    assert survived + completed == tried
    assert survived >= 0.8 * tried  # the moments do land before the end


@pytest.mark.mcmc
def test_ctrl_c_stops_real_sampling(tmp_path):
    """A real `casualty-models estimate` given Ctrl-C (to its process group, as a
    terminal sends it) while PyMC samples: it stops within seconds, exit 130, one line,
    no traceback from it or its worker processes, nothing written."""
    exe = Path(sys.executable).parent / "casualty-models"
    out = tmp_path / "out"
    args = [str(exe), "estimate", str(SEED_CSV), "--out", str(out), "--draws", "20000"]
    proc = subprocess.Popen(
        args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True
    )
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "sampling" in line:
            break
    time.sleep(4.0)  # compiled, and well into the draws
    sent = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    try:
        rest = proc.stderr.read()
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    took = time.monotonic() - sent
    err = "".join(lines) + rest
    assert code == 130, err
    assert took < 20, f"Ctrl-C took {took:.1f} s to stop the command"
    assert "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == "interrupted: nothing was written", err
    assert "writing outputs" not in err and not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []
