"""``casualty-models priors [--preset NAME]``: the bias priors as an annotated YAML file
to edit and pass to ``--priors``."""

from __future__ import annotations

import argparse

from casualty_models.cli.common import EXIT_OK, EXIT_USAGE, stderr


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pri = sub.add_parser(
        "priors",
        help="print the bias priors as an annotated YAML file to edit and pass to --priors",
    )
    pri.add_argument(
        "--preset",
        help="start from this preset: war-military (default), civilian, disaster (docs/priors.md)",
    )


def run(args: argparse.Namespace) -> int:
    from casualty_models.model.priors_file import dump_priors

    try:
        print(dump_priors(preset=args.preset), end="")
    except ValueError as err:
        stderr(f"error: {err}")
        return EXIT_USAGE
    return EXIT_OK
