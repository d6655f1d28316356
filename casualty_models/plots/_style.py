"""What every plot shares: the palette, legends, axes helpers and the log-people axis.

Nothing here computes a statistic: the helpers place, colour and label what the plot
modules are given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from casualty_models._format import date, people_tick
from casualty_models._version import __version__
from casualty_models.claims import SOURCE_TYPES

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from casualty_models.estimate import Estimate

SOURCE_TYPE_COLORS: Mapping[str, str] = {
    "own": "#0072b2",  # blue
    "enemy": "#d55e00",  # vermillion
    "neutral": "#009e73",  # bluish green
    "tally": "#cc79a7",  # reddish purple
    "independent": "#e69f00",  # orange
    "known": "#56b4e9",  # sky blue
}
"""One colour per source type, all from the Okabe–Ito palette (colour-blind safe; its
black is the model's and its yellow is too pale on white), used by every plot."""

SOURCE_TYPE_MARKERS: Mapping[str, str] = {
    "own": "o",  # circle
    "enemy": "s",  # square
    "neutral": "^",  # triangle up
    "tally": "v",  # triangle down
    "independent": "P",  # filled plus
    "known": "*",  # star
}
"""One marker shape per source type, so claims read in greyscale too. The diamond is the
model's (its true count in :func:`plot_claims`), never a source type's."""

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

SERIES_MARKERS = ("o", "s", "^", "D", "v", "P")
SERIES_LINESTYLES = ("-", "--", "-.", ":")

_FALLBACK_COLOR = "#777777"
_FALLBACK_MARKER = "X"
_MARKER_SCALE = {"*": 1.5, "P": 1.1}  # shapes that look small at the same marker size
_GREY = "#555555"  # legend handles that stand for any source type
_ARROW_POINTS = 20.0  # length of the "at least" / "at most" arrows, in points


def text(s: Any) -> str:
    """User text for a label: a literal "$" must not start matplotlib mathtext."""
    return str(s).replace("$", r"\$")


def color(source_type: str) -> str:
    """The colour of a source type (grey for an unknown one)."""
    return SOURCE_TYPE_COLORS.get(source_type, _FALLBACK_COLOR)


def marker(source_type: str) -> str:
    """The marker shape of a source type (an X for an unknown one)."""
    return SOURCE_TYPE_MARKERS.get(source_type, _FALLBACK_MARKER)


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """``ax`` itself, or the one Axes of a new ``figsize`` figure (constrained layout)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _fig, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def shorten(s: str, width: int = 40) -> str:
    """Long source names would squeeze the plot; the report's tables keep them whole."""
    return s if len(s) <= width else s[: width - 1].rstrip() + "…"


def series_of(table: pd.DataFrame) -> list[tuple[str, str]]:
    """The (side, category) pairs of a table's rows, in order of first appearance."""
    pairs = zip(table["side"].astype(str), table["category"].astype(str), strict=True)
    return list(dict.fromkeys(pairs))


def pick_series(
    known: Sequence[tuple[str, str]], series: Any, *, where: str = "this estimate"
) -> list[tuple[str, str]]:
    """``known`` when ``series`` is None, else the one series it names.

    ``series`` is a ``(side, category)`` tuple or ``"side|category"``; ValueError names
    the known series when it is not one of them.
    """
    if series is None:
        return list(known)
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
        raise ValueError(f"no series {wanted[0]}|{wanted[1]} in {where}; known: {names}")
    return [wanted]


def title(ax: Axes, s: str) -> None:
    """The plots' bold left-aligned title."""
    ax.set_title(s, loc="left", fontsize="large", fontweight="bold")


def log_people_axis(ax: Axes, lo: float, hi: float, *, axis: str = "x") -> None:
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
    target.set_major_formatter(FuncFormatter(lambda x, _pos: people_tick(x)))
    target.set_minor_formatter(NullFormatter())


def positive(values: Iterable[float]) -> list[float]:
    """The finite positive values (what a log axis can show)."""
    return [float(v) for v in values if math.isfinite(v) and v > 0]


def bound_arrow(
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


def draw_claim(
    ax: Axes, r: Any, at: Any, *, vertical: bool, ms: float = 8.0, hollow: bool = False
) -> list[float]:
    """One claim's figures at position ``at`` (a date when ``vertical``, else a row).

    ``r`` has ``kind``, ``value``, ``low``, ``high`` and ``source_type`` (a row of
    :meth:`Estimate.claim_figures` or ``claims_check``). Every figure is a mark of the
    source type's colour and shape: a point alone; a range's two ends joined by a bar; a
    central estimate's value on a thin bar over its interval; an "at least" / "at most"
    figure with an arrow away from it. ``hollow`` draws the marks unfilled (a dotted bar).
    The figure's mark has gid ``claim`` (one per claim). Returns the figures drawn.
    """
    c, m = color(r.source_type), marker(r.source_type)
    ms *= _MARKER_SCALE.get(m, 1.0)
    face = "none" if hollow else c
    edge = c if hollow else "white"
    style: dict[str, Any] = {"color": c, "marker": m, "mfc": face, "mec": edge, "zorder": 5}
    style["mew"] = 1.5 if hollow else 1.0

    def xy(values: list[float]) -> tuple[list[Any], list[Any]]:
        where = [at] * len(values)
        return (where, values) if vertical else (values, where)

    if r.kind == "range":
        ax.plot(
            *xy([r.low, r.high]),
            lw=3,
            ls=":" if hollow else "-",
            solid_capstyle="butt",
            ms=0.75 * ms,
            gid="claim",
            **style,
        )
        return [r.low, r.high]
    if r.kind == "central":
        ax.plot(*xy([r.low, r.high]), color=c, lw=1.5, ls=":" if hollow else "-", zorder=4.8)
        ax.plot(*xy([r.value]), ls="none", ms=ms, gid="claim", **style)
        return [r.low, r.value, r.high]
    if r.kind == "point":
        ax.plot(*xy([r.value]), ls="none", ms=ms, gid="claim", **style)
        return [r.value]
    bound = r.low if r.kind == "floor" else r.high
    ax.plot(*xy([bound]), ls="none", ms=0.85 * ms, gid="claim", **style)
    up = r.kind == "floor"
    direction = ("up" if up else "down") if vertical else ("right" if up else "left")
    bound_arrow(ax, at if vertical else bound, bound if vertical else at, direction, c)
    return [bound]


class _BoundHandle:
    """Legend proxy for an "at least" (``right``) or "at most" (``left``) mark; with a
    ``marker``, the mark is that marker rather than a bar."""

    def __init__(self, direction: str, color: str, marker: str | None = None):
        self.direction = direction
        self.color = color
        self.marker = marker


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
        if orig_handle.marker is not None:
            bar = Line2D(
                [tail[0]],
                [tail[1]],
                marker=orig_handle.marker,
                ls="none",
                color=orig_handle.color,
                mec="white",
                ms=fontsize * 0.55,
                transform=tr,
            )
        handlebox.add_artist(arrow)
        handlebox.add_artist(bar)
        return arrow


def kind_handles(
    kinds: Sequence[str],
    *,
    vertical: bool = False,
    point_marker: str = "o",
    shapes: bool = True,
) -> list[tuple[Any, str]]:
    """Legend (handle, label) pairs for the claim kinds present, as :func:`draw_claim`
    draws them (grey: the colour and shape are the source type's). ``shapes=False``
    describes the older marks: ``point_marker`` points, bars for ranges and bounds."""
    from matplotlib.lines import Line2D

    out: list[tuple[Any, str]] = []
    mark = "o" if shapes else point_marker
    dot = Line2D([], [], marker=mark, ls="none", color=_GREY, mec="white", ms=8)
    if "point" in kinds:
        out.append((dot, "claimed figure" + (" (shape, colour: source type)" if shapes else "")))
    if "central" in kinds:
        bar = Line2D([], [], color=_GREY, lw=1.5)
        if vertical:
            bar = Line2D([], [], marker="|", ls="none", color=_GREY, ms=12, mew=1.5)
        out.append(((bar, dot), "claimed figure with its interval"))
    if "range" in kinds:
        if vertical:
            handle = Line2D([], [], marker="|", ls="none", color=_GREY, ms=12, mew=3)
        else:
            handle = Line2D([], [], color=_GREY, lw=3.5, solid_capstyle="butt")
        out.append((handle, "claimed range"))
    bound_mark = "o" if shapes else None
    if "floor" in kinds:
        up = _BoundHandle("up" if vertical else "right", _GREY, bound_mark)
        out.append((up, "“at least” figure"))
    if "ceiling" in kinds:
        down = _BoundHandle("down" if vertical else "left", _GREY, bound_mark)
        out.append((down, "“at most” figure"))
    return out


def type_handles(types: Sequence[str], *, shapes: bool = True) -> list[tuple[Any, str]]:
    """Legend (handle, label) pairs for the source types present, in the standard order:
    the type's marker in its colour, or a colour patch when ``shapes`` is False (plots
    whose marks do not take the type's shape)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    present = [t for t in SOURCE_TYPES if t in set(types)]
    present += sorted(t for t in set(types) if t not in SOURCE_TYPES)
    out: list[tuple[Any, str]] = []
    for t in present:
        handle: Any = Patch(color=color(t))
        if shapes:
            handle = Line2D([], [], marker=marker(t), ls="none", color=color(t), mec="white", ms=9)
        out.append((handle, text(SOURCE_TYPE_LABELS.get(t, t))))
    return out


def legend_below(
    ax: Axes,
    handles: list[tuple[Any, str]],
    *,
    ncol: int = 2,
    drop: float = 0.5,
    title: str | None = None,
    on_figure: bool | None = None,
) -> None:
    """Legend under the axes, ``drop`` inches below its bottom edge (clear of the labels).

    Centred on the figure when ``on_figure``, by default when the axes is alone in it
    (long y labels shift the axes right), else on the axes. Being the axes' own legend,
    constrained layout makes room for it (and puts the source line below it).
    """
    from matplotlib.transforms import ScaledTranslation, Transform, blended_transform_factory

    if not handles:
        return
    fig = ax.figure
    centred = len(fig.axes) == 1 if on_figure is None else on_figure
    xform: Transform = blended_transform_factory(
        fig.transFigure if centred else ax.transAxes, ax.transAxes
    ) + ScaledTranslation(0, -drop, fig.dpi_scale_trans)
    ax.legend(
        [h for h, _ in handles],
        [label for _, label in handles],
        handler_map=handler_map(),
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


def handler_map() -> dict[type, Any]:
    """``handler_map`` for a legend holding :func:`kind_handles` entries."""
    return {_BoundHandle: _BoundHandler()}


def date_axis(ax: Axes, first: Any, last: Any, *, max_ticks: int = 10) -> None:
    """Concise date ticks from ``first`` to ``last``, a day of margin either side."""
    import numpy as np
    from matplotlib import dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=max_ticks)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    day = np.timedelta64(1, "D")
    lo: Any = np.datetime64(first, "D") - day
    hi: Any = np.datetime64(last, "D") + day
    ax.set_xlim(lo, hi)


def tidy(ax: Axes) -> None:
    """No top or right spine."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


# ------------------------------------------------------------------------ source line
SOURCE_LINE_COLOR = "#666666"


def source_text(
    *, as_of: Any = None, n_claims: int | None = None, version: str | None = None
) -> str:
    """The source line's text: "as of 2022-03-11 · 4 claims · casualty_models 0.1.0"."""
    parts = [] if as_of is None else [f"as of {date(as_of)}"]
    if n_claims is not None:
        parts.append(f"{n_claims:,} claim{'s' if n_claims != 1 else ''}")
    parts.append(f"casualty_models {version or __version__}")
    return " · ".join(parts)


def estimate_source(estimate: Estimate) -> str:
    """:func:`source_text` of an estimate: its as-of date, its claims and the version
    that fitted it (and the one drawing it, when they differ)."""
    version = estimate.version
    if version != __version__:
        version = f"{version} (drawn with {__version__})"
    return source_text(
        as_of=estimate.settings.as_of, n_claims=len(estimate.claims), version=version
    )


def source_line(ax: Axes, line: bool | str, default: Callable[[], str]) -> None:
    """The figure's source line, small at its bottom left: ``default()`` when ``line`` is
    True, ``line`` itself when it is text, none when False.

    It is the figure's ``supxlabel``, so constrained layout makes room for it and plots
    sharing a figure write one line, not one each.
    """
    if line is False:
        return
    words = default() if line is True else text(line)
    ax.figure.supxlabel(
        words, x=0.01, ha="left", fontsize="x-small", color=SOURCE_LINE_COLOR, gid="source-line"
    )
