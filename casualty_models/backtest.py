"""Backtests: what the library would have said on each past date, from claims known then."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import pandas as pd

from casualty_models import _hooks
from casualty_models._parallel import refit_many
from casualty_models.claims import ClaimSet, parse_date
from casualty_models.estimate import Estimate
from casualty_models.model.priors import DEFAULT_LEVEL
from casualty_models.readers import read_claims


@dataclass(frozen=True)
class Backtest:
    """The estimate history: one headline per (vintage date, series).

    ``history`` columns: ``as_reported_on``, ``side``, ``category``, ``n_claims`` (claims
    published by then), ``mean``, ``median``, ``low_50``/``high_50``,
    ``low_90``/``high_90`` (people, at the vintage date), and the fit's ``r_hat_max``,
    ``ess_bulk_min`` and ``divergences``.
    """

    claims: ClaimSet
    """Every claim, of every vintage."""
    history: pd.DataFrame
    """One row per (vintage date, series): counts in people (see the class docs)."""
    start: dt.date
    """The grid start every vintage shared."""

    def plot(self, *, series: Any = None, ax: Any = None, level: float = DEFAULT_LEVEL) -> Any:
        """How the estimate and its interval moved; see :func:`plotting.plot_backtest`."""
        return _hooks.call("Backtest.plot", self, series=series, ax=ax, level=level)


def _vintage_row(est: Estimate) -> pd.DataFrame:
    """A vintage's headline with its claim count and diagnostics (runs in a worker)."""
    vintage = est.settings.as_reported_on
    assert vintage is not None  # every backtest fit is a vintage
    head = est.headline()
    head.insert(0, "as_reported_on", pd.Timestamp(vintage))
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
    since the parallelism is across dates). With ``progress`` a progress bar
    is shown on stderr.
    """
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
    parts = refit_many(
        [claims] * len(vintages),
        [{**fit_kwargs, "as_reported_on": d.isoformat()} for d in vintages],
        _vintage_row,
        executor=executor,
        workers=min(len(vintages), os.cpu_count() or 1),
        label="backtest vintages",
        progress=progress,
    )
    history = (
        pd.concat(parts, ignore_index=True)
        .sort_values(["as_reported_on", "side", "category"], kind="stable")
        .reset_index(drop=True)
    )
    return Backtest(claims=claims, history=history, start=start)
