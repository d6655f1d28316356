"""The command line's argument types and the options several commands share, each
defined once: the claims files, ``--format``, the fitting options (``--start``,
``--priors``, ``--out``, ``--seed``, the sampler's), the vintage (``--as-of``,
``--as-reported-on``), the comparison (``--fail-if-moved``, ``--attribution``) and the
report's focus (``--series``, ``--figure-format``)."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

from casualty_models.cli.common import stderr

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def date_arg(text: str) -> dt.date:
    if not _ISO_DATE.match(text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid date: {err}") from None


def int_at_least(minimum: int) -> Any:
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


def pct_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a percentage of at least 0, got {text}")
    return value


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors raise instead of exiting, so main() returns a code."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: error: {message}")


class UsageError(Exception):
    pass


def format_option(cmd: argparse.ArgumentParser) -> None:
    from casualty_models.readers import FORMATS

    cmd.add_argument(
        "--format",
        choices=sorted(FORMATS),
        help="read the files in another published layout, e.g. radford2023 (the PNAS "
        "replication data; see docs/peers.md); default: the claims layout, by suffix",
    )


def fit_options(cmd: argparse.ArgumentParser, *, out_help: str) -> None:
    """Options shared by the commands that fit."""
    format_option(cmd)
    cmd.add_argument(
        "--start",
        type=date_arg,
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
        "--seed", type=int_at_least(0), default=1, metavar="N", help="random seed (default: 1)"
    )
    cmd.add_argument(
        "--draws",
        type=int_at_least(1),
        metavar="N",
        help="posterior draws per chain of the first run; more follow while the ESS is "
        "short of 400 (default: 500 with PyMC's sampler, 1000 with nutpie)",
    )
    cmd.add_argument(
        "--tune", type=int_at_least(1), metavar="N", help="tuning steps per chain (default: 500)"
    )
    cmd.add_argument(
        "--chains", type=int_at_least(1), metavar="N", help="number of chains (default: 2)"
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
        type=int_at_least(1),
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


def change_options(cmd: argparse.ArgumentParser) -> None:
    """Options of the commands that compare with a previous estimate."""
    cmd.add_argument(
        "--fail-if-moved",
        type=pct_arg,
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


def focus_options(cmd: argparse.ArgumentParser) -> None:
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


def vintage_options(cmd: argparse.ArgumentParser) -> None:
    """The date of the headline and the vintage of the claims (``estimate``, ``update``)."""
    cmd.add_argument(
        "--as-of",
        type=date_arg,
        metavar="DATE",
        help="date of the headline estimate (default: latest claim)",
    )
    cmd.add_argument(
        "--as-reported-on",
        type=date_arg,
        metavar="DATE",
        help="use only claims published by DATE (a vintage); also the default --as-of",
    )


def dates_out_of_order(args: argparse.Namespace) -> bool:
    """True, having said why, when ``--as-of`` is before ``--start``."""
    if args.start is not None and args.as_of is not None and args.as_of < args.start:
        stderr(f"error: --as-of {args.as_of} is before --start {args.start}")
        return True
    return False
