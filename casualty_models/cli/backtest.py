"""``casualty-models backtest CLAIMS... --dates DATE...``: refit on past dates with the
claims published by then; writes ``backtest.csv`` and ``backtest.png``."""

from __future__ import annotations

import argparse
import os

from casualty_models.cli.common import (
    CLAIMS_HELP,
    EXIT_BAD_INPUT,
    EXIT_MODEL_CHECK,
    EXIT_NOT_CONVERGED,
    EXIT_OK,
    EXIT_USAGE,
    sampler_options,
    stderr,
)
from casualty_models.cli.folder import files_of
from casualty_models.cli.interrupts import kept_line, quiet_worker, stop_pool
from casualty_models.cli.options import date_arg, fit_options, int_at_least
from casualty_models.cli.prepare import begin


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bt = sub.add_parser(
        "backtest",
        help="refit on past dates with the claims published by then; writes backtest.csv/.png",
    )
    bt.add_argument("claims", metavar="CLAIMS", nargs="+", help=CLAIMS_HELP)
    bt.add_argument(
        "--dates",
        type=date_arg,
        nargs="+",
        required=True,
        metavar="DATE",
        help="vintage dates (YYYY-MM-DD ...)",
    )
    bt.add_argument(
        "--workers",
        type=int_at_least(1),
        metavar="N",
        help="parallel fits on this machine (default: one per core)",
    )
    fit_options(bt, out_help="output folder (default: out/)")


def run(args: argparse.Namespace) -> int:
    """Refit on past dates with the claims published by then; write backtest.csv/.png."""
    begun = begin(args)
    if isinstance(begun, int):
        return begun
    progress, claims, priors = begun
    from concurrent.futures import ProcessPoolExecutor

    from casualty_models._atomic import atomic_write, atomic_write_with
    from casualty_models._cells import frame_to_csv
    from casualty_models.backtest import backtest

    settings = {
        k: v
        for k, v in (("draws", args.draws), ("tune", args.tune), ("chains", args.chains))
        if v is not None
    }
    settings.update(sampler_options(args))
    if priors is not None:
        settings["priors"] = priors
    if args.start is not None:
        settings["start"] = args.start
    workers = args.workers or min(len(set(args.dates)), os.cpu_count() or 1)
    progress(f"fitting {len(set(args.dates))} vintages on {workers} worker(s)…")
    pool = ProcessPoolExecutor(max_workers=workers, initializer=quiet_worker)
    try:
        result = backtest(
            claims,
            args.dates,
            executor=pool,
            progress=not args.quiet,
            random_seed=args.seed,
            **settings,
        )
    except ValueError as err:
        stderr(f"error: {err}", "nothing was written")
        return EXIT_USAGE
    except BaseException:
        stop_pool(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    progress("writing outputs…")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt

    from casualty_models.outputs import NotOurs, replacing

    try:
        ax = result.plot()
        with replacing(
            args.out, command="backtest", ours=files_of("backtest"), force=args.force
        ) as run:
            atomic_write(run.path / "backtest.csv", frame_to_csv(result.history))
            atomic_write_with(
                run.path / "backtest.png",
                lambda tmp: ax.figure.savefig(tmp, format="png", dpi=120),
            )
            run.meta["claims_fingerprint"] = claims.fingerprint
        args.written = True
    except NotOurs as err:
        stderr(f"error: {err}", "nothing was written")
        return EXIT_USAGE
    except OSError as err:
        stderr(f"error: cannot write the outputs into {args.out}: {err}", kept_line(args))
        return EXIT_BAD_INPUT
    finally:
        plt.close("all")
    print(result.history.to_string(index=False, float_format=lambda x: f"{x:,.0f}"))
    hist = result.history
    stuck = hist[~hist.converged.astype(bool)]
    implausible = hist[~hist.model_ok.astype(bool)]
    if len(stuck):
        stderr(
            f"warning: {stuck.as_reported_on.nunique()} vintage(s) failed the convergence "
            "checks (see r_hat_max, ess_bulk_min, ess_tail_min and divergences in "
            "backtest.csv)"
        )
    if len(implausible):
        stderr(
            f"warning: {implausible.as_reported_on.nunique()} vintage(s) failed the model "
            "check (model_ok in backtest.csv): refit one with `estimate --as-reported-on` "
            "and read its claims check"
        )
    if len(stuck):
        return EXIT_NOT_CONVERGED
    return EXIT_MODEL_CHECK if len(implausible) else EXIT_OK
