"""The output folder of ``estimate``, ``update`` and ``backtest``: the files each writes,
and the checks made before any work (not ours, read-only, under a file)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from casualty_models.cli.common import EXIT_BAD_INPUT, EXIT_USAGE, stderr

TRUST_FILES: tuple[str, ...] = ("sensitivity.csv", "leave_one_source_out.csv")
"""The tables ``estimate --trust`` writes (removed by a run without it: see write_outputs)."""


CHANGE_FILES: tuple[str, ...] = ("changes.json", "changes.csv", "previous.nc")
"""What a comparison with a previous estimate writes (removed by a run without one)."""


FIGURE_FILES: tuple[str, ...] = tuple(
    f"{stem}.{fmt}"
    for stem in ("panels", "claims", "timeline", "sources", "drift")
    for fmt in ("png", "svg", "pdf")
)
"""The figure files ``estimate`` and ``update`` may write (report.figures.save_plots)."""


ESTIMATE_FILES: frozenset[str] = frozenset(
    (
        "estimate.json",
        "estimate.nc",
        "summary.csv",
        "report.html",
        "history.csv",
        "history.png",
        *TRUST_FILES,
        *CHANGE_FILES,
        *FIGURE_FILES,
    )
)
"""Every file ``estimate`` and ``update`` write into an output folder (and ``history``
beside them): a folder holding anything else is not theirs to replace."""


BACKTEST_FILES: frozenset[str] = frozenset(("backtest.csv", "backtest.png"))
"""Every file ``backtest`` writes into its output folder."""


def files_of(command: str) -> Callable[[str], bool]:
    """Whether a file name is one ``command`` writes into its output folder."""
    names = BACKTEST_FILES if command == "backtest" else ESTIMATE_FILES
    return names.__contains__


def check_out(args: argparse.Namespace) -> int | None:
    """Before any work: refuse an --out folder that is not ours (unless --force), and one
    that cannot be written (a file in its path, a read-only folder); the exit code after
    saying why, or None."""
    from casualty_models.outputs import NotOurs, foreign_entries, tidy

    out: Path = args.out
    existing = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        stderr(f"error: --out {out}: {existing} is a file, not a folder", "nothing was written")
        return EXIT_USAGE
    tidy(out)  # partial folders of runs killed earlier
    if out.is_dir() and not args.force:
        foreign = foreign_entries(out, files_of(args.command))
        if foreign:
            stderr(f"error: {NotOurs(out, foreign)}", "nothing was written")
            return EXIT_USAGE
    # a run writes a new folder beside --out and swaps it in (with --force: into --out);
    # try both before any work, so that a read-only folder fails now, not after the fit
    probes = [("into", out)] if out.is_dir() else []
    if not (args.force and out.is_dir()):
        probes.append(("beside", next((p for p in out.parents if p.exists()), Path("."))))
    for where, folder in probes:
        try:
            import tempfile

            name = f".{out.name}.partial-{os.getpid()}-probe"
            os.rmdir(tempfile.mkdtemp(prefix=name, dir=folder))
        except OSError as err:
            reason = err.strerror or str(err)
            if where == "into":
                stderr(f"error: cannot write into {out}: {reason}", "nothing was written")
            else:
                stderr(
                    f"error: cannot write beside {out}, in {folder}: {reason}; a run writes "
                    f"its new folder there and swaps it in (--force writes into {out} "
                    "itself, file by file)",
                    "nothing was written",
                )
            return EXIT_BAD_INPUT
    return None
