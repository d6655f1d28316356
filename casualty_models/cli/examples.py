"""``casualty-models examples [NAME]``: the example claims that ship with the package
(:mod:`casualty_models.examples`), and ``estimate --example NAME``'s reading of them."""

from __future__ import annotations

import argparse
import textwrap

from casualty_models.cli.common import EXIT_OK, EXIT_USAGE, stderr

WIDTH = 88


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ex = sub.add_parser(
        "examples",
        help="list the example claims that ship with the package (estimate --example NAME)",
    )
    ex.add_argument(
        "name",
        metavar="NAME",
        nargs="?",
        help="show one example in full: its files, licence, citation and how to fit it",
    )


def _wrapped(label: str, text: str) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=f"  {label:<12}",
        subsequent_indent=" " * 14,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [f"  {label}"]


def run(args: argparse.Namespace) -> int:
    from casualty_models import examples

    if args.name is None:
        names = examples.list()
        width = max(len(n) for n in names)
        for name in names:
            print(f"{name:<{width}}  {examples.info(name).title}")
        print(
            "\n`casualty-models examples NAME` shows an example's files, licence and "
            "citation;\n`casualty-models estimate --example NAME --out DIR` fits it."
        )
        return EXIT_OK
    try:
        ex = examples.info(args.name)
        files = examples.paths(args.name)
    except (ValueError, FileNotFoundError) as err:
        stderr(f"error: {err}")
        return EXIT_USAGE
    lines = [f"{ex.name}: {ex.title}", *_wrapped("", ex.description)]
    lines += _wrapped("files", ", ".join(str(p) for p in files))
    if ex.format:
        lines += _wrapped("format", ex.format)
    dates = [f"--{k.replace('_', '-')} {v}" for k, v in ex.fit_kwargs().items()]
    lines += _wrapped("fit with", f"--example {ex.name} {' '.join(dates)}".strip())
    lines += _wrapped("licence", ex.licence)
    if ex.licence_files:
        lines += _wrapped("", ", ".join(str(p) for p in examples.licence_paths(ex.name)))
    lines += _wrapped("cite", ex.citation)
    print("\n".join(lines))
    return EXIT_OK


def apply_example(args: argparse.Namespace) -> int | None:
    """``estimate --example NAME``: the example's files become the claims, and its format
    and dates the defaults of ``--format``, ``--start`` and ``--as-of``. None when all is
    well, else the exit code, having said why (no claims, or claims and an example)."""
    name = getattr(args, "example", None)
    if name is None:
        if not args.claims:
            stderr(
                f"casualty-models {args.command}: error: the following arguments are "
                "required: CLAIMS (or --example NAME)"
            )
            return EXIT_USAGE
        return None
    from casualty_models import examples

    if args.claims:
        stderr(f"error: give CLAIMS files or --example {name}, not both")
        return EXIT_USAGE
    try:
        ex = examples.info(name)
        args.claims = [str(p) for p in examples.paths(name)]
    except (ValueError, FileNotFoundError) as err:
        stderr(f"error: --example: {err}")
        return EXIT_USAGE
    if args.format is None:
        args.format = ex.format
    for key, value in ex.fit_kwargs().items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    return None
