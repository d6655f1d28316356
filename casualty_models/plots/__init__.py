"""Plots of an :class:`~casualty_models.Estimate`: claims vs model, timeline, source biases.

Every function has the form ``f(estimate, *, ax=None, level=DEFAULT_LEVEL, ...)`` and
returns the one :class:`matplotlib.axes.Axes` it drew on; the trust plots
(:func:`plot_sensitivity`, :func:`plot_loso`) take the table of
:mod:`casualty_models.trust` instead of the estimate. A figure is created only when
``ax`` is None; nothing here calls ``plt.show()``. Colours follow
:data:`SOURCE_TYPE_COLORS` in every plot.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from casualty_models import _hooks
from casualty_models.claims import SOURCE_TYPES, Claim
from casualty_models.model.priors import DEFAULT_LEVEL

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from casualty_models.estimate import Estimate

SOURCE_TYPE_COLORS: Mapping[str, str] = {
    "own": "#0072b2",  # blue
    "enemy": "#d55e00",  # vermillion
    "neutral": "#009e73",  # bluish green
    "tally": "#cc79a7",  # reddish purple
    "independent": "#e69f00",  # orange
    "known": "#6a3d9a",  # purple
}
"""One colour per source type (Okabe–Ito, colour-blind safe, plus purple), used by every plot."""

SOURCE_TYPE_LABELS: Mapping[str, str] = {
    "own": "own: a side on its own losses",
    "enemy": "enemy: a side on the other's",
    "neutral": "neutral: third-party government",
    "tally": "tally: named-person count",
    "independent": "independent estimate",
    "known": "known: count taken as truth",
}

MODEL_COLOR = "#222222"
"""The model's posterior of the true count."""
SERIES_COLORS: tuple[str, ...] = ("#222222", "#6b4f3a", "#4a5a78", "#7a7a2a", "#6d6d6d")
"""Model curves in :func:`plot_timeline`, one per series (dark, unlike source types)."""
SURPRISE_COLOR = "#fde2e1"
SURPRISE_TEXT_COLOR = "#b3261e"

_FALLBACK_COLOR = "#777777"
_ARROW_POINTS = 20.0  # length of the "at least" / "at most" arrows, in points


def _pct(level: float) -> str:
    return f"{100 * level:g}"


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")


def _text(s: Any) -> str:
    """User text for a label: a literal "$" must not start matplotlib mathtext."""
    return str(s).replace("$", r"\$")


def _color(source_type: str) -> str:
    return SOURCE_TYPE_COLORS.get(source_type, _FALLBACK_COLOR)


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _fig, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def _people(x: float) -> str:
    """Tick label for a count of people: 0.5 / 1,000 / 200,000 / 3M."""
    if x >= 1e6:
        return f"{x / 1e6:g}M"
    if x >= 1:
        return f"{x:,.0f}"
    return f"{x:g}"


def _share(x: float) -> str:
    """A fraction as a percentage; "n/a" when undefined (e.g. a prior with zero spread)."""
    return f"{x:.0%}" if math.isfinite(x) else "n/a"


def _shorten(text: str, width: int = 40) -> str:
    """Long source names would squeeze the plot; the report's tables keep them whole."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _log_people_axis(ax: Axes, lo: float, hi: float, *, axis: str = "x") -> None:
    """Log scale in people with plain thousands-separated tick labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    decades = math.log10(hi / lo)
    subs = (1.0, 2.0, 5.0) if decades <= 1.6 else (1.0, 3.0) if decades <= 3.3 else (1.0,)
    target = ax.xaxis if axis == "x" else ax.yaxis
    if axis == "x":
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
    else:
        ax.set_yscale("log")
        ax.set_ylim(lo, hi)
    target.set_major_locator(LogLocator(base=10, subs=subs))
    target.set_major_formatter(FuncFormatter(lambda x, _pos: _people(x)))
    target.set_minor_formatter(NullFormatter())


def _bound_arrow(
    ax: Axes, x: Any, y: float, direction: str, color: str, *, zorder: float = 4
) -> None:
    """An arrow starting at data point (x, y) pointing ``right/left/up/down``."""
    dx, dy = {"right": (1, 0), "left": (-1, 0), "up": (0, 1), "down": (0, -1)}[direction]
    ax.annotate(
        "",
        xy=(x, y),
        xytext=(dx * _ARROW_POINTS, dy * _ARROW_POINTS),
        textcoords="offset points",
        arrowprops={
            "arrowstyle": "<|-",
            "color": color,
            "lw": 1.8,
            "mutation_scale": 11,
            "shrinkA": 0,
            "shrinkB": 0,
        },
        zorder=zorder,
    )


class _BoundHandle:
    """Legend proxy for an "at least" (``right``) or "at most" (``left``) mark."""

    def __init__(self, direction: str, color: str):
        self.direction = direction
        self.color = color


class _BoundHandler:
    """Draws a :class:`_BoundHandle` in a legend: a bar with an arrow away from it."""

    def legend_artist(
        self, legend: Any, orig_handle: _BoundHandle, fontsize: float, handlebox: Any
    ) -> Any:
        from matplotlib.lines import Line2D
        from matplotlib.patches import FancyArrowPatch

        x0, y0 = handlebox.xdescent, handlebox.ydescent
        w, h = handlebox.width, handlebox.height
        tr = handlebox.get_transform()
        mid, centre = y0 + h / 2, x0 + w / 2
        tail: tuple[float, float]
        head: tuple[float, float]
        if orig_handle.direction in ("right", "left"):
            start, end = (
                (x0 + 0.2 * w, x0 + w) if orig_handle.direction == "right" else (x0 + 0.8 * w, x0)
            )
            bar = Line2D(
                [start, start], [y0, y0 + h], color=orig_handle.color, lw=2.2, transform=tr
            )
            tail, head = (start, mid), (end, mid)
        else:
            low, high = y0 - 0.25 * h, y0 + 1.25 * h
            start, end = (low, high) if orig_handle.direction == "up" else (high, low)
            bar = Line2D(
                [centre - 0.22 * w, centre + 0.22 * w],
                [start, start],
                color=orig_handle.color,
                lw=2.2,
                transform=tr,
            )
            tail, head = (centre, start), (centre, end)
        arrow = FancyArrowPatch(
            tail,
            head,
            arrowstyle="-|>",
            mutation_scale=fontsize * 0.9,
            color=orig_handle.color,
            lw=1.6,
            shrinkA=0,
            shrinkB=0,
            transform=tr,
        )
        handlebox.add_artist(bar)
        handlebox.add_artist(arrow)
        return arrow


def _kind_handles(
    kinds: Sequence[str], *, vertical: bool = False, point_marker: str = "o"
) -> list[tuple[Any, str]]:
    """Legend (handle, label) pairs for the claim kinds present."""
    from matplotlib.lines import Line2D

    grey = "#555555"
    out: list[tuple[Any, str]] = []
    if "point" in kinds:
        out.append(
            (
                Line2D([], [], marker=point_marker, ls="none", color=grey, mec="white", ms=8),
                "claimed figure",
            )
        )
    if "range" in kinds:
        if vertical:
            handle = Line2D([], [], marker="|", ls="none", color=grey, ms=12, mew=3)
        else:
            handle = Line2D([], [], color=grey, lw=3.5, solid_capstyle="butt")
        out.append((handle, "claimed range"))
    if "floor" in kinds:
        out.append((_BoundHandle("up" if vertical else "right", grey), "“at least” figure"))
    if "ceiling" in kinds:
        out.append((_BoundHandle("down" if vertical else "left", grey), "“at most” figure"))
    return out


def _type_handles(types: Sequence[str]) -> list[tuple[Any, str]]:
    from matplotlib.patches import Patch

    present = [t for t in SOURCE_TYPES if t in set(types)]
    present += sorted(t for t in set(types) if t not in SOURCE_TYPES)
    return [(Patch(color=_color(t)), _text(SOURCE_TYPE_LABELS.get(t, t))) for t in present]


def _legend_below(
    ax: Axes,
    handles: list[tuple[Any, str]],
    *,
    ncol: int = 2,
    drop: float = 0.5,
    title: str | None = None,
) -> None:
    """Legend under the axes, ``drop`` inches below its bottom edge (clear of the labels).

    Centred on the figure when the axes is alone in it (long y labels shift the axes
    right), else on the axes.
    """
    from matplotlib.transforms import ScaledTranslation, Transform, blended_transform_factory

    if not handles:
        return
    fig = ax.figure
    alone = len(fig.axes) == 1
    xform: Transform = blended_transform_factory(
        fig.transFigure if alone else ax.transAxes, ax.transAxes
    ) + ScaledTranslation(0, -drop, fig.dpi_scale_trans)
    ax.legend(
        [h for h, _ in handles],
        [label for _, label in handles],
        handler_map={_BoundHandle: _BoundHandler()},
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=xform,
        ncol=ncol,
        frameon=False,
        fontsize="small",
        handlelength=2.2,
        columnspacing=1.6,
        title=title,
        title_fontsize="small",
    )


def _tidy(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


# ------------------------------------------------------------------------------ claims
def _claim_label(claim: Claim, start: Any) -> str:
    label = _text(
        f"{_shorten(claim.source)} — {claim.side}/{claim.category}, {claim.as_of.isoformat()}"
    )
    if claim.period_start is not None and claim.period_start != start:
        label += f" (from {claim.period_start.isoformat()})"
    return label


def _select_rows(n: int, surprising: np.ndarray, max_rows: int | None) -> np.ndarray:
    """Claim indices to show: all, or every surprising claim plus an even spread."""
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    if max_rows < 1:
        raise ValueError(f"max_rows must be a positive integer or None, got {max_rows}")
    flagged = np.flatnonzero(surprising)[:max_rows]
    rest = np.setdiff1d(np.arange(n), flagged)
    room = max_rows - len(flagged)
    picked = (
        rest[np.unique(np.linspace(0, len(rest) - 1, room).round().astype(int))]
        if room > 0
        else np.array([], dtype=int)
    )
    return np.sort(np.concatenate([flagged, picked]))


def claims_figsize(n_rows: int) -> tuple[float, float]:
    """Default figure size of :func:`plot_claims` for ``n_rows`` claims."""
    return (11.0, 2.6 + 0.48 * n_rows)


def plot_claims(
    estimate: Estimate,
    *,
    ax: Axes | None = None,
    level: float = DEFAULT_LEVEL,
    max_rows: int | None = 60,
    title: str | None = None,
) -> Axes:
    """Every claim beside the model's view of it, one row per claim (log scale).

    Per row, top to bottom: the claimed figure (a dot; a bar for a range; a bar with an
    arrow for "at least" / "at most"), coloured by source type; the posterior predictive
    ``level`` interval of what that source would say (light band); and the posterior of
    the true count for the claim's series and window (black: median and ``level``
    interval). Rows of surprising claims (``claims_check()["surprising"]``) are shaded.
    Above ``max_rows`` claims, all surprising claims and an even spread of the rest are
    shown (``max_rows=None`` shows all).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    _check_level(level)
    pct = _pct(level)
    check = estimate.claims_check(level=level)
    idata: Any = estimate.idata
    log_count = np.asarray(idata.posterior["log_count"])
    log_count = log_count.reshape(-1, log_count.shape[-1])  # (sample, claim)
    tail = (1 - level) / 2
    true_lo, true_med, true_hi = np.exp(np.quantile(log_count, [tail, 0.5, 1 - tail], axis=0))
    surprising = check["surprising"].to_numpy(dtype=bool)
    rows = _select_rows(len(estimate.claims), surprising, max_rows)
    ax = _new_axes(ax, claims_figsize(len(rows)))

    pred_lo = check[f"predicted_low_{pct}"].to_numpy()
    pred_med = check["predicted_median"].to_numpy()
    pred_hi = check[f"predicted_high_{pct}"].to_numpy()
    start = estimate.settings.start
    xs: list[float] = []
    labels = []
    kinds: list[str] = []
    types: list[str] = []
    off = 0.24  # vertical offset of the sub-rows
    for y, i in enumerate(rows):
        c = estimate.claims[int(i)]
        color = _color(c.source_type)
        kinds.append(c.kind)
        types.append(c.source_type)
        labels.append(_claim_label(c, start))
        if y % 2 == 1:
            ax.axhspan(y - 0.5, y + 0.5, color="#f4f4f4", zorder=0, lw=0)
        if surprising[i]:
            ax.axhspan(y - 0.5, y + 0.5, color=SURPRISE_COLOR, zorder=0.5, lw=0, gid="surprising")
        # the claim itself
        yc = y - off
        if c.kind == "point":
            assert c.value is not None
            ax.plot([c.value], [yc], "o", color=color, mec="white", mew=1, ms=8, zorder=5)
            xs.append(c.value)
        elif c.kind == "range":
            assert c.low is not None and c.high is not None
            ax.plot(
                [c.low, c.high],
                [yc, yc],
                color=color,
                lw=3.5,
                zorder=5,
                solid_capstyle="butt",
                marker="|",
                ms=9,
                mew=2,
            )
            xs += [c.low, c.high]
        else:
            bound = c.low if c.kind == "floor" else c.high
            assert bound is not None
            ax.plot([bound], [yc], "|", color=color, ms=11, mew=2.5, zorder=5)
            _bound_arrow(ax, bound, yc, "right" if c.kind == "floor" else "left", color)
            xs.append(bound)
        # what the model expects this source to say
        ax.plot(
            [pred_lo[i], pred_hi[i]],
            [y, y],
            color=color,
            alpha=0.35,
            lw=6,
            solid_capstyle="butt",
            zorder=3,
        )
        ax.plot([pred_med[i]], [y], "|", color=color, ms=8, mew=2, zorder=3.5)
        # the model's true count for this claim's series and window
        yt = y + off
        ax.plot([true_lo[i], true_hi[i]], [yt, yt], color=MODEL_COLOR, lw=1.8, zorder=4)
        ax.plot([true_med[i]], [yt], "D", color=MODEL_COLOR, ms=5, zorder=4.5)
        xs += [pred_lo[i], pred_hi[i], true_lo[i], true_hi[i]]

    n = len(rows)
    ax.set_yticks(np.arange(n), labels, fontsize="small" if n > 20 else None)
    for tick, i in zip(ax.get_yticklabels(), rows, strict=True):
        if surprising[i]:
            tick.set_color(SURPRISE_TEXT_COLOR)
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(n - 0.5, -0.5)  # first claim on top
    finite = [x for x in xs if np.isfinite(x) and x > 0]
    lo, hi = (min(finite), max(finite)) if finite else (1.0, 10.0)
    _log_people_axis(ax, lo / 1.6, hi * 2.2)
    ax.grid(axis="x", which="major", color="#dddddd", lw=0.8, zorder=0)
    ax.set_axisbelow(True)
    shown = (
        ""
        if n == len(estimate.claims)
        else f"\n{n} of {len(estimate.claims)} claims shown (all surprising + an even sample)"
    )
    ax.set_xlabel(f"people (log scale){shown}")
    _tidy(ax)
    ax.spines["left"].set_visible(False)
    ax.set_title(
        title or f"Claims vs the model, as of {estimate.settings.as_of}",
        loc="left",
        fontsize="large",
        fontweight="bold",
    )

    handles: list[tuple[Any, str]] = _kind_handles(kinds)
    handles.append(
        (
            Line2D([], [], color="#555555", alpha=0.35, lw=6, solid_capstyle="butt"),
            f"what that source would say, per the model ({pct}%)",
        )
    )
    handles.append(
        (
            Line2D([], [], color=MODEL_COLOR, lw=1.8, marker="D", ms=5),
            f"true count, per the model (median, {pct}% interval)",
        )
    )
    handles += _type_handles(types)
    if surprising[rows].any():
        handles.append(
            (Patch(color=SURPRISE_COLOR), f"surprising claim (p < {1 - level:.2g} given the rest)")
        )
    _legend_below(ax, handles, ncol=3, drop=0.72 if shown else 0.5)
    return ax


# ---------------------------------------------------------------------------- timeline
def _pick_series(estimate: Estimate, series: Any) -> list[tuple[str, str]]:
    known = list(estimate.inputs.series)
    if series is None:
        return known
    if isinstance(series, str):
        if "|" not in series:
            raise ValueError(f"series {series!r}: write it as 'side|category'")
        side, _, category = series.partition("|")
        wanted = (side.strip(), category.strip())
    else:
        try:
            side, category = series
        except (TypeError, ValueError):
            raise ValueError(
                f"series must be None, a (side, category) tuple or 'side|category', got {series!r}"
            ) from None
        wanted = (str(side), str(category))
    if wanted not in known:
        names = ", ".join(f"{s}|{c}" for s, c in known)
        raise ValueError(f"no series {wanted[0]}|{wanted[1]} in this estimate; known: {names}")
    return [wanted]


def timeline_figsize() -> tuple[float, float]:
    """Default figure size of :func:`plot_timeline`."""
    return (11.0, 6.5)


_SERIES_MARKERS = ("o", "s", "^", "D", "v", "P")
_SERIES_LINESTYLES = ("-", "--", "-.", ":")


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


def plot_timeline(
    estimate: Estimate,
    *,
    series: tuple[str, str] | str | None = None,
    ax: Axes | None = None,
    level: float = DEFAULT_LEVEL,
    log: bool | None = None,
    title: str | None = None,
) -> Axes:
    """Cumulative true count over the daily grid, with the claims at their dates.

    One curve per series (or only ``series``, a ``(side, category)`` tuple or
    ``"side|category"``): posterior median with 50% and ``level`` bands. Claims are
    drawn at their ``as_of`` date, coloured by source type (a range is a vertical bar,
    "at least" / "at most" an arrow up / down); with several series, each series has
    its own line style and claim marker. Claims counting a window that starts after
    the grid's start are not cumulative, so they are left out and a note says how many.
    The dotted vertical line is the estimate's ``as_of`` date. ``log`` puts the counts on
    a log scale; by default it does so when the plotted figures span more than ×30.
    """
    from matplotlib import dates as mdates
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    _check_level(level)
    pct = _pct(level)
    chosen = _pick_series(estimate, series)
    ax = _new_axes(ax, timeline_figsize())
    summ = estimate.summary(level=level)
    start = estimate.settings.start
    as_of = np.datetime64(estimate.settings.as_of, "D")
    many = len(chosen) > 1
    all_series = list(estimate.inputs.series)
    ys: list[float] = []  # figures that must be visible
    kinds: list[str] = []
    types: list[str] = []
    ends: list[tuple[str, str, float]] = []  # (label, colour, last median)
    series_handles: list[tuple[Any, str]] = []
    skipped = 0
    first_claim: np.datetime64 | None = None
    for k, (side, category) in enumerate(chosen):
        s_index = all_series.index((side, category))
        color = SERIES_COLORS[s_index % len(SERIES_COLORS)] if many else MODEL_COLOR
        ls = _SERIES_LINESTYLES[k % len(_SERIES_LINESTYLES)] if many else "-"
        marker = _SERIES_MARKERS[k % len(_SERIES_MARKERS)] if many else "o"
        frame = summ[(summ["side"] == side) & (summ["category"] == category)]
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
            dates,
            frame["median"],
            color=color,
            lw=2,
            ls=ls,
            zorder=2,
            label=_text(f"{side} {category}"),
            gid="series-median",
        )
        at = frame[frame["date"] == pd.Timestamp(as_of)]
        ys += [float(at["median"].iloc[0]), float(at[f"high_{pct}"].iloc[0])]
        ends.append((_text(f"{side} {category}"), color, float(frame["median"].iloc[-1])))
        if many:
            series_handles.append(
                (
                    Line2D(
                        [],
                        [],
                        color=color,
                        ls=ls,
                        lw=2,
                        marker=marker,
                        ms=7,
                        mfc="#888888",
                        mec="white",
                    ),
                    _text(f"{side} {category}"),
                )
            )
        for c in estimate.claims:
            if c.series != (side, category):
                continue
            if c.period_start is not None and c.period_start != start:
                skipped += 1
                continue
            cc = _color(c.source_type)
            when = np.datetime64(c.as_of, "D")
            first_claim = when if first_claim is None else min(first_claim, when)
            kinds.append(c.kind)
            types.append(c.source_type)
            if c.kind == "point":
                assert c.value is not None
                ax.plot([when], [c.value], marker, color=cc, mec="white", mew=1, ms=8, zorder=5)
                ys.append(c.value)
            elif c.kind == "range":
                assert c.low is not None and c.high is not None
                ax.plot(
                    [when, when],
                    [c.low, c.high],
                    color=cc,
                    lw=3,
                    zorder=5,
                    solid_capstyle="butt",
                    marker=marker if many else "_",
                    ms=7 if many else 10,
                    mew=2,
                    mec="white" if many else cc,
                )
                ys += [c.low, c.high]
            else:
                bound = c.low if c.kind == "floor" else c.high
                assert bound is not None
                ax.plot(
                    [when],
                    [bound],
                    marker if many else "_",
                    color=cc,
                    ms=8 if many else 12,
                    mew=1 if many else 2.5,
                    mec="white" if many else cc,
                    zorder=5,
                )
                _bound_arrow(ax, when, bound, "up" if c.kind == "floor" else "down", cc)
                ys.append(bound)

    # ---- axes
    pos = np.array([y for y in ys if np.isfinite(y) and y > 0])
    top = float(pos.max()) if len(pos) else 1.0
    if log is None:
        log = bool(len(pos)) and top / float(pos.min()) > 30
    if log:
        # from the smallest figure or the curves' lower band at the first claim's date
        keys = list(zip(summ["side"], summ["category"], strict=True))
        mine = summ[[k in chosen for k in keys]]
        if first_claim is not None:
            mine = mine[mine["date"] >= pd.Timestamp(first_claim)]
        bottom = min(float(pos.min()) if len(pos) else top, float(mine[f"low_{pct}"].min()))
        lo, hi = max(bottom, 1e-3) / 1.5, top * 1.8
        _log_people_axis(ax, lo, hi, axis="y")
    else:
        lo, hi = 0.0, top * 1.12
        ax.set_ylim(lo, hi)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _people(x)))
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    grid_dates = estimate.inputs.grid.dates
    ax.set_xlim(grid_dates[0] - np.timedelta64(1, "D"), grid_dates[-1] + np.timedelta64(1, "D"))
    ax.set_ylabel("people, cumulative" + (" (log scale)" if log else ""))
    ax.grid(axis="y", color="#e3e3e3", lw=0.8)
    ax.set_axisbelow(True)
    _tidy(ax)

    if many:  # label each curve at its right end, nudged apart so labels never collide

        def frac(y: float) -> float:
            if log:
                return math.log(max(y, lo) / lo) / math.log(hi / lo)
            return (y - lo) / (hi - lo)

        spots = _spread_labels(np.array([frac(y) for _, _, y in ends]), gap=0.045)
        for (label, color, _), spot in zip(ends, spots, strict=True):
            ax.annotate(
                label,
                (grid_dates[-1], float(spot)),
                xycoords=("data", "axes fraction"),
                xytext=(6, 0),
                textcoords="offset points",
                color=color,
                fontsize="small",
                fontweight="bold",
                va="center",
                annotation_clip=False,
            )

    ax.axvline(mdates.date2num(as_of), color="#444444", ls=":", lw=1.4, zorder=1)
    ax.annotate(
        f"as of {estimate.settings.as_of}",
        (as_of, 0.0),
        xycoords=("data", "axes fraction"),
        xytext=(-4, 4),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize="small",
        color="#444444",
    )
    if skipped:
        ax.text(
            0.01,
            0.98,
            f"{skipped} claim{'s' if skipped != 1 else ''} counting a window that starts "
            f"after {start}\n(not a cumulative count) not shown",
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize="small",
            style="italic",
            color="#555555",
            gid="skipped-note",
        )
    if title is None:
        what = f"{chosen[0][0]} {chosen[0][1]}" if not many else f"counts ({len(chosen)} series)"
        title = _text(f"Cumulative {what} since {start}: model and claims")
    ax.set_title(title, loc="left", fontsize="large", fontweight="bold")

    grey = "#555555" if many else MODEL_COLOR
    handles: list[tuple[Any, str]] = series_handles or [
        (Line2D([], [], color=grey, lw=2), "true count, per the model (median)")
    ]
    handles += [
        (Patch(color=grey, alpha=0.37, lw=0), "50% credible interval"),
        (Patch(color=grey, alpha=0.12, lw=0), f"{pct}% credible interval"),
    ]
    handles += _kind_handles([k for k in kinds if not (many and k == "point")], vertical=True)
    handles += _type_handles(types)
    key = (
        "line: a series' model median · marker shape: which series a claim is about · "
        "colour: source type"
    )
    _legend_below(ax, handles, ncol=3, drop=0.62, title=key if many else None)
    return ax


# ----------------------------------------------------------------------------- sources
_FACTOR_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def _factor(x: float) -> str:
    """A bias factor, e.g. 2.456 -> "×2.5", 0.2056 -> "×0.21", 12.3 -> "×12"."""
    if not math.isfinite(x):
        return f"×{x}"
    if x >= 10:
        return f"×{x:,.0f}"
    return f"×{x:.2g}"


def sources_figsize(n_rows: int) -> tuple[float, float]:
    """Default figure size of :func:`plot_sources` for ``n_rows`` speakers."""
    return (11.0, 2.4 + 0.5 * n_rows)


def plot_sources(
    estimate: Estimate,
    *,
    ax: Axes | None = None,
    level: float = DEFAULT_LEVEL,
    title: str | None = None,
) -> Axes:
    """Forest plot of each speaker's bias factor (claim ÷ true count), log scale.

    Per speaker (a source about one side): the posterior median with 50% (thick) and
    ``level`` (thin) intervals, coloured by source type, and underneath in grey the
    prior's ``level`` interval and median. Where the two look alike the claims taught
    the model little about that source; the right-hand column gives ``learned``
    (0% = the factor is just its prior). The vertical line at ×1 is an honest source.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    _check_level(level)
    pct = _pct(level)
    src = estimate.sources(level=level)
    n = len(src)
    ax = _new_axes(ax, sources_figsize(n))
    lows = [f"low_{pct}", "low_50", f"prior_low_{pct}"]
    highs = [f"high_{pct}", "high_50", f"prior_high_{pct}"]
    off = 0.17
    labels: list[str] = []
    values: list[str] = []
    for y, r in enumerate(src.to_dict(orient="records")):
        color = _color(r["source_type"])
        labels.append(_text(f"{_shorten(r['source'])} — on {r['side']} ({r['source_type']})"))
        if y % 2 == 1:
            ax.axhspan(y - 0.5, y + 0.5, color="#f4f4f4", zorder=0, lw=0)
        yp = y + off
        ax.plot(
            [r[f"prior_low_{pct}"], r[f"prior_high_{pct}"]],
            [yp, yp],
            color="#bbbbbb",
            lw=5,
            solid_capstyle="butt",
            zorder=2,
        )
        ax.plot(
            [r["prior_median"]], [yp], "o", mfc="white", mec="#999999", mew=1.5, ms=6, zorder=2.5
        )
        yq = y - off * 0.6
        ax.plot([r[f"low_{pct}"], r[f"high_{pct}"]], [yq, yq], color=color, lw=1.6, zorder=3)
        ax.plot(
            [r["low_50"], r["high_50"]],
            [yq, yq],
            color=color,
            lw=4.5,
            solid_capstyle="butt",
            zorder=3.5,
        )
        ax.plot(
            [r["bias_factor"]],
            [yq],
            "o",
            color=color,
            mec="white",
            mew=1.2,
            ms=8,
            zorder=4,
            gid="bias-median",
        )
        values.append(
            f"{_factor(r['bias_factor'])} [{r[f'low_{pct}']:.2g}–"
            f"{r[f'high_{pct}']:.2g}]\nlearned {_share(r['learned'])}"
        )
    ax.axvline(1.0, color="#444444", lw=1, ls="--", zorder=1)

    vals = src[lows + highs].to_numpy(dtype=float).ravel() if n else np.array([0.5, 2.0])
    vals = vals[np.isfinite(vals) & (vals > 0)]
    lo = min(float(vals.min()), 1.0) / 1.25
    hi = max(float(vals.max()), 1.0) * 1.25
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ticks = [t for t in _FACTOR_TICKS if lo <= t <= hi]
    if math.log10(hi / lo) > 1.3:  # wide: 1-2-5 steps; narrow: add the threes
        ticks = [t for t in ticks if f"{t:g}".lstrip("0.")[0] in "125"]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"×{x:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.grid(axis="x", color="#e3e3e3", lw=0.8)
    ax.set_axisbelow(True)
    ax.set_yticks(np.arange(n), labels)
    for tick, t in zip(ax.get_yticklabels(), src["source_type"], strict=True):
        tick.set_color(_color(t))
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(n - 0.5, -0.5)
    # right-hand column: median [interval] and how much the claims moved the prior; a
    # secondary axis (a child of ax, not a new Axes in the figure) so layout makes room
    right = ax.secondary_yaxis("right")
    right.set_yticks(np.arange(n), values)
    right.tick_params(axis="y", length=0, labelsize="small", labelcolor="#333333")
    right.spines["right"].set_visible(False)
    ax.set_xlabel("bias factor = what the source says ÷ the true count (log scale)")
    _tidy(ax)
    ax.spines["left"].set_visible(False)
    ax.set_title(
        title or "Bias factor of each speaker (×1 = honest)",
        loc="left",
        fontsize="large",
        fontweight="bold",
    )

    handles: list[tuple[Any, str]] = [
        (
            Line2D([], [], color="#555555", lw=1.6, marker="o", ms=7, mec="white"),
            f"posterior: median, 50% (thick) and {pct}% (thin) interval",
        ),
        (
            Line2D([], [], color="#bbbbbb", lw=5, marker="o", mfc="white", mec="#999999", ms=6),
            f"prior: median and {pct}% interval",
        ),
    ]
    handles += _type_handles(list(src["source_type"]))
    _legend_below(ax, handles, ncol=2)
    return ax


# ----------------------------------------------------------------- trust: calibration
def ppc_figsize() -> tuple[float, float]:
    """Default figure size of :func:`plot_ppc`."""
    return (8.0, 7.0)


def plot_ppc(
    estimate: Estimate,
    *,
    ax: Axes | None = None,
    level: float = DEFAULT_LEVEL,
    title: str | None = None,
) -> Axes:
    """Calibration of the claims: the ECDF of their PIT values against the uniform.

    A claim's PIT value is the share of the posterior predictive draws of what its
    source would say (:meth:`Estimate.predictive_draws`) that fall below it; for a
    calibrated model they are uniform, and their ECDF stays inside the shaded
    simultaneous ``level`` band (:func:`casualty_models.trust.ecdf_band`) with
    probability ``level``. Only point claims have a PIT value (ranges, floors and
    ceilings are left out). Each claim is part of the fit, so PIT values bunch toward
    0.5 (an S-shaped ECDF); a claim near 0 or 1 is surprising given the rest. Dots are
    coloured by source type (up to 200 claims).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from casualty_models.trust import claims_pit, ecdf_band

    _check_level(level)
    pct = _pct(level)
    pit = claims_pit(estimate).sort_values("pit", kind="stable")
    n = len(pit)
    ax = _new_axes(ax, ppc_figsize())
    ax.plot([0, 1], [0, 1], color="#777777", ls="--", lw=1.2, zorder=2)
    verdict = "no point claims to check"
    if n:
        x, lo, hi = ecdf_band(n, level=level)
        ax.fill_between(x, lo, hi, color="#9aa7b8", alpha=0.35, lw=0, zorder=1, gid="band")
        p = pit["pit"].to_numpy(float)
        ax.step(
            np.r_[0.0, p, 1.0],
            np.r_[0.0, np.arange(1, n + 1) / n, 1.0],
            where="post",
            color=MODEL_COLOR,
            lw=1.8,
            zorder=3,
            gid="ecdf",
        )
        if n <= 200:
            for rank, (value, source_type) in enumerate(zip(p, pit["source_type"], strict=True), 1):
                ax.plot(
                    [value],
                    [rank / n],
                    "o",
                    color=_color(source_type),
                    mec="white",
                    mew=1,
                    ms=8,
                    zorder=4,
                    gid="pit",
                )
        ecdf = np.searchsorted(p, x, side="right") / n
        outside = int(np.sum((ecdf < lo - 1e-12) | (ecdf > hi + 1e-12)))
        verdict = f"{n} point claim{'s' if n != 1 else ''}; the ECDF " + (
            "stays inside the band" if not outside else "leaves the band: not calibrated"
        )
    ax.text(
        0.02,
        0.98,
        verdict,
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize="small",
        style="italic",
        color="#444444",
        gid="verdict",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("PIT: share of the model's predictions of that source below the claim")
    ax.set_ylabel("share of claims (ECDF)")
    ax.grid(color="#e8e8e8", lw=0.8)
    ax.set_axisbelow(True)
    _tidy(ax)
    ax.set_title(
        title or "Calibration: each claim against the model's prediction",
        loc="left",
        fontsize="large",
        fontweight="bold",
    )
    handles: list[tuple[Any, str]] = [
        (Line2D([], [], color=MODEL_COLOR, lw=1.8), "ECDF of the claims' PIT values"),
        (Line2D([], [], color="#777777", ls="--", lw=1.2), "a calibrated model (uniform)"),
        (
            Patch(color="#9aa7b8", alpha=0.35, lw=0),
            f"simultaneous {pct}% band for a calibrated model",
        ),
    ]
    handles += _type_handles(list(pit["source_type"]) if n <= 200 else [])
    _legend_below(ax, handles, ncol=2)
    return ax


# ------------------------------------------------------------ trust: relative medians
_RATIO_TICKS = (0.1, 0.2, 0.25, 0.33, 0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 10.0)


def _interval_columns(df: pd.DataFrame) -> tuple[str, str, str]:
    """(low column, high column, "90") of a sensitivity / leave-one-out table."""
    lows = [c for c in df.columns if c.startswith("low_")]
    if len(lows) != 1 or f"high_{lows[0][4:]}" not in df.columns:
        raise ValueError("the table needs one low_XX / high_XX interval column pair")
    return lows[0], f"high_{lows[0][4:]}", lows[0][4:]


def _change_text(x: float) -> str:
    """A ratio to the base median as a change: 0.86 -> "−14%", 1 -> "0%"."""
    if not math.isfinite(x):
        return "n/a"
    d = round(100 * (x - 1))
    return "0%" if d == 0 else f"{'+' if d > 0 else '−'}{abs(d)}%"


def _relative_rows(
    ax: Axes,
    df: pd.DataFrame,
    rows: list[Any],
    row_of: pd.Series,
    labels: list[str],
    colors: Sequence[str] | None,
    *,
    series_colored: bool,
) -> tuple[list[tuple[int, tuple[str, str]]], bool]:
    """Draw each row's median ÷ base median (dot) and interval (line), one dot per series.

    Returns the series drawn, as (index, series), when there are several (each then has
    its own marker), and whether any unreliable (hollow) dot was drawn.
    """
    low_col, high_col, _ = _interval_columns(df)
    series = list(dict.fromkeys(zip(df["side"], df["category"], strict=True)))
    many = len(series) > 1
    step = 0.5 / len(series) if many else 0.0
    xs: list[float] = [1.0]
    hollow = False
    drawn: set[tuple[str, str]] = set()
    right: list[str] = []
    for y, key in enumerate(rows):
        frame = df[row_of == key]
        if y % 2 == 1:
            ax.axhspan(y - 0.5, y + 0.5, color="#f4f4f4", zorder=0, lw=0)
        parts = []
        for k, (side, category) in enumerate(series):
            match = frame[(frame["side"] == side) & (frame["category"] == category)]
            if match.empty:
                continue
            r = match.iloc[0]
            yy = y + (k - (len(series) - 1) / 2) * step
            if series_colored:
                color = SERIES_COLORS[k % len(SERIES_COLORS)]
            else:
                color = colors[y] if colors is not None else MODEL_COLOR
            base = float(r["base_median"])
            ratio = float(r["median"]) / base
            name = _text(f"{side}/{category}")
            if not math.isfinite(ratio):
                ax.annotate(
                    "no claims left" + (f" ({name})" if many else ""),
                    (1.0, yy),
                    xytext=(6, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize="x-small",
                    style="italic",
                    color="#666666",
                )
                parts.append(f"{name} n/a" if many else "n/a")
                continue
            lo, hi = float(r[low_col]) / base, float(r[high_col]) / base
            if r.get("method") == "unaffected" or str(r.get("note", "")).startswith(
                "shares no parameter"
            ):
                continue  # exactly the estimate's posterior: nothing to show
            reliable = bool(r.get("reliable", True))
            hollow |= not reliable
            ax.plot([lo, hi], [yy, yy], color=color, lw=1.6, zorder=3)
            ax.plot(
                [ratio],
                [yy],
                _SERIES_MARKERS[k % len(_SERIES_MARKERS)] if many else "o",
                color=color,
                mfc=color if reliable else "white",
                mec=color if not reliable else "white",
                mew=1.5,
                ms=8,
                zorder=4,
                gid="relative-median",
            )
            xs += [lo, hi, ratio]
            drawn.add((side, category))
            parts.append(f"{name} {_change_text(ratio)}" if many else _change_text(ratio))
        right.append(" · ".join(parts) if parts else "unaffected")
    n = len(rows)
    ax.axvline(1.0, color="#444444", lw=1, ls="--", zorder=1)
    finite = [v for v in xs if math.isfinite(v) and v > 0]
    lo_x = min(min(finite), 1.0) / 1.15
    hi_x = max(max(finite), 1.0) * 1.15
    ax.set_xscale("log")
    ax.set_xlim(lo_x, hi_x)
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ticks: list[float] = []
    gap = math.log(hi_x / lo_x) / 7  # at most ~7 labels that never collide
    for t in sorted(_RATIO_TICKS, key=lambda t: (abs(math.log(t)), t)):  # from ×1 out
        if lo_x <= t <= hi_x and all(abs(math.log(t / u)) >= gap for u in ticks):
            ticks.append(t)
    ax.xaxis.set_major_locator(FixedLocator(sorted(ticks)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _change_text(v)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.grid(axis="x", color="#e3e3e3", lw=0.8)
    ax.set_axisbelow(True)
    ax.set_yticks(np.arange(n), labels)
    if colors is not None:
        for tick, c in zip(ax.get_yticklabels(), colors, strict=True):
            tick.set_color(c)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(n - 0.5, -0.5)
    side_axis = ax.secondary_yaxis("right")
    side_axis.set_yticks(np.arange(n), right)
    side_axis.tick_params(axis="y", length=0, labelsize="small", labelcolor="#333333")
    side_axis.spines["right"].set_visible(False)
    _tidy(ax)
    ax.spines["left"].set_visible(False)
    return [(k, s) for k, s in enumerate(series) if s in drawn] if many else [], hollow


def _relative_handles(
    series: list[tuple[int, tuple[str, str]]], pct: str, hollow: bool, *, series_colored: bool
) -> list[tuple[Any, str]]:
    from matplotlib.lines import Line2D

    grey = "#555555"
    out: list[tuple[Any, str]] = []
    if series:
        for k, (side, category) in series:
            color = SERIES_COLORS[k % len(SERIES_COLORS)] if series_colored else grey
            marker = _SERIES_MARKERS[k % len(_SERIES_MARKERS)]
            out.append(
                (
                    Line2D([], [], color=color, marker=marker, ms=7, lw=1.6, mec="white"),
                    _text(f"{side} {category}"),
                )
            )
    out.append(
        (
            Line2D([], [], color=grey, marker="o", ms=7, lw=1.6, mec="white"),
            f"median and {pct}% interval, ÷ the estimate's median",
        )
    )
    out.append((Line2D([], [], color="#444444", ls="--", lw=1), "the estimate's median"))
    if hollow:
        out.append(
            (
                Line2D([], [], color=grey, marker="o", ms=7, ls="none", mfc="white", mew=1.5),
                "unreliable (refit not converged, or Pareto k̂ too high)",
            )
        )
    return out


def sensitivity_figsize(n_rows: int) -> tuple[float, float]:
    """Default figure size of :func:`plot_sensitivity` for ``n_rows`` prior changes."""
    return (11.0, 2.6 + 0.42 * n_rows)


def plot_sensitivity(df: pd.DataFrame, *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Dot plot of how the median moves when one source type's bias prior changes.

    ``df`` is a :func:`casualty_models.trust.sensitivity` table. One row per change
    (labelled with the changed prior's median factor), coloured by source type; per
    series, the median under the changed prior divided by the estimate's median (log
    scale, ticks as changes in %) with its interval. With several series each has its
    own marker; series the change cannot reach (``method == "unaffected"``) are not
    drawn. The right-hand column gives the change of the median; hollow dots are
    unreliable.
    """
    if df.empty:
        raise ValueError("plot_sensitivity needs a non-empty sensitivity table")
    _, _, pct = _interval_columns(df)
    keys = list(dict.fromkeys(zip(df["source_type"], df["change"], strict=True)))
    row_of = pd.Series(list(zip(df["source_type"], df["change"], strict=True)), index=df.index)
    labels, colors = [], []
    for source_type, change in keys:
        r = df[(df["source_type"] == source_type) & (df["change"] == change)].iloc[0]
        labels.append(_text(f"{source_type}: {change} (prior {_factor(float(r['prior_median']))})"))
        colors.append(_color(source_type))
    ax = _new_axes(ax, sensitivity_figsize(len(keys)))
    series, hollow = _relative_rows(ax, df, keys, row_of, labels, colors, series_colored=False)
    ax.set_xlabel("median under the changed prior vs the estimate's (log scale)")
    ax.set_title(
        title or "How the median moves when one bias prior changes",
        loc="left",
        fontsize="large",
        fontweight="bold",
    )
    handles = _relative_handles(series, pct, hollow, series_colored=False)
    handles += _type_handles([t for t, _ in keys])
    _legend_below(ax, handles, ncol=2)
    return ax


def loso_figsize(n_rows: int) -> tuple[float, float]:
    """Default figure size of :func:`plot_loso` for ``n_rows`` sources."""
    return (11.0, 2.4 + 0.45 * n_rows)


def plot_loso(df: pd.DataFrame, *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Dot plot of how the median moves when each source is left out.

    ``df`` is a :func:`casualty_models.trust.leave_one_source_out` table. One row per
    source left out (in the table's order: the largest move first); per series, the
    median without it divided by the estimate's median (log scale, ticks as changes in
    %) with its interval, one colour and marker per series. A series left with no claims
    is noted; series that share no parameter with the source are not drawn.
    """
    if df.empty:
        raise ValueError("plot_loso needs a non-empty leave-one-source-out table")
    _, _, pct = _interval_columns(df)
    sources = list(dict.fromkeys(df["source"]))
    row_of = df["source"]
    labels = []
    for source in sources:
        n = int(df.loc[df["source"] == source, "n_claims"].iloc[0])
        labels.append(_text(f"without {_shorten(source)} ({n} claim{'s' if n != 1 else ''})"))
    ax = _new_axes(ax, loso_figsize(len(sources)))
    series, hollow = _relative_rows(ax, df, sources, row_of, labels, None, series_colored=True)
    ax.set_xlabel("median without the source vs the estimate's (log scale)")
    ax.set_title(
        title or "How the median moves without each source",
        loc="left",
        fontsize="large",
        fontweight="bold",
    )
    _legend_below(ax, _relative_handles(series, pct, hollow, series_colored=True), ncol=2)
    return ax


# ---------------------------------------------------------------------------- accessor
@_hooks.provides("Backtest.plot")
def plot_backtest(
    backtest: Any,
    *,
    series: Any = None,
    ax: Axes | None = None,
    level: float = DEFAULT_LEVEL,
) -> Axes:
    """How the estimate moved: the headline on each vintage date, with its intervals.

    ``backtest`` is a :class:`~casualty_models.backtest.Backtest`. Each vintage is drawn
    at its date: median, 50% and ``level`` intervals (the history holds the default
    level; other levels raise). Cumulative point claims of the series are overlaid at
    their ``as_of`` (points as diamonds, ranges as bars, "at least"/"at most" figures as
    arrows), hollow when published after the first vintage — what the first estimate
    could not know. ``series`` picks one (side, category) or "side|category" (default:
    the first).
    """
    _check_level(level)
    pct = _pct(level)
    hist = backtest.history
    if f"low_{pct}" not in hist:
        raise ValueError(f"the backtest history has no {pct}% interval; refit with that level")
    known = list(dict.fromkeys(zip(hist["side"], hist["category"], strict=True)))
    if series is None:
        wanted = known[0]
    elif isinstance(series, str):
        side, _, category = series.partition("|")
        wanted = (side.strip(), category.strip())
    else:
        wanted = (str(series[0]), str(series[1]))
    if wanted not in known:
        names = ", ".join(f"{s}|{c}" for s, c in known)
        raise ValueError(f"no series {wanted[0]}|{wanted[1]} in this backtest; known: {names}")
    rows = hist[(hist["side"] == wanted[0]) & (hist["category"] == wanted[1])]
    ax = _new_axes(ax, (9.0, 5.0))
    dates = pd.to_datetime(rows["as_reported_on"])
    ax.vlines(
        dates,
        rows[f"low_{pct}"],
        rows[f"high_{pct}"],
        color=MODEL_COLOR,
        alpha=0.35,
        linewidth=6,
        label=f"{pct}% interval",
    )
    ax.vlines(
        dates,
        rows["low_50"],
        rows["high_50"],
        color=MODEL_COLOR,
        alpha=0.7,
        linewidth=6,
        label="50% interval",
    )
    ax.plot(dates, rows["median"], "o-", color=MODEL_COLOR, label="median, as estimated then")
    first = dates.min()
    lo, hi = float(rows[f"low_{pct}"].min()), float(rows[f"high_{pct}"].max())
    kinds: list[str] = []
    any_later = False
    for claim in backtest.claims:
        if claim.series != wanted:
            continue
        if claim.period_start is not None and claim.period_start > backtest.start:
            continue  # a window count, not a level of the cumulative curve
        later = pd.Timestamp(claim.reported) > first
        any_later = any_later or later
        color = _color(claim.source_type)
        when = np.datetime64(claim.as_of, "D")
        style: dict[str, Any] = {"mec": color, "mfc": "none" if later else color}
        kinds.append(claim.kind)
        if claim.kind == "point":
            assert claim.value is not None
            ax.plot([when], [claim.value], marker="D", linestyle="none", markersize=5, **style)
            figures = [claim.value]
        elif claim.kind == "range":
            assert claim.low is not None and claim.high is not None
            ax.plot(
                [when, when], [claim.low, claim.high], color=color, lw=1.5, ls=":" if later else "-"
            )
            figures = [claim.low, claim.high]
        else:
            bound = claim.low if claim.kind == "floor" else claim.high
            assert bound is not None
            ax.plot([when], [bound], marker="_", linestyle="none", markersize=9, mew=2, **style)
            _bound_arrow(ax, when, bound, "up" if claim.kind == "floor" else "down", color)
            figures = [bound]
        lo, hi = min(lo, *figures), max(hi, *figures)
    _log_people_axis(ax, lo * 0.8, hi * 1.25, axis="y")
    ax.set_xlabel("date the estimate was made (claims published by then)")
    ax.set_ylabel(f"{wanted[0]} {wanted[1]}, people")
    ax.set_title(f"How the estimate of {wanted[0]} {wanted[1]} moved as claims arrived")
    handles, labels = ax.get_legend_handles_labels()
    types = sorted({c.source_type for c in backtest.claims if c.series == wanted})
    from matplotlib.lines import Line2D

    hollow = Line2D([], [], marker="D", ls="none", mec="#555555", mfc="none", ms=6)
    extra = (
        _kind_handles(kinds, vertical=True, point_marker="D")
        + ([(hollow, "published after the first estimate")] if any_later else [])
        + _type_handles(types)
    )
    ax.legend(
        handles + [h for h, _ in extra],
        labels + [lab for _, lab in extra],
        handler_map={_BoundHandle: _BoundHandler()},
        fontsize=8,
        loc="upper left",
        frameon=False,
    )
    _tidy(ax)
    return ax


def plot_drift(
    estimate: Estimate,
    *,
    ax: Axes | None = None,
    level: float = DEFAULT_LEVEL,
    title: str | None = None,
) -> Axes:
    """Each running tally's drift factor over time (:meth:`Estimate.drift`): median and
    ``level`` band, on a log axis where 1 means the bias at the tally's first figure.

    A tally whose factor falls has come to report a smaller share of the truth than it
    did at first. With no running tally the axes say so and show nothing else.
    """
    _check_level(level)
    table = estimate.drift(level=level)
    ax = _new_axes(ax, (7.0, 3.2))
    lo, hi = f"low_{_pct(level)}", f"high_{_pct(level)}"
    if table.empty:
        ax.text(
            0.5, 0.5, "no running tally: no drift", ha="center", va="center", transform=ax.transAxes
        )
        ax.set_axis_off()
        return ax
    types = dict(zip(estimate.inputs.speakers, estimate.inputs.speaker_types, strict=True))
    for (source, side), frame in table.groupby(["source", "side"], sort=False):
        color = _color(types[(str(source), str(side))])
        ax.fill_between(frame["date"], frame[lo], frame[hi], color=color, alpha=0.2, lw=0)
        ax.plot(
            frame["date"],
            frame["median"],
            color=color,
            lw=1.8,
            label=_text(f"{source} about {side}"),
        )
    ax.axhline(1.0, color=MODEL_COLOR, lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_ylabel("drift factor (×, 1 = first figure)")
    ax.set_title(title or f"How running tallies' biases drift (median and {_pct(level)}% interval)")
    ax.legend(frameon=False, fontsize="small")
    _tidy(ax)
    return ax


@_hooks.provides("Estimate.plot")
class PlotAccessor:
    """``estimate.plot``: ``.claims()``, ``.timeline()``, ``.sources()``, ``.ppc()`` and
    ``.drift()``.

    Each method takes the same keyword arguments as the matching ``plot_*`` function
    and returns the Axes drawn on.
    """

    __slots__ = ("_estimate",)

    def __init__(self, estimate: Estimate):
        self._estimate = estimate

    def claims(self, **kwargs: Any) -> Axes:
        """:func:`plot_claims` for this estimate."""
        return plot_claims(self._estimate, **kwargs)

    def timeline(self, **kwargs: Any) -> Axes:
        """:func:`plot_timeline` for this estimate."""
        return plot_timeline(self._estimate, **kwargs)

    def sources(self, **kwargs: Any) -> Axes:
        """:func:`plot_sources` for this estimate."""
        return plot_sources(self._estimate, **kwargs)

    def ppc(self, **kwargs: Any) -> Axes:
        """:func:`plot_ppc` for this estimate."""
        return plot_ppc(self._estimate, **kwargs)

    def drift(self, **kwargs: Any) -> Axes:
        """:func:`plot_drift` for this estimate."""
        return plot_drift(self._estimate, **kwargs)

    def __repr__(self) -> str:
        return "<PlotAccessor: .claims(), .timeline(), .sources(), .ppc(), .drift()>"


__all__ = [
    "MODEL_COLOR",
    "SOURCE_TYPE_COLORS",
    "SOURCE_TYPE_LABELS",
    "PlotAccessor",
    "claims_figsize",
    "loso_figsize",
    "plot_backtest",
    "plot_claims",
    "plot_drift",
    "plot_loso",
    "plot_ppc",
    "plot_sensitivity",
    "plot_sources",
    "plot_timeline",
    "ppc_figsize",
    "sensitivity_figsize",
    "sources_figsize",
    "timeline_figsize",
]
