"""``casualty-models validate CLAIMS...``: read and check claim files; one OK line, or
every problem of every file."""

from __future__ import annotations

import argparse

from casualty_models.cli.common import CLAIMS_HELP, EXIT_OK, NO_START, read_claims_files
from casualty_models.cli.options import format_option


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    val = sub.add_parser("validate", help="check a claims file and report every problem")
    val.add_argument("claims", metavar="CLAIMS", nargs="+", help=CLAIMS_HELP)
    format_option(val)


def run(args: argparse.Namespace) -> int:
    claims = read_claims_files(args.claims, args.format)
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
