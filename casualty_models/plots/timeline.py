"""The cumulative true count over time with the claims at their dates: :func:`plot_timeline`.

:func:`casualty_models.plots.plot_panels` (one panel per series) is the recommended main
figure; this one puts every series on one axis and is kept for compatibility.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from casualty_models._format import check_level, date, level_pct, people_tick
from casualty_models.model.priors import DEFAULT_LEVEL
from casualty_models.plots import _style as st

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from casualty_models.estimate import Estimate

_FIGSIZE = (11.0, 6.5)


def _spread_labels(pos: np.ndarray, gap: float) -> np.ndarray:
    """Move positions in [0, 1] apart by at least ``gap``, keeping their order."""
    out = pos.astype(float).copy()
    order = np.argsort(out)
    for a, b in itertools.pairwise(order):
        out[b] = max(out[b], out[a] + gap)
    excess = out[order[-1]] - 0.98 if len(out) else 0.0
    if excess > 0:
        out -= excess
    return out


@dataclass
class _Drawn:
    """What the curves and claims put on the axes, for its limits, labels and legend."""

    ys: list[float] = field(default_factory=list)  # figures that must be visible
    kinds: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    ends: list[tuple[str, str, float]] = field(default_factory=list)  # label, colour, median
    series_handles: list[tuple[Any, str]] = field(default_factory=list)
    first_claim: pd.Timestamp | None = None


def _draw_curve(
    ax: Axes, frame: pd.DataFrame, pct: str, color: str, ls: str, label: str, *, many: bool
) -> None:
    """A series' posterior median with its 50% and ``pct``% bands."""
    dates = frame["date"].to_numpy()
    ax.fill_between(
        dates,
        frame[f"low_{pct}"],
        frame[f"high_{pct}"],
        color=color,
        alpha=0.08 if many else 0.12,
        lw=0,
        zorder=1,
    )
    ax.fill_between(
        dates,
        frame["low_50"],
        frame["high_50"],
        color=color,
        alpha=0.16 if many else 0.25,
        lw=0,
        zorder=1.5,
    )
    ax.plot(
        dates, frame["median"], color=color, lw=2, ls=ls, zorder=2, label=label, gid="series-median"
    )


def _draw_series_claim(ax: Axes, r: Any, marker: str) -> list[float]:
    """A cumulative claim at its date in its series' ``marker`` (with several series),
    coloured by source type: a vertical bar for a range, the value on a thin bar for a
    central estimate, an arrow up or down for "at least" / "at most". Returns the
    figures drawn."""
    cc = st.color(r.source_type)
    when = np.datetime64(r.as_of, "D")
    style: dict[str, Any] = {"color": cc, "mec": "white", "zorder": 5, "gid": "claim"}
    if r.kind == "point":
        ax.plot([when], [r.value], marker, mew=1, ms=8, **style)
        return [r.value]
    if r.kind == "central":  # the value on a thin bar over its interval
        ax.plot([when, when], [r.low, r.high], color=cc, lw=1.5, zorder=4.8)
        ax.plot([when], [r.value], marker, mew=1, ms=8, **style)
        return [r.low, r.value, r.high]
    if r.kind == "range":
        ax.plot(
            [when, when],
            [r.low, r.high],
            lw=3,
            solid_capstyle="butt",
            marker=marker,
            ms=7,
            mew=2,
            **style,
        )
        return [r.low, r.high]
    bound = r.low if r.kind == "floor" else r.high
    ax.plot([when], [bound], marker, ms=8, mew=1, **style)
    st.bound_arrow(ax, when, bound, "up" if r.kind == "floor" else "down", cc)
    return [bound]


def _count_axis(
    ax: Axes,
    drawn: _Drawn,
    lows: pd.Series,
    log: bool | None,
) -> tuple[bool, float, float]:
    """The y axis: log when asked, or by default when the figures span more than ×30
    (from the smallest figure or the lower band ``lows`` from the first claim on).
    Returns (log, low, high)."""
    from matplotlib.ticker import FuncFormatter

    pos = np.array(st.positive(drawn.ys))
    top = float(pos.max()) if len(pos) else 1.0
    if log is None:
        log = bool(len(pos)) and top / float(pos.min()) > 30
    if log:
        bottom = min(float(pos.min()) if len(pos) else top, float(lows.min()))
        lo, hi = max(bottom, 1e-3) / 1.5, top * 1.8
        st.log_people_axis(ax, lo, hi, axis="y")
    else:
        lo, hi = 0.0, top * 1.12
        ax.set_ylim(lo, hi)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: people_tick(x)))
    return log, lo, hi


def _label_ends(ax: Axes, drawn: _Drawn, last: Any, log: bool, lo: float, hi: float) -> None:
    """Each curve's name at its right end, nudged apart so labels never collide."""

    def frac(y: float) -> float:
        if log:
            return math.log(max(y, lo) / lo) / math.log(hi / lo)
        return (y - lo) / (hi - lo)

    spots = _spread_labels(np.array([frac(y) for _, _, y in drawn.ends]), gap=0.045)
    for (label, color, _), spot in zip(drawn.ends, spots, strict=True):
        ax.annotate(
            label,
            (np.datetime64(last, "D"), float(spot)),
            xycoords=("data", "axes fraction"),
            xytext=(6, 0),
            textcoords="offset points",
            color=color,
            fontsize="small",
            fontweight="bold",
            va="center",
            annotation_clip=False,
        )


def _mark_as_of(ax: Axes, as_of: Any) -> None:
    """The dotted vertical line at the estimate's ``as_of`` date, labelled."""
    from matplotlib import dates as mdates

    day = np.datetime64(as_of, "D")
    ax.axvline(mdates.date2num(day), color="#444444", ls=":", lw=1.4, zorder=1)
    ax.annotate(
        f"as of {date(as_of)}",
        (day, 0.0),
        xycoords=("data", "axes fraction"),
        xytext=(-4, 4),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize="small",
        color="#444444",
    )


def _skipped_note(ax: Axes, skipped: int, start: Any) -> None:
    ax.text(
        0.01,
        0.98,
        f"{skipped} claim{'s' if skipped != 1 else ''} counting a window that starts "
        f"after {date(start)}\n(not a cumulative count) not shown",
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize="small",
        style="italic",
        color="#555555",
        gid="skipped-note",
    )


def _legend(ax: Axes, drawn: _Drawn, pct: str, *, many: bool) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    grey = "#555555" if many else st.MODEL_COLOR
    handles: list[tuple[Any, str]] = drawn.series_handles or [
        (Line2D([], [], color=grey, lw=2), "true count, per the model (median)")
    ]
    handles += [
        (Patch(color=grey, alpha=0.37, lw=0), "50% credible interval"),
        (Patch(color=grey, alpha=0.12, lw=0), f"{pct}% credible interval"),
    ]
    kinds = [k for k in drawn.kinds if not (many and k == "point")]
    handles += st.kind_handles(kinds, vertical=True, shapes=not many)
    handles += st.type_handles(drawn.types, shapes=not many)
    key = (
        "line: a series' model median · marker shape: which series a claim is about · "
        "colour: source type"
    )
    st.legend_below(ax, handles, ncol=3, drop=0.62, title=key if many else None)


def plot_timeline(
    estimate: Estimate,
    *,
    series: tuple[str, str] | str | None = None,
    ax: Axes | None = None,
    level: float = DEFAULT_LEVEL,
    log: bool | None = None,
    title: str | None = None,
    source_line: bool | str = True,
    figsize: tuple[float, float] | None = None,
) -> Axes:
    """Cumulative true count over the daily grid, with the claims at their dates.

    One curve per series (or only ``series``, a ``(side, category)`` tuple or
    ``"side|category"``): posterior median with 50% and ``level`` bands. Claims are
    drawn at their ``as_of`` date in their source type's colour and marker shape (a
    range's ends joined by a vertical bar, "at least" / "at most" with an arrow up /
    down); with several series, each series has its own line style, and the claim's
    marker says which series it is about. Claims counting a window that starts after
    the grid's start are not cumulative, so they are left out and a note says how many.
    The dotted vertical line is the estimate's ``as_of`` date. ``log`` puts the counts on
    a log scale; by default it does so when the plotted figures span more than ×30.
    ``source_line`` (True, False or a text) writes the source line at the figure's
    bottom: as-of date, number of claims, package version.

    Every series on one axis gets crowded beyond two or three series:
    :func:`~casualty_models.plots.plot_panels` (one panel per series) is the
    recommended main figure.
    ``figsize`` (inches) sizes the figure made when ``ax`` is None.
    """
    from matplotlib.lines import Line2D

    check_level(level)
    pct = level_pct(level)
    summ = estimate.summary(level=level)
    all_series = st.series_of(summ)
    chosen = st.pick_series(all_series, series)
    ax = st.new_axes(ax, figsize or _FIGSIZE)
    claims = estimate.claim_figures()
    many = len(chosen) > 1
    drawn = _Drawn()
    for k, (side, category) in enumerate(chosen):
        color = st.SERIES_COLORS[all_series.index((side, category)) % len(st.SERIES_COLORS)]
        color = color if many else st.MODEL_COLOR
        ls = st.SERIES_LINESTYLES[k % len(st.SERIES_LINESTYLES)] if many else "-"
        marker = st.SERIES_MARKERS[k % len(st.SERIES_MARKERS)] if many else "o"
        frame = summ[(summ["side"] == side) & (summ["category"] == category)]
        name = st.text(f"{side} {category}")
        _draw_curve(ax, frame, pct, color, ls, name, many=many)
        at = frame[frame["date"] == pd.Timestamp(estimate.settings.as_of)]
        drawn.ys += [float(at["median"].iloc[0]), float(at[f"high_{pct}"].iloc[0])]
        drawn.ends.append((name, color, float(frame["median"].iloc[-1])))
        if many:
            handle = Line2D(
                [], [], color=color, ls=ls, lw=2, marker=marker, ms=7, mfc="#888888", mec="white"
            )
            drawn.series_handles.append((handle, name))
        mine: Any = claims[(claims["side"] == side) & (claims["category"] == category)]
        for r in mine[mine["cumulative"]].itertuples(index=False):
            first = drawn.first_claim
            drawn.first_claim = r.as_of if first is None else min(first, r.as_of)
            drawn.kinds.append(r.kind)
            drawn.types.append(r.source_type)
            if many:  # the marker says which series the claim is about
                drawn.ys += _draw_series_claim(ax, r, marker)
            else:
                drawn.ys += st.draw_claim(ax, r, r.as_of, vertical=True)
    in_chosen = [s in chosen for s in zip(summ["side"], summ["category"], strict=True)]
    lows = summ.loc[in_chosen]
    if drawn.first_claim is not None:
        lows = lows[lows["date"] >= drawn.first_claim]
    log, lo, hi = _count_axis(ax, drawn, lows[f"low_{pct}"], log)
    first_day, last_day = summ["date"].min(), summ["date"].max()
    st.date_axis(ax, first_day, last_day)
    ax.set_ylabel("people, cumulative" + (" (log scale)" if log else ""))
    ax.grid(axis="y", color="#e3e3e3", lw=0.8)
    ax.set_axisbelow(True)
    st.tidy(ax)
    if many:
        _label_ends(ax, drawn, last_day, log, lo, hi)
    _mark_as_of(ax, estimate.settings.as_of)
    in_series = claims[[s in chosen for s in zip(claims["side"], claims["category"], strict=True)]]
    skipped = int((~in_series["cumulative"]).sum())
    if skipped:
        _skipped_note(ax, skipped, estimate.settings.start)
    if title is None:
        what = f"{chosen[0][0]} {chosen[0][1]}" if not many else f"counts ({len(chosen)} series)"
        title = st.text(
            f"Cumulative {what} since {date(estimate.settings.start)}: model and claims"
        )
    st.title(ax, title)
    _legend(ax, drawn, pct, many=many)
    st.source_line(ax, source_line, lambda: st.estimate_source(estimate))
    return ax
