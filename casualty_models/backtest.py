"""Backtests: what the library would have said on each past date, from claims known then."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import pandas as pd

from casualty_models import _hooks
from casualty_models.claims import ClaimSet, parse_date, read_claims, records_to_claims
from casualty_models.model.priors import DEFAULT_LEVEL, Priors


@dataclass(frozen=True)
class Backtest:
    """The estimate history: one headline per (vintage date, series).

    ``history`` columns: ``as_reported_on``, ``side``, ``category``, ``n_claims`` (claims
    published by then), ``mean``, ``median``, ``low_50``/``high_50``,
    ``low_90``/``high_90`` (people, at the vintage date), and the fit's ``r_hat_max``,
    ``ess_bulk_min`` and ``divergences``.
    """

    claims: ClaimSet
    history: pd.DataFrame
    start: dt.date  # the grid start every vintage shared

    def plot(self, *, series: Any = None, ax: Any = None, level: float = DEFAULT_LEVEL) -> Any:
        """How the estimate and its interval moved; see :func:`plotting.plot_backtest`."""
        return _hooks.call("Backtest.plot", self, series=series, ax=ax, level=level)


def _one_vintage(
    records: list[dict[str, Any]], origin: str, date: str, fit_kwargs: dict[str, Any]
) -> pd.DataFrame:
    """Fit the claims known on ``date``; runs in a worker process (must be top level)."""
    import warnings

    from casualty_models.diagnostics import ConvergenceWarning, ModelCheckWarning
    from casualty_models.fitting import fit

    claims = records_to_claims(records, origin)
    if "priors" in fit_kwargs:  # sent as a plain dict: settings objects do not pickle
        fit_kwargs = {**fit_kwargs, "priors": Priors.from_dict(fit_kwargs["priors"])}
    with warnings.catch_warnings():
        # a vintage that fails its checks is reported in the history, not raised
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", ModelCheckWarning)
        est = fit(claims, as_reported_on=date, **fit_kwargs)
    head = est.headline()
    head.insert(0, "as_reported_on", pd.Timestamp(date))
    head.insert(3, "n_claims", len(est.claims))
    d = est.diagnostics
    head["r_hat_max"] = d.r_hat_max
    head["ess_bulk_min"] = d.ess_bulk_min
    head["ess_tail_min"] = d.ess_tail_min
    head["divergences"] = d.divergences
    head["converged"] = d.converged
    head["model_ok"] = d.model_ok
    return head


def backtest(
    claims: ClaimSet | Any,
    dates: Iterable[dt.date | str],
    *,
    executor: Executor | None = None,
    progress: bool = False,
    **fit_kwargs: Any,
) -> Backtest:
    """Refit on each date in ``dates`` with only the claims published by then.

    Fits run in parallel on ``executor`` (any ``concurrent.futures.Executor``: the
    default is a local process pool with one worker per core; pass
    ``dask.distributed.Client(...).get_executor()`` for a cluster). ``fit_kwargs`` go to
    :func:`casualty_models.fit` (``start`` is fixed to the full claim set's start so
    every vintage uses the same grid origin; each fit samples its chains on one core,
    since the parallelism is across dates). With ``progress`` a line per finished date
    goes to stderr.
    """
    from casualty_models.fitting import fit  # noqa: F401  (fail fast on a bad install)

    claims = read_claims(claims)
    vintages = sorted({parse_date(d) for d in dates})
    if not vintages:
        raise ValueError("backtest needs at least one date")
    first = min(c.reported for c in claims if c.reported is not None)
    early = [d for d in vintages if d < first]
    if early:
        raise ValueError(f"no claims were published by {early[0]} (the first was {first})")
    if "start" not in fit_kwargs:
        starts = [c.period_start for c in claims if c.period_start is not None]
        if not starts:
            raise ValueError("backtest needs start='YYYY-MM-DD' (or period_start on claims)")
        fit_kwargs["start"] = min(starts)
    start = parse_date(fit_kwargs["start"])
    fit_kwargs.setdefault("cores", 1)
    if isinstance(fit_kwargs.get("priors"), Priors):
        fit_kwargs["priors"] = fit_kwargs["priors"].to_dict()
    records = claims.to_records()
    own = executor is None
    pool = executor or ProcessPoolExecutor(max_workers=min(len(vintages), os.cpu_count() or 1))
    try:
        futures = {
            pool.submit(_one_vintage, records, claims.origin, d.isoformat(), fit_kwargs): d
            for d in vintages
        }
        parts = []
        for done, fut in enumerate(as_completed(futures), 1):
            parts.append(fut.result())
            if progress:
                print(
                    f"backtest: {futures[fut]} done ({done}/{len(vintages)})",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        if own:
            pool.shutdown(cancel_futures=True)
    history = (
        pd.concat(parts, ignore_index=True)
        .sort_values(["as_reported_on", "side", "category"], kind="stable")
        .reset_index(drop=True)
    )
    return Backtest(claims=claims, history=history, start=start)
