"""Before and after: two estimates' curves, and the claims that changed between them.

:func:`plot_compare` draws a :class:`~casualty_models.compare.Comparison` and returns
the one :class:`matplotlib.axes.Axes` it drew on; it creates a figure only when ``ax``
is None (``Comparison.plot()`` calls it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from casualty_models import _hooks
from casualty_models._format import check_level, level_pct, people_tick
from casualty_models.model.priors import DEFAULT_LEVEL

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from casualty_models.claims import Claim, ClaimSet
    from casualty_models.compare import Comparison

OLD_COLOR = "#9a9a9a"
NEW_COLOR = "#222222"
ADDED_COLOR = "#d55e00"  # vermillion: the claims that are new
REMOVED_COLOR = "#666666"


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _fig, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def _text(s: Any) -> str:
    """User text for a label: a literal "$" must not start matplotlib mathtext."""
    return str(s).replace("$", r"\$")


def _people_axis(ax: Axes, log: bool) -> None:
    from matplotlib.ticker import FuncFormatter, NullFormatter

    if log:
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: people_tick(x)))


def _pick(comparison: Comparison, series: Any) -> tuple[str, str]:
    head = comparison.headline
    names = list(zip(head["side"], head["category"], strict=True))
    if series is None:
        moved = head[head["old_estimable"] & head["new_estimable"]]
        if moved.empty:
            return names[0]
        top = moved.iloc[int(np.argmax(moved["change_pct"].abs().fillna(-1).to_numpy()))]
        return (str(top["side"]), str(top["category"]))
    chosen = tuple(series.split("|", 1)) if isinstance(series, str) else tuple(series)
    if chosen not in names:
        raise ValueError(f"no series {chosen!r} in the comparison; series: {names}")
    return (str(chosen[0]), str(chosen[1]))


def _claim_y(c: Claim) -> tuple[float, float, float]:
    """(central value, low, high) to draw; NaN where the claim does not give one."""
    low = c.low if c.low is not None else math.nan
    high = c.high if c.high is not None else math.nan
    if c.value is not None:
        return c.value, low, high
    if c.low is not None and c.high is not None:
        return math.sqrt(c.low * c.high), low, high
    return (c.low or c.high or math.nan), low, high


def _draw_claims(
    ax: Axes,
    claims: Sequence[Claim],
    *,
    color: str,
    marker: str,
    size: float,
    label: str,
    **kw: Any,
) -> list[float]:
    ys: list[float] = []
    first = True
    for c in claims:
        y, low, high = _claim_y(c)
        x = np.datetime64(c.as_of, "D")
        if math.isfinite(low) or math.isfinite(high):
            lo = low if math.isfinite(low) else y
            hi = high if math.isfinite(high) else y * 1.6
            if not math.isfinite(high):
                lo, hi = low, low * 1.6  # "at least": a bar upward
            if not math.isfinite(low):
                lo, hi = high / 1.6, high  # "at most": a bar downward
            ax.vlines(x, lo, hi, color=color, lw=2, alpha=0.8, zorder=4)
            ys += [lo, hi]
        ax.scatter(
            [x],
            [y],
            s=size,
            color=color,
            marker=marker,
            zorder=5,
            label=label if first else None,
            **kw,
        )
        first = False
        ys.append(y)
    return ys


def plot_compare(
    comparison: Comparison,
    *,
    series: tuple[str, str] | str | None = None,
    ax: Axes | None = None,
    level: float = DEFAULT_LEVEL,
    log: bool | None = None,
    title: str | None = None,
) -> Axes:
    """The old and the new estimate of one series over time, with the claims.

    ``series`` (a ``(side, category)`` tuple or ``"side|category"``; default: the one
    that moved most) is drawn as the old estimate (grey, dashed, its ``level`` band)
    and the new one (dark, its band). Claims about the series that count from the
    grid's start are drawn at their ``as_of``: unchanged ones small and grey, added
    ones (and the new version of an edited one) large and coloured, removed ones (and
    the old version of an edited one) as crosses. Dotted lines mark the two ``as_of``
    dates. ``log`` (default: when the figures span more than ×30) puts counts on a log
    scale.
    """
    from matplotlib import dates as mdates

    check_level(level)
    pct = level_pct(level)
    side, category = _pick(comparison, series)
    ax = _axes(ax, (8.0, 4.6))
    ys: list[float] = []
    for est, color, style, name in (
        (comparison.old, OLD_COLOR, "--", "before"),
        (comparison.new, NEW_COLOR, "-", "now"),
    ):
        summ = est.summary(level=level)
        frame = summ[(summ["side"] == side) & (summ["category"] == category)]
        if frame.empty:
            continue
        dates = frame["date"].to_numpy()
        ax.fill_between(
            dates, frame[f"low_{pct}"], frame[f"high_{pct}"], color=color, alpha=0.15, lw=0
        )
        ax.plot(
            dates,
            frame["median"],
            color=color,
            ls=style,
            lw=1.8,
            label=f"{name}: as of {est.settings.as_of}, {len(est.claims)} claims "
            f"(median, {pct}% band)",
        )
        ax.axvline(mdates.date2num(est.settings.as_of), color=color, ls=":", lw=1)
        ys += [float(frame["median"].min()), float(frame[f"high_{pct}"].max())]

    def cumulative(est_claims: ClaimSet, start: Any) -> list[int]:
        return [
            i
            for i, c in enumerate(est_claims)
            if c.series == (side, category) and (c.period_start is None or c.period_start <= start)
        ]

    changes = comparison.claims[comparison.claims["evidence"].astype(bool)]  # not a citation
    new_idx = {int(r) for r in changes["new_index"].dropna()}
    old_idx = {int(r) for r in changes["old_index"].dropna()}
    old_c, new_c = comparison.old.claims, comparison.new.claims
    keep_new = cumulative(new_c, comparison.new.settings.start)
    keep_old = cumulative(old_c, comparison.old.settings.start)
    same = [new_c[i] for i in keep_new if i not in new_idx]
    added = [new_c[i] for i in keep_new if i in new_idx]
    gone = [old_c[i] for i in keep_old if i in old_idx]
    ys += _draw_claims(ax, same, color=OLD_COLOR, marker="o", size=18, label="claims, unchanged")
    ys += _draw_claims(
        ax, gone, color=REMOVED_COLOR, marker="x", size=40, label="removed (or the old version)"
    )
    ys += _draw_claims(
        ax,
        added,
        color=ADDED_COLOR,
        marker="o",
        size=60,
        label="added (or the new version)",
        edgecolors="black",
        linewidths=0.8,
    )
    finite = [y for y in ys if math.isfinite(y) and y > 0]
    if log is None:
        log = bool(finite) and max(finite) / min(finite) > 30
    _people_axis(ax, log)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
    ax.set_ylabel(f"{_text(side)} {_text(category)} (cumulative)")
    row = comparison.headline[
        (comparison.headline["side"] == side) & (comparison.headline["category"] == category)
    ]
    if title is None:
        title = f"{side} {category}: before and after the new claims"
        if len(row) and math.isfinite(float(row["change_pct"].iloc[0])):
            title += f" ({float(row['change_pct'].iloc[0]):+.0f}%)"
    ax.set_title(_text(title))
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    return ax


@_hooks.provides("Comparison.plot")
def _comparison_plot(comparison: Comparison, **kwargs: Any) -> Axes:
    return plot_compare(comparison, **kwargs)


__all__ = ["plot_compare"]
