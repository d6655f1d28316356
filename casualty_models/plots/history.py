"""How the estimate moved from run to run: the ``history.csv`` that ``update`` keeps.

:func:`plot_history` returns the one Axes it drew on; a figure is made only when ``ax``
is None.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from casualty_models.plots import _style as st
from casualty_models.plots.compare import people_axis

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from casualty_models.claims import Claim

BY: tuple[str, ...] = ("published_by", "run_at")
_FIGSIZE = (9.0, 4.6)


def plot_history(
    history: pd.DataFrame,
    claims: Sequence[Claim] | None = None,
    *,
    series: tuple[str, str] | str | None = None,
    by: str = "published_by",
    ax: Axes | None = None,
    title: str | None = None,
    source_line: bool | str = True,
    figsize: tuple[float, float] | None = None,
) -> Axes:
    """Each run's estimate of one series, next to the claims published by then.

    ``history`` is a ``history.csv`` (:func:`casualty_models.history.read_history`).
    Each run is drawn at ``by`` — ``"published_by"``, the latest publication date
    among its claims (when it could first have been made), or ``"run_at"``, when it was
    made — as its median and interval; runs whose headline was not estimable are left
    out. ``claims`` (the last run's, say) are drawn at their publication date
    (``reported``) in their source type's colour and shape, up to the last run's
    ``published_by``: what the runs could have seen. ``series`` ((side, category) or
    "side|category") defaults to the first in the history. ``source_line`` (True, False
    or a text) writes the source line; ``figsize`` sizes the figure made when ``ax`` is
    None.
    """
    from matplotlib import dates as mdates

    if by not in BY:
        raise ValueError(f"by must be one of {BY}, got {by!r}")
    if history.empty:
        raise ValueError("the history has no runs")
    known = st.series_of(history)
    side, category = st.pick_series(known, series or known[0], where="the history")[0]
    rows = history[(history["side"] == side) & (history["category"] == category)]
    low = next(str(c) for c in history.columns if str(c).startswith("low_"))
    high = f"high_{low[4:]}"
    shown = rows[rows["estimable"].astype(bool) & rows["median"].notna()].sort_values(by)
    ax = st.new_axes(ax, figsize or _FIGSIZE)
    x = pd.to_datetime(shown[by])
    if getattr(x.dt, "tz", None) is not None:
        x = x.dt.tz_convert(None)
    xs = x.to_numpy()
    ax.vlines(xs, shown[low], shown[high], color=st.MODEL_COLOR, lw=6, alpha=0.3)
    ax.plot(
        xs,
        shown["median"],
        color=st.MODEL_COLOR,
        marker="o",
        lw=1.2,
        label=f"each run's median and {low[4:]}% interval",
    )
    for xi, yi, run in zip(xs, shown["median"], shown["run"], strict=True):
        ax.annotate(
            f"run {run}", (xi, yi), textcoords="offset points", xytext=(5, 5), fontsize="x-small"
        )
    ys = [*shown[low], *shown[high]]
    if claims is not None:
        last = pd.Timestamp(rows["published_by"].max()).date()
        about = [c for c in claims if c.series == (side, category)]
        # counts over a window that starts later than the others are not cumulative
        starts = [c.period_start for c in about if c.period_start is not None]
        first = min(starts) if starts else None
        seen = [
            c
            for c in about
            if (c.end("reported") or c.as_of) <= last
            and (c.period_start is None or c.period_start == first)
        ]
        for c in seen:
            at = np.datetime64(c.reported or c.as_of, "D")
            ys += st.draw_claim(ax, c, at, vertical=True, ms=5.0, hollow=True)
        if seen:
            ax.plot(
                [], [], ls="none", marker="o", mfc="none", mec=st._GREY, label="claims, published"
            )
    values = st.positive(ys)
    people_axis(ax, bool(values) and max(values) / min(values) > 30)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
    ax.set_xlabel("claims published by" if by == "published_by" else "run made on")
    ax.set_ylabel(f"{st.text(side)} {st.text(category)}")
    st.title(ax, st.text(title or f"{side} {category}: the estimate run by run"))
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    st.tidy(ax)
    n = int(rows["n_claims"].max())
    st.source_line(
        ax,
        source_line,
        lambda: st.source_text(as_of=pd.Timestamp(rows["as_of"].max()).date(), n_claims=n),
    )
    return ax


__all__ = ["BY", "plot_history"]
