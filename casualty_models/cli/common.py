"""What every command shares: exit codes, messages on standard error, progress lines,
reading claim files, and library messages said as the command line says them."""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import sys
import time
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casualty_models.claims import ClaimSet

EXIT_OK = 0
EXIT_BAD_INPUT = 1
EXIT_USAGE = 2
EXIT_NOT_CONVERGED = 3
EXIT_MODEL_CHECK = 4
EXIT_MOVED = 5
EXIT_INTERRUPTED = 130


CLAIMS_HELP = "claims files (.csv, .yaml or .yml); several files are fitted together"


NO_START = (
    "no claim gives a period_start, so `estimate` and `backtest` need --start YYYY-MM-DD: "
    "the day counting began (e.g. the first day of the war)"
)


def stderr(*lines: str) -> None:
    for line in lines:
        print(line, file=sys.stderr)


class Progress:
    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.t0:6.1f}s] {message}", file=sys.stderr, flush=True)


def read_claims_files(paths: list[str], fmt: str | None = None) -> ClaimSet | int:
    """Read and validate claim files; on failure print every problem and return 1.

    Every file is checked before giving up, so one run lists the problems of all of
    them; several files are then combined and checked across files (e.g. duplicates).
    """
    from casualty_models.claims import ClaimsError
    from casualty_models.readers import read_claims

    def report(err: ClaimsError, where: str) -> None:
        for problem in err.problems:
            stderr(str(problem))
        n = len(err.problems)
        stderr(f"{where}: {n} problem{'s' if n != 1 else ''} found")

    sets, failed = [], False
    for path in paths:
        try:
            with package_warnings():  # what a reader set aside, as warning lines
                sets.append(read_claims(path, format=fmt))
        except ClaimsError as err:
            report(err, path)
            failed = True
        except FileNotFoundError:
            stderr(f"error: claims file not found: {path}")
            failed = True
        except OSError as err:
            stderr(f"error: cannot read claims file {path}: {err.strerror or err}")
            failed = True
    if failed:
        return EXIT_BAD_INPUT
    try:
        return sets[0].add(*sets[1:]) if len(sets) > 1 else sets[0]
    except ClaimsError as err:
        report(err, " + ".join(paths))
        return EXIT_BAD_INPUT


@contextlib.contextmanager
def pymc_logging(*, quiet: bool) -> Iterator[None]:
    """Silence PyMC's own progress log lines while ``quiet``; restore the level after."""
    logger = logging.getLogger("pymc")
    old = logger.level
    if quiet:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(old)


@contextlib.contextmanager
def package_warnings(*ignore: type[Warning]) -> Iterator[None]:
    """Print this package's warnings as plain ``warning: …`` lines (each once).

    ``ignore`` (the ConvergenceWarning and ModelCheckWarning, reported with remedies by
    the caller) is dropped; warnings from other libraries are passed on to the normal
    warning filters.
    """
    recorded: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for category in ignore:
                warnings.simplefilter("ignore", category)
            try:
                yield
            finally:
                recorded = list(caught)
    finally:  # outside the recording context, and also when the body raised
        seen: set[str] = set()
        for w in recorded:
            if w.category.__module__.split(".")[0] == "casualty_models":
                if str(w.message) not in seen:
                    seen.add(str(w.message))
                    stderr(f"warning: {w.message}")
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


_PYTHON_ARGUMENT = re.compile(
    r"(?:fit\(\.\.\., )?\b(draws|tune|chains|target_accept|sampler|max_attempts|as_of|"
    r"as_reported_on|start)=['\"]?([\w.:-]+)['\"]?\)?"
)


def as_cli(text: str) -> str:
    """A library message as the command line says it: ``fit(..., draws=3000)`` becomes
    ``--draws 3000``, ``cm.Priors`` becomes ``--priors FILE``."""
    text = _PYTHON_ARGUMENT.sub(lambda m: f"--{m[1].replace('_', '-')} {m[2]}", text)
    return re.sub(r"cm\.Priors(\([^)]*\))?", "--priors FILE", text)


def fit_default(name: str) -> Any:
    import inspect

    from casualty_models.fitting import fit

    return inspect.signature(fit).parameters[name].default


def sampler_options(args: argparse.Namespace) -> dict[str, Any]:
    """The fit() keywords of the options given (others keep fit()'s defaults)."""
    names = ("target_accept", "sampler", "max_attempts")
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}
