"""Output folders replaced as a whole (casualty_models.outputs) and the CLI's use of them:
folders that are not ours, a full disk, a read-only folder, a path that is a file, and
the history gaining its row only with the run. No MCMC: fit() gives offline estimates."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import SEED_CSV, offline_estimate

import casualty_models as cm
from casualty_models import outputs
from casualty_models.cli import ESTIMATE_FILES, FIGURE_FILES, main
from casualty_models.outputs import MANIFEST, NotOurs, OutputError, check_manifest, replacing

LATER = (
    "Russian Ministry of Defence,own,russia,killed,2022-03-11,,2022-02-24,600,,,,"
    '"a later statement",,\n'
)


def _ours(name: str) -> bool:
    return name in {"a.txt", "b.txt", "c.txt"}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


# ----------------------------------------------------------------- the folder, directly


def test_a_run_replaces_the_folder_as_a_whole(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("old a")
    (out / "b.txt").write_text("old b")
    with replacing(out, command="test", ours=_ours) as run:
        assert run.path != out and run.path.parent == out.parent
        assert not (run.path / "a.txt").exists()  # a new, empty folder
        (run.path / "c.txt").write_text("new c")
        assert _snapshot(out) == {"a.txt": b"old a", "b.txt": b"old b"}  # untouched so far
        run.meta["claims_fingerprint"] = "f" * 64
    assert sorted(p.name for p in out.iterdir()) == ["c.txt", MANIFEST]
    data = check_manifest(out)
    assert data["command"] == "test" and data["package_version"] == cm.__version__
    assert data["claims_fingerprint"] == "f" * 64 and set(data["files"]) == {"c.txt"}
    assert _siblings(out) == []


def test_a_failed_or_interrupted_run_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("old a")
    before = _snapshot(out)
    full = pytest.raises(OutputError, match="No space left on device")
    with full, replacing(out, command="test", ours=_ours) as run:
        (run.path / "c.txt").write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert _snapshot(out) == before and _siblings(out) == []
    with (
        pytest.raises(outputs.Interrupted) as info,
        replacing(out, command="test", ours=_ours) as run,
    ):
        (run.path / "c.txt").write_text("half")
        raise KeyboardInterrupt
    assert "as it was before this run" in info.value.kept
    assert _snapshot(out) == before and _siblings(out) == []
    # a new folder: nothing is left behind either
    with (
        pytest.raises(outputs.Interrupted) as info,
        replacing(tmp_path / "new", command="test", ours=_ours),
    ):
        raise KeyboardInterrupt
    assert info.value.kept.startswith("nothing was written")
    assert not (tmp_path / "new").exists() and _siblings(tmp_path / "new") == []


def test_a_folder_that_is_not_ours_is_refused_unless_forced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("ours")
    (out / "notes.md").write_text("the user's")
    (out / "data").mkdir()
    with pytest.raises(NotOurs) as info, replacing(out, command="test", ours=_ours):
        pytest.fail("the block must not run")
    assert info.value.foreign == ["data/", "notes.md"]
    assert "--force" in str(info.value) and "notes.md" in str(info.value)
    # --force: written in place, the user's files kept, the manifest lists ours only
    with replacing(out, command="test", ours=_ours, force=True) as run:
        assert run.path == out and run.in_place
        (out / "b.txt").write_text("new b")
    assert (out / "notes.md").read_text() == "the user's" and (out / "data").is_dir()
    assert set(json.loads((out / MANIFEST).read_text())["files"]) == {"a.txt", "b.txt"}


def test_files_listed_in_the_manifest_and_temporary_files_of_ours_are_ours(tmp_path):
    out = tmp_path / "out"
    with replacing(out, command="test", ours=lambda n: n == "x.csv") as run:
        (run.path / "x.csv").write_text("1")
    (out / ".x.csv.ab12cd.tmp").write_text("left by an older version's killed write")
    assert outputs.foreign_entries(out, lambda n: False) == [".x.csv.ab12cd.tmp"]
    assert outputs.foreign_entries(out, lambda n: n == "x.csv") == []
    with replacing(out, command="test", ours=lambda n: n == "x.csv") as run:
        (run.path / "x.csv").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "x.csv"]  # the .tmp went


def test_partial_folders_of_dead_runs_are_removed_and_a_cut_swap_is_undone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("current")
    dead = _dead_pid()
    (tmp_path / f".out.partial-{dead}-0badc0de").mkdir()
    (tmp_path / f".out.partial-{os.getppid()}-1ivec0de").mkdir()  # a live process's run
    outputs.tidy(out)
    assert _siblings(out) == [f".out.partial-{os.getppid()}-1ivec0de"]
    # killed between the two renames of the fallback swap: the old folder is put back
    os.rename(out, tmp_path / f".out.old-{dead}-0badc0de")
    outputs.tidy(out)
    assert (out / "a.txt").read_text() == "current"


def _dead_pid() -> int:
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def test_the_two_rename_swap_is_used_where_exchange_is_not(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("old")
    with replacing(out, command="test", ours=_ours) as run:
        (run.path / "b.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["b.txt", MANIFEST]
    assert _siblings(out) == []


def test_exchange_swaps_two_folders_atomically_on_linux(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if outputs._exchange(a, b):
        assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"
    else:  # not Linux, or a file system without RENAME_EXCHANGE
        assert (a / "x").read_text() == "a"


# ------------------------------------------------------------------------- the command


@pytest.fixture
def fake_fit(monkeypatch):
    """fit() -> an offline estimate of the claims (no sampling), figures as stubs."""
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


def _estimate(out: Path, *extra: str, claims: Path = SEED_CSV) -> int:
    return main(["estimate", str(claims), "--out", str(out), "--quiet", *extra])


def test_estimate_refuses_a_folder_holding_other_files(tmp_path, fake_fit, capsys):
    out = tmp_path / "project"
    out.mkdir()
    (out / "notes.md").write_text("mine")
    assert _estimate(out) == 2
    err = capsys.readouterr().err
    assert f"error: {out} holds files this command did not write (notes.md)" in err
    assert "--force" in err and "nothing was written" in err
    assert sorted(p.name for p in out.iterdir()) == ["notes.md"]
    # --force writes beside them, file by file
    assert _estimate(out, "--force") == 0
    assert (out / "notes.md").read_text() == "mine" and (out / "estimate.json").is_file()
    files = json.loads((out / MANIFEST).read_text())["files"]
    assert "notes.md" not in files and "estimate.json" in files
    # a backtest's folder is not estimate's to replace, nor the other way round
    (tmp_path / "bt").mkdir()
    (tmp_path / "bt" / "backtest.csv").write_text("x")
    assert _estimate(tmp_path / "bt") == 2
    assert "(backtest.csv)" in capsys.readouterr().err


def test_the_cli_knows_every_figure_file_it_writes():
    from casualty_models.report.figures import PLOT_FILES

    assert {*PLOT_FILES, "drift.png"} <= set(FIGURE_FILES) <= ESTIMATE_FILES


def test_estimate_keeps_history_csv_and_update_adds_its_row_with_the_run(
    tmp_path, fake_fit, capsys, monkeypatch
):
    out = tmp_path / "out"
    assert _estimate(out) == 0
    claims = tmp_path / "claims.csv"
    claims.write_text(SEED_CSV.read_text(encoding="utf-8") + LATER, encoding="utf-8")
    assert main(["update", str(out), str(claims), "--quiet"]) == 0
    assert len(cm.read_claims(claims)) == 5
    rows = len(pd_read(out / "history.csv"))
    assert rows == 4  # two runs of two series
    # an update that fails while writing adds no row, and damages nothing
    before = _snapshot(out)
    import casualty_models.history

    def broken(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(casualty_models.history, "append_history", broken)
    assert main(["update", str(out), str(claims), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "previous outputs, as they were" in err
    assert _snapshot(out) == before and _siblings(out) == []
    monkeypatch.undo()


def pd_read(path: Path):
    import pandas as pd

    return pd.read_csv(path)


def test_a_full_disk_leaves_the_previous_outputs_intact(tmp_path, fake_fit, capsys, monkeypatch):
    out = tmp_path / "out"
    assert _estimate(out) == 0
    before = _snapshot(out)
    check_manifest(out)
    import casualty_models._atomic as atomic

    real = atomic.atomic_write_with
    calls = []

    def fill_up(path, writer):
        calls.append(Path(path).name)
        if len(calls) > 2:  # two files fit, the third does not
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, writer)

    monkeypatch.setattr(atomic, "atomic_write_with", fill_up)
    claims = tmp_path / "claims.csv"
    claims.write_text(SEED_CSV.read_text(encoding="utf-8") + LATER, encoding="utf-8")
    assert _estimate(out, claims=claims) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        f"error: cannot write the outputs into {out}: No space left on device: "
        f"{lines[0].rsplit(': ', 1)[-1]}",
        f"nothing was written; {out} holds its previous outputs, as they were",
    ]
    assert len(calls) == 3
    assert _snapshot(out) == before and _siblings(out) == []


@contextlib.contextmanager
def _read_only(folder: Path):
    """``folder`` made read-only: by its mode, or (for root, whom modes do not stop) by
    the immutable attribute."""
    folder.chmod(0o555)
    immutable = False
    try:
        probe = folder / ".probe"
        try:
            probe.write_text("x")
        except OSError:
            pass
        else:  # root: the mode is not enough
            probe.unlink()
            done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
            if done.returncode != 0:
                pytest.skip(f"cannot make a folder read-only here: {done.stderr!r}")
            immutable = True
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_a_read_only_folder_is_one_clear_error_before_any_fit(tmp_path, fake_fit, capsys):
    out = tmp_path / "out"
    assert _estimate(out) == 0
    before = _snapshot(out)
    capsys.readouterr()
    with _read_only(out):
        assert _estimate(out, "--seed", "2") == 1
        err = capsys.readouterr().err
        assert err.startswith(f"error: cannot write into {out}: ")
        assert err.strip().splitlines()[-1] == "nothing was written"
        assert "sampling" not in err and "Traceback" not in err
    assert _snapshot(out) == before
    # a read-only parent: the new folder cannot be made beside the old one
    parent = tmp_path / "ro"
    parent.mkdir()
    with _read_only(parent):
        assert _estimate(parent / "out") == 1
        err = capsys.readouterr().err
        assert f"error: cannot write beside {parent / 'out'}, in {parent}: " in err
        assert "--force" in err and "Traceback" not in err
    assert list(parent.iterdir()) == []


def test_a_path_that_is_a_file(tmp_path, fake_fit, capsys):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert _estimate(a_file) == 2
    assert f"--out {a_file} exists and is not a folder" in capsys.readouterr().err
    assert _estimate(a_file / "out") == 2
    err = capsys.readouterr().err
    assert f"error: --out {a_file / 'out'}: {a_file} is a file, not a folder" in err
    assert a_file.read_text() == "x"
    # history's plot file, asked to go where a folder is
    out = tmp_path / "out"
    assert _estimate(out) == 0
    assert main(["history", str(out), "--out", str(out)]) == 1  # no history.csv yet
    assert "holds no history.csv" in capsys.readouterr().err


def test_ctrl_c_while_writing_says_what_the_folder_holds(tmp_path, fake_fit, capsys, monkeypatch):
    out = tmp_path / "out"
    assert _estimate(out) == 0
    before = _snapshot(out)
    capsys.readouterr()
    from casualty_models import report

    real_report = report.write_report

    def ctrl_c(*args, **kwargs):  # Ctrl-C while the report is written
        os.kill(os.getpid(), signal.SIGINT)
        return real_report(*args, **kwargs)

    monkeypatch.setattr(report, "write_report", ctrl_c)
    assert _estimate(out, "--seed", "3") == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"interrupted: {out} is as it was before this run (its previous outputs, complete)"
    ]
    assert _snapshot(out) == before and _siblings(out) == []

    # Ctrl-C after the last file, before the swap is protected: the new folder goes
    monkeypatch.setattr(report, "write_report", real_report)
    real_hold = outputs._holding_sigint

    @contextlib.contextmanager
    def late_hold():
        os.kill(os.getpid(), signal.SIGINT)
        with real_hold() as held:
            yield held

    monkeypatch.setattr(outputs, "_holding_sigint", late_hold)
    assert _estimate(out, "--seed", "3") == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"interrupted: {out} is as it was before this run (its previous outputs, complete)"
    ]
    assert _snapshot(out) == before and _siblings(out) == []
    monkeypatch.setattr(outputs, "_holding_sigint", real_hold)

    # Ctrl-C during the swap is held until the swap is done: the new run is in place
    real_swap = outputs._swap

    def swap_with_ctrl_c(staging: Path, target: Path, token: str) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        real_swap(staging, target, token)

    monkeypatch.setattr(outputs, "_swap", swap_with_ctrl_c)
    monkeypatch.setattr(report, "write_report", real_report)
    assert _estimate(out, "--seed", "3") == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"interrupted: the new run is complete in {out}"]
    assert check_manifest(out)["claims_fingerprint"] == cm.read_claims(SEED_CSV).fingerprint
    assert _snapshot(out) != before and _siblings(out) == []
