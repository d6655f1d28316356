"""What every benchmark script shares: the machine description, timestamps, logging.

The scripts run as ``python benchmarks/<script>.py``, so this folder is on ``sys.path``
and they import this module as ``_common``. Nothing here imports PyMC or the library:
``bench_seed.py`` times those imports in fresh processes and must not pay for them itself.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("numpy", "pymc", "pytensor", "arviz")


def log(msg: str) -> None:
    """Progress on stderr, so stdout stays the script's result."""
    print(msg, file=sys.stderr, flush=True)


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def usable_cores() -> int:
    """Cores this process may run on (its affinity), not all the machine has."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 0


def git(*args: str) -> str:
    """``git ARGS`` in the repository; its stdout, or "" if git fails or is missing."""
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return ""
    return done.stdout if done.returncode == 0 else ""


def machine_info() -> dict[str, Any]:
    """The machine, the versions that matter for speed, and the library's commit.

    ``library_changes`` lists files under ``casualty_models/`` that differ from the
    commit, so a number measured on uncommitted code says so.
    """
    changed = git("status", "--porcelain", "--", "casualty_models")
    return {
        "cores": usable_cores(),
        "cpu": cpu_model(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        **{pkg: importlib.metadata.version(pkg) for pkg in PACKAGES},
        "commit": git("rev-parse", "--short", "HEAD").strip() or "unknown",
        "library_changes": [line[3:] for line in changed.splitlines()],
    }


def describe_machine(m: dict[str, Any]) -> str:
    """One line of prose for a :func:`machine_info` record ("?" for what it lacks)."""
    changes = m.get("library_changes") or []
    dirty = f" with uncommitted changes to {', '.join(changes)}" if changes else ""
    return (
        f"{m.get('cores', '?')} usable cores, {m.get('cpu', '?')}, {m.get('os', '?')}; "
        f"Python {m.get('python', '?')}, NumPy {m.get('numpy', '?')}, "
        f"PyMC {m.get('pymc', '?')}, PyTensor {m.get('pytensor', '?')}, "
        f"ArviZ {m.get('arviz', '?')}; commit {m.get('commit', '?')}{dirty}"
    )
