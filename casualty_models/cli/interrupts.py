"""Ctrl-C: one line saying what the output folder holds, never a traceback.

PyMC's sampler catches ``KeyboardInterrupt`` (it returns the draws so far), so while a
command runs, SIGINT raises :class:`Stop` instead, which it does not catch. Worker
processes leave Ctrl-C to the command, which ends them."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from casualty_models.outputs import replaced


class Stop(BaseException):
    """Ctrl-C, as the command raises it: not a KeyboardInterrupt, which PyMC's sampler
    catches (it returns the draws so far), so that Ctrl-C stops the command."""


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT raises :class:`Stop` in the block (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Stop

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def kept_line(args: argparse.Namespace) -> str:
    """What an output folder holds after a run stopped before replacing it."""
    out = getattr(args, "out", None)
    if args.command not in ("estimate", "update", "backtest") or out is None:
        return "nothing was written"
    if getattr(args, "written", False) or replaced(out):
        return f"the new run is complete in {out}"
    if Path(out).is_dir() and any(Path(out).iterdir()):
        return f"nothing was written; {out} holds its previous outputs, as they were"
    return "nothing was written"


def stop_pool(pool: Any) -> None:
    """On Ctrl-C: end a process pool's workers now rather than after their fits."""
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        with contextlib.suppress(Exception):
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def quiet_worker() -> None:
    """A process pool's worker leaves Ctrl-C to the command (no traceback per worker)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
