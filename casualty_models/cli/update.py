"""``casualty-models update PREVIOUS_OUT_DIR CLAIMS...``: refit a previous estimate's
settings with the claims as they are now, say what changed and why, and add the run to
``history.csv``."""

from __future__ import annotations

import argparse

from casualty_models.cli.common import CLAIMS_HELP, EXIT_USAGE, sampler_options
from casualty_models.cli.fit_and_write import fit_and_write
from casualty_models.cli.options import (
    change_options,
    dates_out_of_order,
    fit_options,
    focus_options,
    vintage_options,
)
from casualty_models.cli.prepare import begin, previous_estimate, unknown_series


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    vintage_options(upd)
    change_options(upd)
    focus_options(upd)
    fit_options(upd, out_help="output folder (default: PREVIOUS_OUT_DIR itself)")
    # every setting defaults to the previous run's: None means "not given"
    upd.set_defaults(seed=None, out=None)


def run(args: argparse.Namespace) -> int:
    """Refit the previous estimate's settings with the claims as they are now; say what
    changed and why; append the run to history.csv."""
    previous = previous_estimate(args.previous)
    if isinstance(previous, int):
        return previous
    prev_nc, old = previous
    if args.out is None:
        args.out = prev_nc.parent
    s = old.settings
    if dates_out_of_order(args):
        return EXIT_USAGE
    begun = begin(args, needs_start=False)
    if isinstance(begun, int):
        return begun
    progress, claims, priors = begun
    bad = unknown_series(args, claims)
    if bad is not None:
        return bad
    given = sampler_options(args)
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
    return fit_and_write(args, progress, claims, kwargs, previous=previous, update=True)
