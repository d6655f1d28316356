"""Writing an estimate's outputs: every file into a new folder swapped in whole
(:mod:`casualty_models.outputs`)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from casualty_models.cli.folder import ESTIMATE_FILES, TRUST_FILES, files_of

if TYPE_CHECKING:
    import pandas as pd

    from casualty_models.compare import Comparison
    from casualty_models.estimate import Estimate


def write_outputs(
    est: Estimate,
    out: Path,
    *,
    sensitivity: pd.DataFrame | None = None,
    loso: pd.DataFrame | None = None,
    comparison: Comparison | None = None,
    previous: Path | None = None,
    history: bool = False,
    series: Sequence[str] | None = None,
    formats: Sequence[str] = ("png",),
    force: bool = False,
    command: str = "estimate",
) -> list[Path]:
    """Write every output file into a new folder and swap it in place of ``out``
    (:mod:`casualty_models.outputs`): ``out`` holds the previous run or this one, whole.

    ``series`` ("side|category") focuses the report's summary and panels; ``formats``
    are the figure files' formats.

    ``sensitivity`` and ``loso`` (from ``--trust``) are written as CSV and add the trust
    section to the report; ``comparison`` (with the estimate read from ``previous``)
    writes changes.json and changes.csv and the report's section on what changed, and
    keeps the previous estimate as previous.nc when it is the one being replaced (an
    update in place). ``history`` writes history.csv: the history so far with this run
    added, so the row arrives with the run. A run without it keeps the history.csv of
    the folder it replaces (a log of runs). ``force`` writes into ``out`` itself, file by
    file, and removes the files of ours this run did not write (history.csv aside).
    """
    from casualty_models.outputs import replacing

    old_history = None
    if history and previous is not None:
        old_history = _history_so_far(previous, comparison)
    nc = out / "estimate.nc"
    in_place = previous is not None and nc.exists() and previous.resolve() == nc.resolve()
    with replacing(out, command=command, ours=files_of(command), force=force) as run:
        written = _write_files(
            est,
            run.path,
            out=out,
            sensitivity=sensitivity,
            loso=loso,
            comparison=comparison,
            previous=previous,
            in_place=in_place,
            history=old_history if history else None,
            series=series,
            formats=formats,
        )
        if not history:
            run.keep("history.csv")
        if run.in_place:  # --force: a file of ours this run did not write is stale
            names = {p.name for p in written} | {"history.csv"}
            for name in sorted(ESTIMATE_FILES - names):
                (out / name).unlink(missing_ok=True)
        run.meta.update(
            claims_fingerprint=est.claims.fingerprint,
            as_of=est.settings.as_of.isoformat(),
        )
    return [out / p.name for p in written]


def _write_files(
    est: Estimate,
    dest: Path,
    *,
    out: Path,
    sensitivity: pd.DataFrame | None,
    loso: pd.DataFrame | None,
    comparison: Comparison | None,
    previous: Path | None,
    in_place: bool,
    history: pd.DataFrame | None,
    series: Sequence[str] | None,
    formats: Sequence[str],
) -> list[Path]:
    """The files of one run, written into ``dest``; the JSON goes last."""
    from casualty_models._atomic import atomic_write, atomic_write_with
    from casualty_models._cells import frame_to_csv

    # never open a window: plots are files
    os.environ.setdefault("MPLBACKEND", "Agg")
    from casualty_models.report import save_plots, write_report
    from casualty_models.report.figures import shared_renders

    written: list[Path] = []
    if comparison is not None and previous is not None and in_place:
        import shutil

        source = previous  # the estimate this run replaces, kept beside it
        written.append(
            atomic_write_with(dest / "previous.nc", lambda tmp: shutil.copyfile(source, tmp))
        )
    _hook("estimate.nc")
    est.save(dest / "estimate.nc")
    written.append(dest / "estimate.nc")
    _hook("summary.csv")
    written.append(atomic_write(dest / "summary.csv", frame_to_csv(est.summary())))
    for name, table in zip(TRUST_FILES, (sensitivity, loso), strict=True):
        if table is not None:
            written.append(atomic_write(dest / name, frame_to_csv(table)))
    if comparison is not None:
        written.append(atomic_write(dest / "changes.csv", comparison.to_csv()))
    _hook("figures")
    with shared_renders():  # the report reuses the plot files' drawings
        written.extend(save_plots(est, dest, formats=formats, series=series))
        _hook("report.html")
        written.append(
            write_report(
                est,
                dest / "report.html",
                sensitivity=sensitivity,
                loso=loso,
                series=series,
                comparison=comparison,
            )
        )
    if history is not None:
        from casualty_models.history import append_history

        _hook("history.csv")
        append_history(dest / "history.csv", est, previous=history, comparison=comparison)
        written.append(dest / "history.csv")
    if comparison is not None:
        data = comparison.to_dict()
        # relative to this folder (a file beside it: "previous.nc"), never absolute
        shown = "previous.nc" if in_place or previous is None else _relative(previous, out)
        data["previous_estimate"] = shown
        text = json.dumps(data, indent=2, allow_nan=False)
        written.append(atomic_write(dest / "changes.json", text + "\n"))
    _hook("estimate.json")
    js = dest / "estimate.json"
    est.to_json(js)
    written.append(js)
    _hook("done")
    return written


def _relative(path: Path, folder: Path) -> str:
    """``path`` as seen from ``folder`` (e.g. ``../war/estimate.nc``); its bare name
    where no relative path leads there (another drive)."""
    try:
        return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(folder))).as_posix()
    except ValueError:
        return path.name


WRITE_DELAY_ENV = "CASUALTY_MODELS_TEST_WRITE_DELAY"
"""A test hook: seconds to sleep before each stage of writing the outputs, printing the
stage to stderr (``tests/test_kill.py`` kills the CLI at known moments of the writing).
Unset, the writing does not wait."""


def _hook(stage: str) -> None:
    delay = os.environ.get(WRITE_DELAY_ENV)
    if delay:
        print(f"writing stage: {stage}", file=sys.stderr, flush=True)
        time.sleep(float(delay))


def _history_so_far(previous: Path, comparison: Comparison | None) -> pd.DataFrame:
    """The history the new run continues: PREVIOUS_OUT_DIR's history.csv, ending with the
    previous estimate's run (added, dated by its file, when the history lacks it)."""
    import datetime as dt

    import pandas as pd

    from casualty_models.history import history_rows, read_history

    old = comparison.old if comparison is not None else None
    path = previous.parent / "history.csv"
    frame = read_history(path) if path.is_file() else None
    if old is None:
        return frame if frame is not None else pd.DataFrame()
    last_fp = None if frame is None or frame.empty else frame["claims_fingerprint"].iloc[-1]
    last_as_of = None if frame is None or frame.empty else frame["as_of"].iloc[-1].date()
    if last_fp == old.claims.fingerprint and last_as_of == old.settings.as_of:
        return frame  # type: ignore[return-value]
    made = dt.datetime.fromtimestamp(previous.stat().st_mtime, tz=dt.UTC)
    run = 1 if frame is None or frame.empty else int(frame["run"].max()) + 1
    rows = history_rows(old, run=run, run_at=made)
    return rows if frame is None or frame.empty else pd.concat([frame, rows], ignore_index=True)
