"""The path ``estimate`` and ``update`` share: fit, measure trust and changes as asked,
write every output, print the summary, and map the outcome to an exit code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casualty_models._format import level_pct, people
from casualty_models.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_MODEL_CHECK,
    EXIT_MOVED,
    EXIT_NOT_CONVERGED,
    EXIT_OK,
    EXIT_USAGE,
    Progress,
    as_cli,
    package_warnings,
    pymc_logging,
    stderr,
)
from casualty_models.cli.interrupts import kept_line, quiet_worker, stop_pool

if TYPE_CHECKING:
    import pandas as pd

    from casualty_models.claims import ClaimSet
    from casualty_models.compare import Comparison
    from casualty_models.estimate import Estimate


def fit_and_write(
    args: argparse.Namespace,
    progress: Progress,
    claims: ClaimSet,
    kwargs: dict[str, Any],
    *,
    previous: tuple[Path, Estimate] | None = None,
    update: bool = False,
) -> int:
    """Fit, measure trust and changes as asked, write every output, print the summary;
    the exit code."""
    from casualty_models._backend import pymc
    from casualty_models.diagnostics import ConvergenceWarning, ModelCheckWarning
    from casualty_models.fitting import fit
    from casualty_models.runs import WARM_TUNE

    progress("loading PyMC…")
    pymc()
    chains, draws, tune = kwargs["chains"], kwargs["draws"], kwargs["tune"]
    if update and previous is not None:  # start where the previous fit's posterior was
        kwargs = {**kwargs, "warm_start": previous[1]}
    per_chain = f" × {draws} draws" if draws is not None else ""
    after = (
        f"warm from the previous fit, after {WARM_TUNE} tuning steps"
        if "warm_start" in kwargs
        else f"after {tune} tuning steps"
    )
    progress(f"sampling {chains} chain{'s' if chains != 1 else ''}{per_chain} ({after})…")
    with package_warnings(ConvergenceWarning, ModelCheckWarning), pymc_logging(quiet=args.quiet):
        try:
            est = fit(claims, **kwargs)
        except ValueError as err:  # fit() checks its arguments against the claims
            stderr(f"error: {as_cli(str(err))}", "nothing was written")
            return EXIT_USAGE

    sensitivity: pd.DataFrame | None = None
    loso: pd.DataFrame | None = None
    if getattr(args, "trust", False) and not est.diagnostics.ok:
        stderr(
            "warning: --trust skipped: the fit failed its checks, so how far its answer "
            "moves would be measured against noise (see the remedies below)"
        )
    elif getattr(args, "trust", False):
        with (
            package_warnings(ConvergenceWarning, ModelCheckWarning),
            pymc_logging(quiet=args.quiet),
        ):
            sensitivity, loso = measure_trust(est, progress)

    comparison = None
    if previous is not None:
        with (
            package_warnings(ConvergenceWarning, ModelCheckWarning),
            pymc_logging(quiet=args.quiet),
        ):
            comparison = measure_changes(est, previous[1], args.attribution, progress)

    progress("writing outputs…")
    from casualty_models.outputs import NotOurs

    try:
        with package_warnings(ConvergenceWarning, ModelCheckWarning):
            written = _writer()(
                est,
                args.out,
                sensitivity=sensitivity,
                loso=loso,
                comparison=comparison,
                previous=previous[0] if previous is not None else None,
                history=update,
                series=args.series,
                formats=args.figure_format,
                force=args.force,
                command=args.command,
            )
    except NotOurs as err:  # a file was put there during the fit
        stderr(f"error: {err}", "nothing was written")
        return EXIT_USAGE
    except OSError as err:
        stderr(f"error: cannot write the outputs into {args.out}: {err}", kept_line(args))
        return EXIT_BAD_INPUT
    args.written = True  # from here on, Ctrl-C leaves the new run in place
    progress(f"done: {len(written)} files in {args.out}")

    print_summary(est, args.out)
    moved = None
    if comparison is not None:
        print(f"What changed since the estimate as of {comparison.old.settings.as_of}:")
        for sentence in comparison.sentences():
            print(f"  {sentence}")
        if args.fail_if_moved is not None:
            moved = comparison.moved(args.fail_if_moved)
            for r in moved.to_dict(orient="records"):
                stderr(
                    f"error: {r['side']} {r['category']} moved by "
                    f"{r['change_pct']:+.1f}% (more than {args.fail_if_moved:g}%) since "
                    f"the estimate as of {comparison.old.settings.as_of}"
                    + (
                        f"; moved most by {r['drivers']}"
                        if r["drivers"]
                        else "; no single changed claim moved it that way beyond Monte Carlo "
                        "noise (see changes.csv)"
                    )
                )
    diag = est.diagnostics
    if diag.ok:
        return EXIT_MOVED if moved is not None and len(moved) else EXIT_OK
    if not diag.converged:
        stderr("warning: the sampler did not converge well enough to trust these intervals:")
    else:
        stderr("warning: the model cannot explain the claims as given (model check):")
    stderr(*(f"  - {p}" for p in diag.problems()))
    if len(est.attempts) > 1:
        stderr("fit() tried: " + "; ".join(f"{a['reason']} ({a['sampler']})" for a in est.attempts))
    stopped = est.idata.sample_stats.attrs.get("stopped")
    if stopped:
        runs = len(est.attempts)
        stderr(f"fit() stopped after {runs} run{'s' * (runs > 1)}: {as_cli(stopped)}")
    stderr("remedies:")
    stderr(*(f"  - {as_cli(r)}" for r in diag.remedies()))
    stderr("(the outputs were written, and say so in their diagnostics)")
    return EXIT_NOT_CONVERGED if not diag.converged else EXIT_MODEL_CHECK


def measure_trust(est: Estimate, progress: Progress) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Sensitivity to the bias priors and leave-one-source-out, refits in a process pool.

    One pool serves both (a worker per core; each refit samples its chains on one core).
    On an interrupt the queued refits are cancelled before the KeyboardInterrupt goes on.
    """
    from concurrent.futures import ProcessPoolExecutor

    sources = list(dict.fromkeys(c.source for c in est.claims))
    n_loso = len(sources) if len(sources) > 1 else 0  # a lone source leaves nothing to fit
    pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 1, initializer=quiet_worker)
    try:
        progress(
            "trust 1/2: sensitivity to the bias priors (reweighting the draws; refitting "
            "where that is unreliable)…"
        )
        sensitivity: pd.DataFrame | None
        try:
            sensitivity = est.sensitivity(executor=pool)
        except ValueError as err:  # e.g. no source type with a prior that can be varied
            stderr(f"warning: no sensitivity table: {err}")
            sensitivity = None
        else:
            changes = sensitivity.drop_duplicates(["source_type", "change"])
            n_refit = int((changes["method"] == "refit").sum())
            progress(f"trust 1/2: {len(changes)} prior changes, {n_refit} of them refitted")
        progress(
            f"trust 2/2: leaving out each of {len(sources)} source"
            f"{'s' if len(sources) != 1 else ''} in turn ({n_loso} refit"
            f"{'s' if n_loso != 1 else ''})…"
        )
        loso = est.leave_one_source_out(executor=pool)
    except BaseException:
        stop_pool(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    unreliable = [
        name
        for name, df in (("sensitivity", sensitivity), ("leave-one-source-out", loso))
        if df is not None and not df["reliable"].astype(bool).all()
    ]
    if unreliable:
        stderr(
            f"warning: some {' and '.join(unreliable)} rows are unreliable (a refit failed "
            "its convergence checks, or too few draws carried the reweighting); they are "
            "marked in the report and have reliable=False in the CSV"
        )
    return sensitivity, loso


def measure_changes(est: Estimate, old: Estimate, method: str, progress: Progress) -> Comparison:
    """``est.compare(old)``, refits (if any) in a process pool of a worker per core."""
    from concurrent.futures import ProcessPoolExecutor

    if not est.diagnostics.ok and method != "reweight":
        stderr(
            "warning: the fit failed its checks: what moved it is measured by reweighting "
            "only (no refits)"
        )
        method = "reweight"
    progress(f"comparing with the estimate as of {old.settings.as_of} ({len(old.claims)} claims)…")
    pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 1, initializer=quiet_worker)
    try:
        comparison = est.compare(old, method=method, executor=pool)
    except BaseException:
        stop_pool(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    att = comparison.attribution
    n_refit = int(att.loc[att["method"] == "refit", "change_id"].nunique())
    s = comparison.summary()
    progress(
        f"{s['added']} added, {s['removed']} removed, {s['edited']} edited; {n_refit} refitted"
    )
    if not att["reliable"].astype(bool).all():
        stderr(
            "warning: some effects in changes.csv are unreliable (k̂ above 0.7 without a "
            "refit, or a refit that failed its checks): reliable=False"
        )
    return comparison


def print_summary(est: Estimate, out: Path) -> None:
    from casualty_models.diagnostics import MODEL_CHECK_LEVEL
    from casualty_models.model.priors import DEFAULT_LEVEL

    pct = level_pct(DEFAULT_LEVEL)
    from casualty_models.model.priors_file import describe_priors
    from casualty_models.sensitivity import defaults_note, priors_sentence

    print(
        f"Estimate as of {est.settings.as_of} from {len(est.claims)} claims "
        f"(fingerprint {est.claims.fingerprint[:8]}…), bias priors "
        f"{describe_priors(est.settings.priors)}:"
    )
    for r in est.headline().itertuples():
        if not r.estimable:
            print(
                f"  {r.side} {r.category}: not estimable since {r.estimable_until:%Y-%m-%d} "
                f"(last claim {r.last_claim:%Y-%m-%d})"
            )
            continue
        low, high = getattr(r, f"low_{pct}"), getattr(r, f"high_{pct}")
        print(
            f"  {r.side} {r.category}: {people(r.median)} "
            f"({pct}% interval {people(low)}–{people(high)})"
        )
    d = est.diagnostics
    print(
        f"Sampler {'ok' if d.converged else 'FAILED'}: R-hat max {d.r_hat_max:.3f}, bulk ESS "
        f"min {d.ess_bulk_min:.0f}, tail ESS min {d.ess_tail_min:.0f}, "
        f"{d.divergences} divergences"
    )
    print(
        f"Model check {'ok' if d.model_ok else 'FAILED'}: {d.claims_implausible} of "
        f"{d.claims_checked} claims outside their {MODEL_CHECK_LEVEL:.0%} predictive interval"
    )
    sentence = priors_sentence(est.prior_sensitivity())
    print(f"Priors: {sentence or 'the claims, not the bias priors, decide every headline.'}")
    note = defaults_note(est.claims, est.settings.priors)
    if note:
        print(note)
    print(f"Outputs in {out}/")


def _writer() -> Callable[..., list[Path]]:
    """``casualty_models.cli._write_outputs`` (:func:`.writing.write_outputs`), looked up
    in the package when the outputs are written, so that a caller can replace it (the
    tests replace it with one that fails)."""
    writer: Callable[..., list[Path]] = sys.modules["casualty_models.cli"]._write_outputs
    return writer
