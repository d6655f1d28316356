"""The ``casualty-models`` argument parser: the program's own options, then each
command's sub-parser, added by its module in the order ``--help`` lists them."""

from __future__ import annotations

import argparse

from casualty_models._version import __version__
from casualty_models.cli import (
    atlas,
    backtest,
    estimate,
    examples,
    history,
    priors,
    update,
    validate,
)
from casualty_models.cli.options import Parser

COMMANDS = (validate, estimate, update, history, backtest, priors, examples, atlas)
"""The command modules, in the order of ``--help``; each has ``add_parser`` and ``run``."""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="casualty-models",
        description="Honest Bayesian estimates of true casualty counts from biased claims.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser
