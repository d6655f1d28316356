"""What the commands that fit check before any work: the output folder, the priors,
the claims and their start date, the series asked for, the previous estimate."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from casualty_models.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_USAGE,
    NO_START,
    Progress,
    read_claims_files,
    stderr,
)
from casualty_models.cli.folder import check_out

if TYPE_CHECKING:
    from casualty_models.claims import ClaimSet
    from casualty_models.estimate import Estimate
    from casualty_models.model.priors import Priors


def priors_setting(args: argparse.Namespace) -> Priors | int | None:
    """The settings of ``--priors`` (None: the defaults), or an exit code after saying
    what is wrong with the file, every problem with its line."""
    if args.priors is None:
        return None
    from casualty_models.model.priors_file import PriorsFileError, priors_from

    try:
        return priors_from(args.priors)
    except PriorsFileError as err:
        stderr(*err.problems, f"{args.priors}: {len(err.problems)} problem(s) found")
        return EXIT_BAD_INPUT
    except (ValueError, OSError) as err:
        stderr(f"error: --priors: {err}")
        return EXIT_USAGE


def begin(
    args: argparse.Namespace, *, needs_start: bool = True
) -> tuple[Progress, ClaimSet, Priors | None] | int:
    """Checks shared by the commands that fit: the output folder, the priors, the claims
    (and a start date, unless the caller has one: ``needs_start`` False)."""
    if args.out.exists() and not args.out.is_dir():
        stderr(f"error: --out {args.out} exists and is not a folder")
        return EXIT_USAGE
    refused = check_out(args)
    if refused is not None:
        return refused
    priors = priors_setting(args)
    if isinstance(priors, int):
        stderr("nothing was written")
        return priors
    progress = Progress(args.quiet)
    progress("reading claims…")
    claims = read_claims_files(args.claims, args.format)
    if isinstance(claims, int):
        stderr("nothing was written")
        return claims
    if needs_start and args.start is None and not any(c.period_start is not None for c in claims):
        stderr(f"error: {NO_START}", "nothing was written")
        return EXIT_USAGE
    return progress, claims, priors


def unknown_series(args: argparse.Namespace, claims: ClaimSet) -> int | None:
    """EXIT_USAGE, having said why, when ``--series`` names a series no claim is about."""
    known = [f"{side}|{category}" for side, category in claims.series]
    unknown = [s for s in args.series or () if s not in known]
    if not unknown:
        return None
    stderr(
        f"error: --series {' '.join(unknown)}: no claims about "
        f"{'it' if len(unknown) == 1 else 'them'}; the series are {', '.join(known)}",
        "nothing was written",
    )
    return EXIT_USAGE


def previous_estimate(where: str) -> tuple[Path, Estimate] | int:
    """The previous estimate of ``--compare`` / ``update``: a folder holding estimate.nc,
    or the .nc file; on failure say why and return the exit code."""
    path = Path(where)
    if not path.exists():
        from casualty_models.outputs import tidy

        tidy(path)  # a folder a killed run left half-swapped is put back
    if path.is_dir():
        nc = path / "estimate.nc"
        if not nc.is_file():
            stderr(
                f"error: {path} holds no estimate.nc: give the --out folder of an earlier "
                "`casualty-models estimate` or `update` run (or its estimate.nc)",
                "nothing was written",
            )
            return EXIT_BAD_INPUT
    elif path.is_file():
        nc = path
    else:
        stderr(f"error: previous estimate not found: {path}", "nothing was written")
        return EXIT_BAD_INPUT
    from casualty_models.estimate import load

    try:
        return nc, load(nc)
    except (OSError, ValueError, KeyError) as err:
        stderr(f"error: cannot read the previous estimate {nc}: {err}", "nothing was written")
        return EXIT_BAD_INPUT
