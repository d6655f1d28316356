"""How the estimate moved from run to run: the ``history.csv`` that ``update`` keeps.

:func:`plot_history` returns the one :class:`matplotlib.axes.Axes` it drew on and
creates a figure only when ``ax`` is None.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from casualty_models.plots.compare import (
    ADDED_COLOR,
    NEW_COLOR,
    _axes,
    _claim_y,
    _people_axis,
    _text,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from casualty_models.claims import Claim


def plot_history(
    history: pd.DataFrame,
    claims: Sequence[Claim] | None = None,
    *,
    series: tuple[str, str] | str | None = None,
    by: str = "published_by",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """How the estimate moved from run to run, next to the claims published by then.

    ``history`` is a ``history.csv`` (:func:`casualty_models.history.read_history`).
    Each run is a point at ``by`` — ``"published_by"`` (the latest publication date
    among its claims: when the run could first have been made) or ``"run_at"`` (when
    it was made) — with its median and interval; runs whose headline was not estimable
    are left out. ``claims`` (e.g. the last run's) are drawn at their publication date
    (``reported``), up to the last run's ``published_by``: what each run could have
    seen. ``series`` defaults to the first in the history.
    """
    from matplotlib import dates as mdates

    if by not in ("published_by", "run_at"):
        raise ValueError(f"by must be 'published_by' or 'run_at', got {by!r}")
    if history.empty:
        raise ValueError("the history has no runs")
    if series is None:
        chosen = (str(history["side"].iloc[0]), str(history["category"].iloc[0]))
    else:
        chosen = tuple(series.split("|", 1)) if isinstance(series, str) else tuple(series)  # type: ignore[assignment]
    side, category = chosen
    rows = history[(history["side"] == side) & (history["category"] == category)]
    if rows.empty:
        names = sorted(set(zip(history["side"], history["category"], strict=True)))
        raise ValueError(f"no series {chosen!r} in the history; series: {names}")
    lows = [c for c in history.columns if str(c).startswith("low_")]
    low, high = lows[0], f"high_{lows[0][4:]}"
    shown = rows[rows["estimable"].astype(bool) & rows["median"].notna()].sort_values(by)
    ax = _axes(ax, (8.0, 4.4))
    x = pd.to_datetime(shown[by])
    if by == "run_at":
        x = x.dt.tz_localize(None) if x.dt.tz is not None else x
    xs = x.to_numpy()
    med = shown["median"].to_numpy(float)
    ax.vlines(xs, shown[low], shown[high], color=NEW_COLOR, lw=2.5, alpha=0.35)
    ax.plot(
        xs,
        med,
        color=NEW_COLOR,
        marker="o",
        lw=1.2,
        label=f"estimate per run ({lows[0][4:]}% interval)",
    )
    for xi, yi, run in zip(xs, med, shown["run"], strict=True):
        ax.annotate(f"run {run}", (xi, yi), textcoords="offset points", xytext=(4, 6), fontsize=7)
    ys = [*shown[low].tolist(), *shown[high].tolist()]
    if claims is not None:
        last = pd.Timestamp(rows["published_by"].max()).date()
        about = [c for c in claims if c.series == (side, category)]
        # counts of a window that starts later than the others are not cumulative
        starts = [c.period_start for c in about if c.period_start is not None]
        first = min(starts) if starts else None
        mine = [
            c
            for c in about
            if (c.end("reported") or c.as_of) <= last
            and (c.period_start is None or c.period_start == first)
        ]
        xs_c = [np.datetime64(c.reported or c.as_of, "D") for c in mine]
        ys_c = [_claim_y(c)[0] for c in mine]
        if mine:
            ax.scatter(
                xs_c,
                ys_c,
                s=14,
                color=ADDED_COLOR,
                alpha=0.6,
                zorder=3,
                label="claims, at their publication date",
            )
            ys += [y for y in ys_c if math.isfinite(y)]
    finite = [float(y) for y in ys if math.isfinite(float(y)) and float(y) > 0]
    _people_axis(ax, bool(finite) and max(finite) / min(finite) > 30)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
    ax.set_xlabel("claims published by" if by == "published_by" else "run made on")
    ax.set_ylabel(f"{_text(side)} {_text(category)}")
    ax.set_title(_text(title or f"{side} {category}: the estimate run by run"))
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    return ax


__all__ = ["plot_history"]
