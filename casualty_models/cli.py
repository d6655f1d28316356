"""The ``casualty-models`` command: validate a claims file, or fit it and write outputs.

Exit codes: 0 success; 1 bad or missing claims input (nothing written), a previous
estimate that cannot be read, or the outputs could not be written; 2 bad command-line
arguments; 3 the fit ran and the outputs were written, but the sampler's convergence
checks failed; 4 the fit converged and the outputs were written, but the model check
failed (the estimate does not explain the claims); 5 (``--fail-if-moved PCT``, with
``update`` or ``estimate --compare``) the fit passed its checks and the outputs were
written, but a headline moved by more than PCT percent since the previous estimate;
130 interrupted. 3 and 4 take precedence over 5: a move measured on a failed fit means
little.

Importing this module is light: PyMC, ArviZ and matplotlib load only when ``estimate``
runs.

Over 500 lines because it is one argparse parser and its commands (validate, priors,
estimate, update, history, backtest) sharing one exit-code contract; each command is a
short function that parses, calls the library and maps the outcome to an exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import logging
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from casualty_models._format import level_pct, people, signed_pct
from casualty_models._version import __version__

if TYPE_CHECKING:
    import pandas as pd

    from casualty_models.claims import ClaimSet
    from casualty_models.compare import Comparison
    from casualty_models.estimate import Estimate
    from casualty_models.model.priors import Priors

EXIT_OK = 0
EXIT_BAD_INPUT = 1
EXIT_USAGE = 2
EXIT_NOT_CONVERGED = 3
EXIT_MODEL_CHECK = 4
EXIT_MOVED = 5
EXIT_INTERRUPTED = 130

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TRUST_FILES: tuple[str, ...] = ("sensitivity.csv", "leave_one_source_out.csv")
"""The tables ``estimate --trust`` writes (removed by a run without it: see _write_outputs)."""
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


# --------------------------------------------------------------------- argument types


def _date(text: str) -> dt.date:
    if not _ISO_DATE.match(text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid date: {err}") from None


def _int_at_least(minimum: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors raise instead of exiting, so main() returns a code."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="casualty-models",
        description="Honest Bayesian estimates of true casualty counts from biased claims.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    val = sub.add_parser("validate", help="check a claims file and report every problem")
    val.add_argument("claims", metavar="CLAIMS", nargs="+", help=CLAIMS_HELP)
    _format(val)

    est = sub.add_parser(
        "estimate",
        help="fit the model and write estimate.json, summary.csv, plots, report.html, estimate.nc",
    )
    est.add_argument("claims", metavar="CLAIMS", nargs="+", help=CLAIMS_HELP)
    est.add_argument(
        "--as-of",
        type=_date,
        metavar="DATE",
        help="date of the headline estimate (default: latest claim)",
    )
    est.add_argument(
        "--as-reported-on",
        type=_date,
        metavar="DATE",
        help="use only claims published by DATE (a vintage); also the default --as-of",
    )
    est.add_argument(
        "--trust",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also measure how far the answer rests on each source type's bias prior "
        "and on each source (refits the model several times; see docs/cli.md); writes "
        "sensitivity.csv, leave_one_source_out.csv and a trust section in report.html "
        "(default: off)",
    )
    est.add_argument(
        "--compare",
        metavar="PREVIOUS",
        help="also say what changed since a previous estimate (its output folder, or its "
        "estimate.nc): writes changes.json, changes.csv and a section in report.html",
    )
    _change_options(est)
    _focus_options(est)
    _common(est, out_help="output folder (default: out/)")

    upd = sub.add_parser(
        "update",
        help="refit a previous estimate with the claims as they are now, and say what "
        "changed and why (changes.json, changes.csv, history.csv)",
        description="Refit the estimate in PREVIOUS_OUT_DIR with CLAIMS (the whole claim "
        "set as it is now), compare, and write the outputs (by default into "
        "PREVIOUS_OUT_DIR, keeping the estimate it replaces as previous.nc). Every "
        "setting (--start, --priors, --seed, --draws, --tune, --chains, --target-accept, "
        "--sampler, --max-attempts) defaults to the previous run's, not to the defaults "
        "shown below; --as-of to the latest claim. See docs/cli.md.",
    )
    upd.add_argument(
        "previous",
        metavar="PREVIOUS_OUT_DIR",
        help="the output folder of an earlier estimate or update (holding estimate.nc)",
    )
    upd.add_argument("claims", metavar="CLAIMS", nargs="+", help=CLAIMS_HELP + " (the whole set)")
    upd.add_argument(
        "--as-of",
        type=_date,
        metavar="DATE",
        help="date of the headline estimate (default: latest claim)",
    )
    upd.add_argument(
        "--as-reported-on",
        type=_date,
        metavar="DATE",
        help="use only claims published by DATE (a vintage); also the default --as-of",
    )
    _change_options(upd)
    _focus_options(upd)
    _common(upd, out_help="output folder (default: PREVIOUS_OUT_DIR itself)")
    # every setting defaults to the previous run's: None means "not given"
    upd.set_defaults(seed=None, out=None)

    hist = sub.add_parser(
        "history",
        help="plot how the estimate moved from update to update (history.png)",
    )
    hist.add_argument("dir", metavar="DIR", help="an output folder holding history.csv")
    hist.add_argument(
        "--series",
        metavar="SIDE|CATEGORY",
        help="the series to plot (default: every series estimable in some run)",
    )
    hist.add_argument(
        "--by",
        choices=("published", "run"),
        default="published",
        help="x axis: the latest publication date among each run's claims (default), or "
        "the date the run was made",
    )
    hist.add_argument(
        "--out", type=Path, metavar="FILE", help="the plot file (default: DIR/history.png)"
    )

    bt = sub.add_parser(
        "backtest",
        help="refit on past dates with the claims published by then; writes backtest.csv/.png",
    )
    bt.add_argument("claims", metavar="CLAIMS", nargs="+", help=CLAIMS_HELP)
    bt.add_argument(
        "--dates",
        type=_date,
        nargs="+",
        required=True,
        metavar="DATE",
        help="vintage dates (YYYY-MM-DD ...)",
    )
    bt.add_argument(
        "--workers",
        type=_int_at_least(1),
        metavar="N",
        help="parallel fits on this machine (default: one per core)",
    )
    _common(bt, out_help="output folder (default: out/)")

    pri = sub.add_parser(
        "priors",
        help="print the bias priors as an annotated YAML file to edit and pass to --priors",
    )
    pri.add_argument(
        "--preset",
        help="start from this preset: war-military (default), civilian, disaster (docs/priors.md)",
    )
    return parser


CLAIMS_HELP = "claims files (.csv, .yaml or .yml); several files are fitted together"


def _pct(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a percentage of at least 0, got {text}")
    return value


def _focus_options(cmd: argparse.ArgumentParser) -> None:
    """The report's focus and the figure files' formats."""
    cmd.add_argument(
        "--series",
        nargs="+",
        metavar="SIDE|CATEGORY",
        help="the series the report's summary and panels.png focus on, e.g. russia|killed "
        "(default: killed on each side; the others go to the report's detail)",
    )
    cmd.add_argument(
        "--figure-format",
        nargs="+",
        choices=("png", "svg", "pdf"),
        default=["png"],
        metavar="FORMAT",
        help="formats of the figure files: png, svg, pdf (default: png)",
    )


def _unknown_series(args: argparse.Namespace, claims: ClaimSet) -> int | None:
    """EXIT_USAGE, having said why, when ``--series`` names a series no claim is about."""
    known = [f"{side}|{category}" for side, category in claims.series]
    unknown = [s for s in args.series or () if s not in known]
    if not unknown:
        return None
    _err(
        f"error: --series {' '.join(unknown)}: no claims about "
        f"{'it' if len(unknown) == 1 else 'them'}; the series are {', '.join(known)}",
        "nothing was written",
    )
    return EXIT_USAGE


def _change_options(cmd: argparse.ArgumentParser) -> None:
    """Options of the commands that compare with a previous estimate."""
    cmd.add_argument(
        "--fail-if-moved",
        type=_pct,
        metavar="PCT",
        help="exit with code 5 when a headline median moved by more than PCT percent since "
        "the previous estimate, naming the claims that moved it",
    )
    cmd.add_argument(
        "--attribution",
        choices=("auto", "reweight", "refit"),
        default="auto",
        help="how each changed claim's effect is measured: reweighting the posterior "
        "(PSIS) and refitting where k̂ > 0.7 (auto, the default), reweighting only, or "
        "a refit per changed claim",
    )


def _format(cmd: argparse.ArgumentParser) -> None:
    from casualty_models.readers import FORMATS

    cmd.add_argument(
        "--format",
        choices=sorted(FORMATS),
        help="read the files in another published layout, e.g. radford2023 (the PNAS "
        "replication data; see docs/peers.md); default: the claims layout, by suffix",
    )


def _common(cmd: argparse.ArgumentParser, *, out_help: str) -> None:
    """Options shared by the commands that fit."""
    _format(cmd)
    cmd.add_argument(
        "--start",
        type=_date,
        metavar="DATE",
        help="first day of the count (default: earliest period_start)",
    )
    cmd.add_argument(
        "--priors",
        metavar="FILE|PRESET",
        help="bias priors: a file written from `casualty-models priors`, or a preset "
        "(war-military, the default; civilian; disaster; see docs/priors.md)",
    )
    cmd.add_argument("--out", type=Path, default=Path("out"), metavar="DIR", help=out_help)
    cmd.add_argument(
        "--seed", type=_int_at_least(0), default=1, metavar="N", help="random seed (default: 1)"
    )
    cmd.add_argument(
        "--draws",
        type=_int_at_least(1),
        metavar="N",
        help="posterior draws per chain of the first run; more follow while the ESS is "
        "short of 400 (default: 500 with PyMC's sampler, 1000 with nutpie)",
    )
    cmd.add_argument(
        "--tune", type=_int_at_least(1), metavar="N", help="tuning steps per chain (default: 500)"
    )
    cmd.add_argument(
        "--chains", type=_int_at_least(1), metavar="N", help="number of chains (default: 2)"
    )
    cmd.add_argument(
        "--target-accept",
        type=float,
        metavar="P",
        help="NUTS target acceptance rate, in [0.5, 1) (default: 0.8); higher after divergences",
    )
    cmd.add_argument(
        "--sampler",
        choices=("auto", "pymc", "nutpie"),
        help="NUTS implementation (default: auto: PyMC for small models, else nutpie)",
    )
    cmd.add_argument(
        "--max-attempts",
        type=_int_at_least(1),
        metavar="N",
        help="sampler runs fit() may make when the convergence checks fail (default: 3; "
        "1: never continue)",
    )
    cmd.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    cmd.add_argument(
        "--force",
        action="store_true",
        help="write into an --out folder that holds files this command did not write, "
        "file by file, keeping them (by default such a folder is refused: a run replaces "
        "its output folder as a whole; see docs/cli.md)",
    )


# --------------------------------------------------------------------------- helpers


def _err(*lines: str) -> None:
    for line in lines:
        print(line, file=sys.stderr)


class _Progress:
    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.t0:6.1f}s] {message}", file=sys.stderr, flush=True)


def _read(paths: list[str], fmt: str | None = None) -> ClaimSet | int:
    """Read and validate claim files; on failure print every problem and return 1.

    Every file is checked before giving up, so one run lists the problems of all of
    them; several files are then combined and checked across files (e.g. duplicates).
    """
    from casualty_models.claims import ClaimsError
    from casualty_models.readers import read_claims

    def report(err: ClaimsError, where: str) -> None:
        for problem in err.problems:
            _err(str(problem))
        n = len(err.problems)
        _err(f"{where}: {n} problem{'s' if n != 1 else ''} found")

    sets, failed = [], False
    for path in paths:
        try:
            with _package_warnings():  # what a reader set aside, as warning lines
                sets.append(read_claims(path, format=fmt))
        except ClaimsError as err:
            report(err, path)
            failed = True
        except FileNotFoundError:
            _err(f"error: claims file not found: {path}")
            failed = True
        except OSError as err:
            _err(f"error: cannot read claims file {path}: {err.strerror or err}")
            failed = True
    if failed:
        return EXIT_BAD_INPUT
    try:
        return sets[0].add(*sets[1:]) if len(sets) > 1 else sets[0]
    except ClaimsError as err:
        report(err, " + ".join(paths))
        return EXIT_BAD_INPUT


@contextlib.contextmanager
def _pymc_logging(*, quiet: bool) -> Iterator[None]:
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
def _package_warnings(*ignore: type[Warning]) -> Iterator[None]:
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
                    _err(f"warning: {w.message}")
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _fit_default(name: str) -> Any:
    import inspect

    from casualty_models.fitting import fit

    return inspect.signature(fit).parameters[name].default


def _sampler_options(args: argparse.Namespace) -> dict[str, Any]:
    """The fit() keywords of the options given (others keep fit()'s defaults)."""
    names = ("target_accept", "sampler", "max_attempts")
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


# -------------------------------------------------------------------------- commands


def cmd_validate(args: argparse.Namespace) -> int:
    claims = _read(args.claims, args.format)
    if isinstance(claims, int):
        return claims
    print(
        f"OK: {len(claims)} claims, {len(claims.series)} series, "
        f"{len(claims.speakers)} speakers (fingerprint {claims.fingerprint[:8]}…)"
    )
    for note in claims.notes():
        print(f"note: {note}")
    if not any(c.period_start is not None for c in claims):
        print(f"note: {NO_START}")
    return EXIT_OK


NO_START = (
    "no claim gives a period_start, so `estimate` and `backtest` need --start YYYY-MM-DD: "
    "the day counting began (e.g. the first day of the war)"
)

_PYTHON_ARGUMENT = re.compile(
    r"(?:fit\(\.\.\., )?\b(draws|tune|chains|target_accept|sampler|max_attempts|as_of|"
    r"as_reported_on|start)=['\"]?([\w.:-]+)['\"]?\)?"
)


def _as_cli(text: str) -> str:
    """A library message as the command line says it: ``fit(..., draws=3000)`` becomes
    ``--draws 3000``, ``cm.Priors`` becomes ``--priors FILE``."""
    text = _PYTHON_ARGUMENT.sub(lambda m: f"--{m[1].replace('_', '-')} {m[2]}", text)
    return re.sub(r"cm\.Priors(\([^)]*\))?", "--priors FILE", text)


def cmd_priors(args: argparse.Namespace) -> int:
    from casualty_models.model.priors_file import dump_priors

    try:
        print(dump_priors(preset=args.preset), end="")
    except ValueError as err:
        _err(f"error: {err}")
        return EXIT_USAGE
    return EXIT_OK


def _priors(args: argparse.Namespace) -> Priors | int | None:
    """The settings of ``--priors`` (None: the defaults), or an exit code after saying
    what is wrong with the file, every problem with its line."""
    if args.priors is None:
        return None
    from casualty_models.model.priors_file import PriorsFileError, priors_from

    try:
        return priors_from(args.priors)
    except PriorsFileError as err:
        _err(*err.problems, f"{args.priors}: {len(err.problems)} problem(s) found")
        return EXIT_BAD_INPUT
    except (ValueError, OSError) as err:
        _err(f"error: --priors: {err}")
        return EXIT_USAGE


def _ours(command: str) -> Callable[[str], bool]:
    """Whether a file name is one ``command`` writes into its output folder."""
    names = BACKTEST_FILES if command == "backtest" else ESTIMATE_FILES
    return names.__contains__


def _check_out(args: argparse.Namespace) -> int | None:
    """Before any work: refuse an --out folder that is not ours (unless --force), and one
    that cannot be written (a file in its path, a read-only folder); the exit code after
    saying why, or None."""
    from casualty_models.outputs import NotOurs, foreign_entries, tidy

    out: Path = args.out
    existing = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        _err(f"error: --out {out}: {existing} is a file, not a folder", "nothing was written")
        return EXIT_USAGE
    tidy(out)  # partial folders of runs killed earlier
    if out.is_dir() and not args.force:
        foreign = foreign_entries(out, _ours(args.command))
        if foreign:
            _err(f"error: {NotOurs(out, foreign)}", "nothing was written")
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
                _err(f"error: cannot write into {out}: {reason}", "nothing was written")
            else:
                _err(
                    f"error: cannot write beside {out}, in {folder}: {reason}; a run writes "
                    f"its new folder there and swaps it in (--force writes into {out} "
                    "itself, file by file)",
                    "nothing was written",
                )
            return EXIT_BAD_INPUT
    return None


def _begin(
    args: argparse.Namespace, *, needs_start: bool = True
) -> tuple[_Progress, ClaimSet, Priors | None] | int:
    """Checks shared by the commands that fit: the output folder, the priors, the claims
    (and a start date, unless the caller has one: ``needs_start`` False)."""
    if args.out.exists() and not args.out.is_dir():
        _err(f"error: --out {args.out} exists and is not a folder")
        return EXIT_USAGE
    refused = _check_out(args)
    if refused is not None:
        return refused
    priors = _priors(args)
    if isinstance(priors, int):
        _err("nothing was written")
        return priors
    progress = _Progress(args.quiet)
    progress("reading claims…")
    claims = _read(args.claims, args.format)
    if isinstance(claims, int):
        _err("nothing was written")
        return claims
    if needs_start and args.start is None and not any(c.period_start is not None for c in claims):
        _err(f"error: {NO_START}", "nothing was written")
        return EXIT_USAGE
    return progress, claims, priors


def cmd_estimate(args: argparse.Namespace) -> int:
    if args.start is not None and args.as_of is not None and args.as_of < args.start:
        _err(f"error: --as-of {args.as_of} is before --start {args.start}")
        return EXIT_USAGE
    if args.fail_if_moved is not None and args.compare is None:
        _err("error: --fail-if-moved needs --compare PREVIOUS (or use `update`)")
        return EXIT_USAGE
    previous = None
    if args.compare is not None:
        found = _previous(args.compare)
        if isinstance(found, int):
            return found
        previous = found
    begun = _begin(args)
    if isinstance(begun, int):
        return begun
    progress, claims, priors = begun
    bad = _unknown_series(args, claims)
    if bad is not None:
        return bad
    kwargs = {
        "as_of": args.as_of,
        "start": args.start,
        "as_reported_on": args.as_reported_on,
        "draws": args.draws if args.draws is not None else _fit_default("draws"),
        "tune": args.tune if args.tune is not None else _fit_default("tune"),
        "chains": args.chains if args.chains is not None else _fit_default("chains"),
        "random_seed": args.seed,
        "priors": priors,
        **_sampler_options(args),
    }
    return _fit_and_write(args, progress, claims, kwargs, previous=previous)


def cmd_update(args: argparse.Namespace) -> int:
    """Refit the previous estimate's settings with the claims as they are now; say what
    changed and why; append the run to history.csv."""
    previous = _previous(args.previous)
    if isinstance(previous, int):
        return previous
    prev_nc, old = previous
    if args.out is None:
        args.out = prev_nc.parent
    s = old.settings
    if args.start is not None and args.as_of is not None and args.as_of < args.start:
        _err(f"error: --as-of {args.as_of} is before --start {args.start}")
        return EXIT_USAGE
    begun = _begin(args, needs_start=False)
    if isinstance(begun, int):
        return begun
    progress, claims, priors = begun
    bad = _unknown_series(args, claims)
    if bad is not None:
        return bad
    given = _sampler_options(args)
    kwargs = {
        "as_of": args.as_of,
        "start": args.start if args.start is not None else s.start,
        "as_reported_on": args.as_reported_on,
        "draws": args.draws if args.draws is not None else s.draws,
        "tune": args.tune if args.tune is not None else s.tune,
        "chains": args.chains if args.chains is not None else s.chains,
        "random_seed": args.seed if args.seed is not None else s.random_seed,
        "priors": priors if priors is not None else s.priors,
        "target_accept": given.get("target_accept", s.target_accept),
        "sampler": given.get("sampler", s.sampler),
        "max_attempts": given.get("max_attempts", s.max_attempts),
    }
    progress(
        f"previous estimate: as of {s.as_of}, {len(old.claims)} claims "
        f"({prev_nc}); refitting with its settings"
    )
    return _fit_and_write(args, progress, claims, kwargs, previous=previous, update=True)


def _previous(where: str) -> tuple[Path, Estimate] | int:
    """The previous estimate of ``--compare`` / ``update``: a folder holding estimate.nc,
    or the .nc file; on failure say why and return the exit code."""
    path = Path(where)
    if not path.exists():
        from casualty_models.outputs import tidy

        tidy(path)  # a folder a killed run left half-swapped is put back
    if path.is_dir():
        nc = path / "estimate.nc"
        if not nc.is_file():
            _err(
                f"error: {path} holds no estimate.nc: give the --out folder of an earlier "
                "`casualty-models estimate` or `update` run (or its estimate.nc)",
                "nothing was written",
            )
            return EXIT_BAD_INPUT
    elif path.is_file():
        nc = path
    else:
        _err(f"error: previous estimate not found: {path}", "nothing was written")
        return EXIT_BAD_INPUT
    from casualty_models.estimate import load

    try:
        return nc, load(nc)
    except (OSError, ValueError, KeyError) as err:
        _err(f"error: cannot read the previous estimate {nc}: {err}", "nothing was written")
        return EXIT_BAD_INPUT


def _fit_and_write(
    args: argparse.Namespace,
    progress: _Progress,
    claims: ClaimSet,
    kwargs: dict[str, Any],
    *,
    previous: tuple[Path, Estimate] | None = None,
    update: bool = False,
) -> int:
    """Fit, measure trust and changes as asked, write every output, print the summary;
    the exit code."""
    from casualty_models._backend import pymc
    from casualty_models.diagnostics import ConvergenceWarning, ModelCheckWarning
    from casualty_models.fitting import fit

    progress("loading PyMC…")
    pymc()
    chains, draws, tune = kwargs["chains"], kwargs["draws"], kwargs["tune"]
    if update and previous is not None:  # start where the previous fit's posterior was
        kwargs = {**kwargs, "warm_start": previous[1]}
    per_chain = f" × {draws} draws" if draws is not None else ""
    progress(
        f"sampling {chains} chain{'s' if chains != 1 else ''}{per_chain} "
        f"(after {tune} tuning steps)…"
    )
    with _package_warnings(ConvergenceWarning, ModelCheckWarning), _pymc_logging(quiet=args.quiet):
        try:
            est = fit(claims, **kwargs)
        except ValueError as err:  # fit() checks its arguments against the claims
            _err(f"error: {_as_cli(str(err))}", "nothing was written")
            return EXIT_USAGE

    sensitivity: pd.DataFrame | None = None
    loso: pd.DataFrame | None = None
    if getattr(args, "trust", False) and not est.diagnostics.ok:
        _err(
            "warning: --trust skipped: the fit failed its checks, so how far its answer "
            "moves would be measured against noise (see the remedies below)"
        )
    elif getattr(args, "trust", False):
        with (
            _package_warnings(ConvergenceWarning, ModelCheckWarning),
            _pymc_logging(quiet=args.quiet),
        ):
            sensitivity, loso = _trust(est, progress)

    comparison = None
    if previous is not None:
        with (
            _package_warnings(ConvergenceWarning, ModelCheckWarning),
            _pymc_logging(quiet=args.quiet),
        ):
            comparison = _changes(est, previous[1], args.attribution, progress)

    progress("writing outputs…")
    from casualty_models.outputs import NotOurs

    try:
        with _package_warnings(ConvergenceWarning, ModelCheckWarning):
            written = _write_outputs(
                est,
                args.out,
                sensitivity=sensitivity,
                loso=loso,
                comparison=comparison,
                previous=previous[0] if previous is not None else None,
                history=update,
                series=args.series,
                formats=args.figure_format,
                force=args.force,
                command=args.command,
            )
    except NotOurs as err:  # a file was put there during the fit
        _err(f"error: {err}", "nothing was written")
        return EXIT_USAGE
    except OSError as err:
        _err(f"error: cannot write the outputs into {args.out}: {err}", _kept(args))
        return EXIT_BAD_INPUT
    args.written = True  # from here on, Ctrl-C leaves the new run in place
    progress(f"done: {len(written)} files in {args.out}")

    _print_summary(est, args.out)
    moved = None
    if comparison is not None:
        print(f"What changed since the estimate as of {comparison.old.settings.as_of}:")
        for sentence in comparison.sentences():
            print(f"  {sentence}")
        if args.fail_if_moved is not None:
            moved = comparison.moved(args.fail_if_moved)
            for r in moved.to_dict(orient="records"):
                _err(
                    f"error: {r['side']} {r['category']} moved by "
                    f"{r['change_pct']:+.1f}% (more than {args.fail_if_moved:g}%) since "
                    f"the estimate as of {comparison.old.settings.as_of}"
                    + (
                        f"; moved most by {r['drivers']}"
                        if r["drivers"]
                        else "; no single changed claim moved it that way beyond Monte Carlo "
                        "noise (see changes.csv)"
                    )
                )
    diag = est.diagnostics
    if diag.ok:
        return EXIT_MOVED if moved is not None and len(moved) else EXIT_OK
    if not diag.converged:
        _err("warning: the sampler did not converge well enough to trust these intervals:")
    else:
        _err("warning: the model cannot explain the claims as given (model check):")
    _err(*(f"  - {p}" for p in diag.problems()))
    if len(est.attempts) > 1:
        _err("fit() tried: " + "; ".join(f"{a['reason']} ({a['sampler']})" for a in est.attempts))
    _err("remedies:")
    _err(*(f"  - {_as_cli(r)}" for r in diag.remedies()))
    _err("(the outputs were written, and say so in their diagnostics)")
    return EXIT_NOT_CONVERGED if not diag.converged else EXIT_MODEL_CHECK


def _changes(est: Estimate, old: Estimate, method: str, progress: _Progress) -> Comparison:
    """``est.compare(old)``, refits (if any) in a process pool of a worker per core."""
    from concurrent.futures import ProcessPoolExecutor

    if not est.diagnostics.ok and method != "reweight":
        _err(
            "warning: the fit failed its checks: what moved it is measured by reweighting "
            "only (no refits)"
        )
        method = "reweight"
    progress(f"comparing with the estimate as of {old.settings.as_of} ({len(old.claims)} claims)…")
    pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 1, initializer=_quiet_worker)
    try:
        comparison = est.compare(old, method=method, executor=pool)
    except BaseException:
        _stop_pool(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    att = comparison.attribution
    n_refit = int(att.loc[att["method"] == "refit", "change_id"].nunique())
    s = comparison.summary()
    progress(
        f"{s['added']} added, {s['removed']} removed, {s['edited']} edited; {n_refit} refitted"
    )
    if not att["reliable"].astype(bool).all():
        _err(
            "warning: some effects in changes.csv are unreliable (k̂ above 0.7 without a "
            "refit, or a refit that failed its checks): reliable=False"
        )
    return comparison


def cmd_backtest(args: argparse.Namespace) -> int:
    begun = _begin(args)
    if isinstance(begun, int):
        return begun
    progress, claims, priors = begun
    from concurrent.futures import ProcessPoolExecutor

    from casualty_models._atomic import atomic_write, atomic_write_with
    from casualty_models._cells import frame_to_csv
    from casualty_models.backtest import backtest

    settings = {
        k: v
        for k, v in (("draws", args.draws), ("tune", args.tune), ("chains", args.chains))
        if v is not None
    }
    settings.update(_sampler_options(args))
    if priors is not None:
        settings["priors"] = priors
    if args.start is not None:
        settings["start"] = args.start
    workers = args.workers or min(len(set(args.dates)), os.cpu_count() or 1)
    progress(f"fitting {len(set(args.dates))} vintages on {workers} worker(s)…")
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_quiet_worker)
    try:
        result = backtest(
            claims,
            args.dates,
            executor=pool,
            progress=not args.quiet,
            random_seed=args.seed,
            **settings,
        )
    except ValueError as err:
        _err(f"error: {err}", "nothing was written")
        return EXIT_USAGE
    except BaseException:
        _stop_pool(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    progress("writing outputs…")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt

    from casualty_models.outputs import NotOurs, replacing

    try:
        ax = result.plot()
        with replacing(
            args.out, command="backtest", ours=_ours("backtest"), force=args.force
        ) as run:
            atomic_write(run.path / "backtest.csv", frame_to_csv(result.history))
            atomic_write_with(
                run.path / "backtest.png",
                lambda tmp: ax.figure.savefig(tmp, format="png", dpi=120),
            )
            run.meta["claims_fingerprint"] = claims.fingerprint
        args.written = True
    except NotOurs as err:
        _err(f"error: {err}", "nothing was written")
        return EXIT_USAGE
    except OSError as err:
        _err(f"error: cannot write the outputs into {args.out}: {err}", _kept(args))
        return EXIT_BAD_INPUT
    finally:
        plt.close("all")
    print(result.history.to_string(index=False, float_format=lambda x: f"{x:,.0f}"))
    hist = result.history
    stuck = hist[~hist.converged.astype(bool)]
    implausible = hist[~hist.model_ok.astype(bool)]
    if len(stuck):
        _err(
            f"warning: {stuck.as_reported_on.nunique()} vintage(s) failed the convergence "
            "checks (see r_hat_max, ess_bulk_min, ess_tail_min and divergences in "
            "backtest.csv)"
        )
    if len(implausible):
        _err(
            f"warning: {implausible.as_reported_on.nunique()} vintage(s) failed the model "
            "check (model_ok in backtest.csv): refit one with `estimate --as-reported-on` "
            "and read its claims check"
        )
    if len(stuck):
        return EXIT_NOT_CONVERGED
    return EXIT_MODEL_CHECK if len(implausible) else EXIT_OK


def _trust(est: Estimate, progress: _Progress) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Sensitivity to the bias priors and leave-one-source-out, refits in a process pool.

    One pool serves both (a worker per core; each refit samples its chains on one core).
    On an interrupt the queued refits are cancelled before the KeyboardInterrupt goes on.
    """
    from concurrent.futures import ProcessPoolExecutor

    sources = list(dict.fromkeys(c.source for c in est.claims))
    n_loso = len(sources) if len(sources) > 1 else 0  # a lone source leaves nothing to fit
    pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 1, initializer=_quiet_worker)
    try:
        progress(
            "trust 1/2: sensitivity to the bias priors (reweighting the draws; refitting "
            "where that is unreliable)…"
        )
        sensitivity: pd.DataFrame | None
        try:
            sensitivity = est.sensitivity(executor=pool)
        except ValueError as err:  # e.g. no source type with a prior that can be varied
            _err(f"warning: no sensitivity table: {err}")
            sensitivity = None
        else:
            changes = sensitivity.drop_duplicates(["source_type", "change"])
            n_refit = int((changes["method"] == "refit").sum())
            progress(f"trust 1/2: {len(changes)} prior changes, {n_refit} of them refitted")
        progress(
            f"trust 2/2: leaving out each of {len(sources)} source"
            f"{'s' if len(sources) != 1 else ''} in turn ({n_loso} refit"
            f"{'s' if n_loso != 1 else ''})…"
        )
        loso = est.leave_one_source_out(executor=pool)
    except BaseException:
        _stop_pool(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    unreliable = [
        name
        for name, df in (("sensitivity", sensitivity), ("leave-one-source-out", loso))
        if df is not None and not df["reliable"].astype(bool).all()
    ]
    if unreliable:
        _err(
            f"warning: some {' and '.join(unreliable)} rows are unreliable (a refit failed "
            "its convergence checks, or too few draws carried the reweighting); they are "
            "marked in the report and have reliable=False in the CSV"
        )
    return sensitivity, loso


def _write_outputs(
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
    with replacing(out, command=command, ours=_ours(command), force=force) as run:
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


def _print_summary(est: Estimate, out: Path) -> None:
    from casualty_models.diagnostics import MODEL_CHECK_LEVEL
    from casualty_models.model.priors import DEFAULT_LEVEL

    pct = level_pct(DEFAULT_LEVEL)
    print(
        f"Estimate as of {est.settings.as_of} from {len(est.claims)} claims "
        f"(fingerprint {est.claims.fingerprint[:8]}…):"
    )
    for r in est.headline().itertuples():
        if not r.estimable:
            print(
                f"  {r.side} {r.category}: not estimable since {r.estimable_until:%Y-%m-%d} "
                f"(last claim {r.last_claim:%Y-%m-%d})"
            )
            continue
        low, high = getattr(r, f"low_{pct}"), getattr(r, f"high_{pct}")
        print(
            f"  {r.side} {r.category}: {people(r.median)} "
            f"({pct}% interval {people(low)}–{people(high)})"
        )
    d = est.diagnostics
    print(
        f"Sampler {'ok' if d.converged else 'FAILED'}: R-hat max {d.r_hat_max:.3f}, bulk ESS "
        f"min {d.ess_bulk_min:.0f}, tail ESS min {d.ess_tail_min:.0f}, "
        f"{d.divergences} divergences"
    )
    print(
        f"Model check {'ok' if d.model_ok else 'FAILED'}: {d.claims_implausible} of "
        f"{d.claims_checked} claims outside their {MODEL_CHECK_LEVEL:.0%} predictive interval"
    )
    print(f"Outputs in {out}/")


def cmd_history(args: argparse.Namespace) -> int:
    """Plot history.csv of an output folder: the estimate run by run, beside the claims."""
    from casualty_models.history import HistoryError, read_history

    folder = Path(args.dir)
    if not folder.is_dir():
        _err(f"error: not a folder: {folder}")
        return EXIT_BAD_INPUT
    path = folder / "history.csv"
    if not path.is_file():
        _err(
            f"error: {folder} holds no history.csv: `casualty-models update {folder} "
            "CLAIMS...` writes one, a row per run"
        )
        return EXIT_BAD_INPUT
    try:
        hist = read_history(path)
    except HistoryError as err:
        _err(f"error: {err}")
        return EXIT_BAD_INPUT
    known = list(dict.fromkeys(zip(hist["side"], hist["category"], strict=True)))
    if args.series is not None:
        side, sep, category = args.series.partition("|")
        if not sep or (side, category) not in known:
            names = ", ".join(f"{a}|{b}" for a, b in known)
            _err(f"error: --series {args.series!r}: not a series of the history ({names})")
            return EXIT_USAGE
        chosen = [(side, category)]
    else:
        shown = hist[hist["estimable"].astype(bool)]
        chosen = [k for k in known if k in set(zip(shown["side"], shown["category"], strict=True))]
        chosen = chosen or known[:1]
    claims = None
    if (folder / "estimate.nc").is_file():
        from casualty_models.estimate import load

        try:
            claims = load(folder / "estimate.nc").claims
        except (OSError, ValueError, KeyError) as err:
            _err(f"warning: the claims are not drawn: cannot read {folder / 'estimate.nc'}: {err}")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt

    from casualty_models._atomic import atomic_write_with
    from casualty_models.plots.history import plot_history

    fig, axes = plt.subplots(
        len(chosen), 1, figsize=(8.0, 3.6 * len(chosen)), layout="constrained", squeeze=False
    )
    by = {"published": "published_by", "run": "run_at"}[args.by]
    for ax, series in zip(axes[:, 0], chosen, strict=True):
        plot_history(hist, claims, series=series, by=by, ax=ax)
    target = args.out or folder / "history.png"
    try:
        atomic_write_with(target, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    except OSError as err:
        _err(f"error: cannot write {target}: {err}")
        return EXIT_BAD_INPUT
    finally:
        plt.close(fig)
    from casualty_models.model.priors import DEFAULT_LEVEL

    pct = level_pct(DEFAULT_LEVEL)
    for r in hist.to_dict(orient="records"):
        if (r["side"], r["category"]) not in chosen:
            continue
        head = f"run {r['run']} ({r['n_claims']} claims published by {r['published_by']:%Y-%m-%d}"
        head += f", as of {r['as_of']:%Y-%m-%d}): {r['side']} {r['category']} "
        if r["estimable"] and r["median"] == r["median"]:
            change = r["change_pct"]
            print(
                head + f"{people(r['median'])} ({pct}% interval {people(r[f'low_{pct}'])}–"
                f"{people(r[f'high_{pct}'])})"
                + (f", {signed_pct(change)}" if change == change else "")
            )
        else:
            print(head + "not estimable")
    print(f"Plot in {target}")
    return EXIT_OK


# ------------------------------------------------------------------------------ main


class _Stop(BaseException):
    """Ctrl-C, as the command raises it: not a KeyboardInterrupt, which PyMC's sampler
    catches (it returns the draws so far), so that Ctrl-C stops the command."""


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """SIGINT raises :class:`_Stop` in the block (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _kept(args: argparse.Namespace) -> str:
    """What an output folder holds after a run stopped before replacing it."""
    out = getattr(args, "out", None)
    if args.command not in ("estimate", "update", "backtest") or out is None:
        return "nothing was written"
    if getattr(args, "written", False):
        return f"the new run is complete in {out}"
    if Path(out).is_dir() and any(Path(out).iterdir()):
        return f"nothing was written; {out} holds its previous outputs, as they were"
    return "nothing was written"


def _stop_pool(pool: Any) -> None:
    """On Ctrl-C: end a process pool's workers now rather than after their fits."""
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        with contextlib.suppress(Exception):
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _quiet_worker() -> None:
    """A process pool's worker leaves Ctrl-C to the command (no traceback per worker)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (never raises for user errors)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as err:
        _err(str(err))
        return EXIT_USAGE
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else EXIT_OK
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    commands = {
        "validate": cmd_validate,
        "estimate": cmd_estimate,
        "update": cmd_update,
        "history": cmd_history,
        "backtest": cmd_backtest,
        "priors": cmd_priors,
    }
    try:
        with _interruptible():
            return commands[args.command](args)
    except (KeyboardInterrupt, _Stop) as err:
        # one line: what the output folder holds now
        _err(f"interrupted: {getattr(err, 'kept', None) or _kept(args)}")
        return EXIT_INTERRUPTED
    finally:
        if argv is None:
            # Run as a command: the process ends now. After a fit, the garbage collector's
            # passes over PyMC/PyTensor/ArviZ objects at interpreter shutdown take 1-2 s;
            # freezing them skips that (start-up + shutdown: docs/benchmarks_seed.md). Not done when
            # main() is called with arguments from Python, where it would keep garbage alive.
            gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
