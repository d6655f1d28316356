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

Importing this package is light: PyMC, ArviZ and matplotlib load only when ``estimate``
runs.

This module only dispatches: :func:`main` parses (:mod:`.parser`), runs the command's
module (:mod:`.validate`, :mod:`.estimate`, :mod:`.update`, :mod:`.history`,
:mod:`.backtest`, :mod:`.priors`, :mod:`.examples`) and turns Ctrl-C into one line
(:mod:`.interrupts`).
The options several commands share are defined once in :mod:`.options`; what the
commands share besides (messages, reading claims, exit codes) is in :mod:`.common`;
``estimate`` and ``update`` share :mod:`.prepare`, :mod:`.fit_and_write` and
:mod:`.writing`. The names below are also this package's, for callers and tests:
``_write_outputs`` is looked up here when the outputs are written, so that it can be
replaced.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

from casualty_models.cli.atlas import run as cmd_atlas
from casualty_models.cli.backtest import run as cmd_backtest
from casualty_models.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_MODEL_CHECK,
    EXIT_MOVED,
    EXIT_NOT_CONVERGED,
    EXIT_OK,
    EXIT_USAGE,
    stderr,
)
from casualty_models.cli.common import as_cli as _as_cli
from casualty_models.cli.estimate import run as cmd_estimate
from casualty_models.cli.examples import run as cmd_examples
from casualty_models.cli.folder import (
    BACKTEST_FILES,
    CHANGE_FILES,
    ESTIMATE_FILES,
    FIGURE_FILES,
    TRUST_FILES,
)
from casualty_models.cli.history import run as cmd_history
from casualty_models.cli.interrupts import Stop, interruptible, kept_line
from casualty_models.cli.options import UsageError
from casualty_models.cli.parser import build_parser
from casualty_models.cli.priors import run as cmd_priors
from casualty_models.cli.update import run as cmd_update
from casualty_models.cli.validate import run as cmd_validate
from casualty_models.cli.writing import WRITE_DELAY_ENV
from casualty_models.cli.writing import write_outputs as _write_outputs
from casualty_models.outputs import forget_replaced


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (never raises for user errors)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as err:
        stderr(str(err))
        return EXIT_USAGE
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else EXIT_OK
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    forget_replaced()  # what a Ctrl-C reports is about this command's own run
    commands = {
        "validate": cmd_validate,
        "estimate": cmd_estimate,
        "update": cmd_update,
        "history": cmd_history,
        "backtest": cmd_backtest,
        "priors": cmd_priors,
        "examples": cmd_examples,
        "atlas": cmd_atlas,
    }
    try:
        with interruptible():
            return commands[args.command](args)
    except (KeyboardInterrupt, Stop) as err:
        # one line: what the output folder holds now
        stderr(f"interrupted: {getattr(err, 'kept', None) or kept_line(args)}")
        return EXIT_INTERRUPTED
    finally:
        if argv is None:
            # Run as a command: the process ends now. After a fit, the garbage collector's
            # passes over PyMC/PyTensor/ArviZ objects at interpreter shutdown take 1-2 s;
            # freezing them skips that (start-up + shutdown: docs/benchmarks_seed.md). Not done when
            # main() is called with arguments from Python, where it would keep garbage alive.
            gc.freeze()


__all__ = [
    "BACKTEST_FILES",
    "CHANGE_FILES",
    "ESTIMATE_FILES",
    "EXIT_BAD_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_MODEL_CHECK",
    "EXIT_MOVED",
    "EXIT_NOT_CONVERGED",
    "EXIT_OK",
    "EXIT_USAGE",
    "FIGURE_FILES",
    "TRUST_FILES",
    "WRITE_DELAY_ENV",
    "_as_cli",
    "_write_outputs",
    "build_parser",
    "cmd_backtest",
    "cmd_estimate",
    "cmd_examples",
    "cmd_history",
    "cmd_priors",
    "cmd_update",
    "cmd_validate",
    "main",
]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
