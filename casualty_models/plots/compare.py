"""Before and after: two estimates' curves, and the claims that changed between them.

:func:`plot_compare` draws a :class:`~casualty_models.compare.Comparison`
(``comparison.plot()``) and returns the one Axes it drew on; a figure is made only when
``ax`` is None.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from casualty_models import _hooks
from casualty_models._format import check_level, level_pct, people_tick
from casualty_models.model.priors import DEFAULT_LEVEL
from casualty_models.plots import _style as st

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from casualty_models.claims import Claim
    from casualty_models.compare import Comparison

OLD_COLOR = "#9a9a9a"
"""The earlier estimate (grey, dashed)."""
NEW_COLOR = st.MODEL_COLOR
HIGHLIGHT_COLOR = "#d55e00"
"""The ring around a claim that is new (or the new version of an edited one)."""
_FIGSIZE = (9.0, 5.0)


def people_axis(ax: Axes, log: bool) -> None:
    """Counts of people on the y axis, on a log scale when ``log``."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    if log:
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: people_tick(x)))


def claim_value(c: Claim) -> float:
    """One number to place a claim at: its value, a range's geometric middle, a bound."""
    if c.value is not None:
        return float(c.value)
    if c.low is not None and c.high is not None:
        return math.sqrt(c.low * c.high)
    return float(c.low if c.low is not None else c.high or math.nan)


def _first_day(comparison: Comparison, since: Any) -> Any:
    """The first date :func:`plot_compare` shows."""
    import datetime as dt

    from casualty_models.claims import parse_date

    start = min(comparison.old.settings.start, comparison.new.settings.start)
    if since is None:
        return start
    if isinstance(since, str) and since == "auto":
        old, new = comparison.old.settings.as_of, comparison.new.settings.as_of
        gap = max(4 * abs((new - old).days), 60)
        return max(start, min(old, new) - dt.timedelta(days=gap))
    return parse_date(since)


def _cumulative(claims: Any, series: tuple[str, str], start: Any) -> list[int]:
    """Claims about ``series`` that count from the grid's start (not a later window)."""
    return [
        i
        for i, c in enumerate(claims)
        if c.series == series and (c.period_start is None or c.period_start <= start)
    ]


def plot_compare(
    comparison: Comparison,
    *,
    series: tuple[str, str] | str | None = None,
    ax: Axes | None = None,
    level: float = DEFAULT_LEVEL,
    log: bool | None = None,
    title: str | None = None,
    since: Any = "auto",
    source_line: bool | str = True,
    figsize: tuple[float, float] | None = None,
) -> Axes:
    """The earlier and the new estimate of one series through time, with the claims.

    ``series`` (a ``(side, category)`` tuple or ``"side|category"``; default: the
    series that moved most) is drawn as the earlier estimate (grey, dashed, with its
    ``level`` band) and the new one (dark, with its band); dotted lines mark each one's
    ``as_of``. Claims about the series that count from the grid's start are drawn at
    their ``as_of`` in their source type's colour and shape: unchanged claims hollow,
    the added ones (and the new version of an edited one) filled with an orange ring,
    the removed ones (and the old version of an edited one) hollow with a cross. An
    edit of a citation alone is drawn as unchanged. ``since`` is the first date shown:
    "auto" (the default) shows the stretch that changed, from four times the gap
    between the two ``as_of`` dates (at least 60 days) before the earlier one; None the
    whole grid. ``log`` (default: when the figures shown span more than ×30) puts the
    counts on a log scale. ``source_line`` (True, False or
    a text) writes the source line at the figure's bottom; ``figsize`` sizes the figure
    made when ``ax`` is None.
    """
    from matplotlib import dates as mdates
    from matplotlib.lines import Line2D

    check_level(level)
    pct = level_pct(level)
    head = comparison.headline
    known = st.series_of(head)
    if series is None:
        both = head[head["old_estimable"] & head["new_estimable"]]
        moved = both["change_pct"].abs().fillna(-1).to_numpy()
        chosen = known[0] if both.empty else st.series_of(both)[int(np.argmax(moved))]
    else:
        chosen = st.pick_series(known, series, where="the comparison")[0]
    side, category = chosen
    first = _first_day(comparison, since)
    ax = st.new_axes(ax, figsize or _FIGSIZE)
    ys: list[float] = []
    handles: list[tuple[Any, str]] = []
    for est, color, style, name in (
        (comparison.old, OLD_COLOR, "--", "before"),
        (comparison.new, NEW_COLOR, "-", "now"),
    ):
        summ = est.summary(level=level)
        frame = summ[
            (summ["side"] == side)
            & (summ["category"] == category)
            & (summ["date"] >= np.datetime64(first, "D"))
        ]
        if frame.empty:
            continue
        dates = frame["date"].to_numpy()
        ax.fill_between(
            dates, frame[f"low_{pct}"], frame[f"high_{pct}"], color=color, alpha=0.15, lw=0
        )
        (line,) = ax.plot(dates, frame["median"], color=color, ls=style, lw=1.8)
        ax.axvline(mdates.date2num(est.settings.as_of), color=color, ls=":", lw=1)
        handles.append(
            (
                line,
                f"{name}: as of {est.settings.as_of}, {len(est.claims):,} claims "
                f"(median, {pct}% band)",
            )
        )
        ys += [float(frame["median"].min()), float(frame[f"high_{pct}"].max())]

    changed = comparison.claims[comparison.claims["evidence"].astype(bool)]
    new_idx = {int(i) for i in changed["new_index"].dropna()}
    old_idx = {int(i) for i in changed["old_index"].dropna()}
    old_c, new_c = comparison.old.claims, comparison.new.claims
    for i in _cumulative(new_c, chosen, comparison.new.settings.start):
        c = new_c[i]
        if c.as_of < first:
            continue
        at = np.datetime64(c.as_of, "D")
        ys += st.draw_claim(ax, c, at, vertical=True, ms=8.0, hollow=i not in new_idx)
        if i in new_idx:
            ax.plot([at], [claim_value(c)], "o", ms=15, mfc="none", mec=HIGHLIGHT_COLOR, mew=1.8)
    for i in _cumulative(old_c, chosen, comparison.old.settings.start):
        if i in old_idx and old_c[i].as_of >= first:
            c = old_c[i]
            at = np.datetime64(c.as_of, "D")
            ys += st.draw_claim(ax, c, at, vertical=True, ms=8.0, hollow=True)
            ax.plot([at], [claim_value(c)], "x", ms=11, color=OLD_COLOR, mew=1.8, zorder=6)
    handles += [
        (Line2D([], [], ls="none", marker="o", ms=8, mfc="none", mec=st._GREY), "claims"),
        (
            Line2D([], [], ls="none", marker="o", ms=14, mfc="none", mec=HIGHLIGHT_COLOR, mew=1.8),
            "added, or the new version",
        ),
        (
            Line2D([], [], ls="none", marker="x", ms=10, color=OLD_COLOR, mew=1.8),
            "removed, or the old version",
        ),
    ]
    shown = st.positive(ys)
    if log is None:
        log = bool(shown) and max(shown) / min(shown) > 30
    people_axis(ax, log)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
    ax.set_ylabel(f"{st.text(side)} {st.text(category)}, cumulative")
    row = head[(head["side"] == side) & (head["category"] == category)]
    if title is None:
        title = f"{side} {category}: before and after the new claims"
        change = float(row["change_pct"].iloc[0]) if len(row) else math.nan
        if math.isfinite(change):
            title += f" ({change:+.0f}%)"
    st.title(ax, st.text(title))
    ax.legend(*zip(*handles, strict=True), loc="upper left", fontsize="small", frameon=False)
    st.tidy(ax)
    st.source_line(ax, source_line, lambda: st.estimate_source(comparison.new))
    return ax


@_hooks.provides("Comparison.plot")
def _comparison_plot(comparison: Comparison, **kwargs: Any) -> Axes:
    return plot_compare(comparison, **kwargs)


__all__ = ["HIGHLIGHT_COLOR", "NEW_COLOR", "OLD_COLOR", "plot_compare"]
