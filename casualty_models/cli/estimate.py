"""``casualty-models estimate CLAIMS... [options]``: fit the model and write the outputs
(and, with ``--compare``, what changed since a previous estimate)."""

from __future__ import annotations

import argparse

from casualty_models.cli.common import CLAIMS_HELP, EXIT_USAGE, fit_default, sampler_options, stderr
from casualty_models.cli.examples import apply_example
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
    est = sub.add_parser(
        "estimate",
        help="fit the model and write estimate.json, summary.csv, plots, report.html, estimate.nc",
    )
    est.add_argument("claims", metavar="CLAIMS", nargs="*", help=CLAIMS_HELP)
    est.add_argument(
        "--example",
        metavar="NAME",
        help="fit an example that ships with the package instead of CLAIMS files, at its "
        "own --format, --start and --as-of unless given (`casualty-models examples` lists them)",
    )
    vintage_options(est)
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
    change_options(est)
    focus_options(est)
    fit_options(est, out_help="output folder (default: out/)")


def run(args: argparse.Namespace) -> int:
    example = apply_example(args)
    if example is not None:
        return example
    if dates_out_of_order(args):
        return EXIT_USAGE
    if args.fail_if_moved is not None and args.compare is None:
        stderr("error: --fail-if-moved needs --compare PREVIOUS (or use `update`)")
        return EXIT_USAGE
    previous = None
    if args.compare is not None:
        found = previous_estimate(args.compare)
        if isinstance(found, int):
            return found
        previous = found
    begun = begin(args)
    if isinstance(begun, int):
        return begun
    progress, claims, priors = begun
    bad = unknown_series(args, claims)
    if bad is not None:
        return bad
    kwargs = {
        "as_of": args.as_of,
        "start": args.start,
        "as_reported_on": args.as_reported_on,
        "draws": args.draws if args.draws is not None else fit_default("draws"),
        "tune": args.tune if args.tune is not None else fit_default("tune"),
        "chains": args.chains if args.chains is not None else fit_default("chains"),
        "random_seed": args.seed,
        "priors": priors,
        **sampler_options(args),
    }
    return fit_and_write(args, progress, claims, kwargs, previous=previous)
