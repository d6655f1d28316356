"""``casualty-models priors [--preset NAME | --list]``: the bias priors as an annotated
YAML file to edit and pass to ``--priors``, or the presets with one line on when to use
each."""

from __future__ import annotations

import argparse

from casualty_models.cli.common import EXIT_OK, EXIT_USAGE, stderr


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pri = sub.add_parser(
        "priors",
        help="print the bias priors as an annotated YAML file to edit and pass to --priors",
    )
    which = pri.add_mutually_exclusive_group()
    which.add_argument(
        "--preset",
        help="start from this preset: war-military (default), civilian, disaster, epidemic "
        "(--list; docs/priors.md)",
    )
    which.add_argument(
        "--list",
        action="store_true",
        help="list the presets, one line each on when to use it",
    )


def list_presets() -> str:
    """One line per preset: its name and what it is for."""
    from casualty_models.model.priors_file import preset_info

    info = preset_info()
    width = max(len(name) for name in info)
    lines = [f"{name:<{width}}  {about.for_}" for name, about in info.items()]
    lines.append("")
    lines.append(
        "Use: casualty-models estimate CLAIMS --priors NAME; "
        "casualty-models priors --preset NAME prints it to edit (docs/priors.md)."
    )
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from casualty_models.model.priors_file import dump_priors

    if args.list:
        print(list_presets(), end="")
        return EXIT_OK
    try:
        print(dump_priors(preset=args.preset), end="")
    except ValueError as err:
        stderr(f"error: {err}")
        return EXIT_USAGE
    return EXIT_OK
