"""How far to trust the answer: :func:`plot_sensitivity` (bias priors changed) and
:func:`plot_loso` (each source left out), drawn from the tables of
:mod:`casualty_models.trust`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from casualty_models._format import factor, signed_pct
from casualty_models.plots import _style as st

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

_RATIO_TICKS = (0.1, 0.2, 0.25, 0.33, 0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 10.0)


def _sensitivity_figsize(n_rows: int) -> tuple[float, float]:
    """Figure size of :func:`plot_sensitivity` for ``n_rows`` prior changes."""
    return (11.0, 2.6 + 0.42 * n_rows)


def _loso_figsize(n_rows: int) -> tuple[float, float]:
    """Figure size of :func:`plot_loso` for ``n_rows`` sources."""
    return (11.0, 2.4 + 0.45 * n_rows)


def _interval_columns(df: pd.DataFrame) -> tuple[str, str, str]:
    """(low column, high column, "90") of a sensitivity / leave-one-out table."""
    lows = [c for c in df.columns if c.startswith("low_")]
    if len(lows) != 1 or f"high_{lows[0][4:]}" not in df.columns:
        raise ValueError("the table needs one low_XX / high_XX interval column pair")
    return lows[0], f"high_{lows[0][4:]}", lows[0][4:]


def _change_text(x: float) -> str:
    """A ratio to the base median as a change: 0.86 -> "−14%", 1 -> "0%"."""
    return signed_pct(100 * (x - 1))


def _unchanged(r: pd.Series) -> bool:
    """A row that is exactly the estimate's posterior: nothing to show."""
    return r.get("method") == "unaffected" or str(r.get("note", "")).startswith(
        "shares no parameter"
    )


def _no_claims_left(ax: Axes, yy: float, name: str, *, many: bool) -> None:
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


def _ratio_axis(ax: Axes, xs: list[float]) -> None:
    """Log x axis of ratios to the estimate's median, ticks as changes ("−14%")."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    finite = st.positive(xs)
    lo_x = min(min(finite), 1.0) / 1.15
    hi_x = max(max(finite), 1.0) * 1.15
    ax.set_xscale("log")
    ax.set_xlim(lo_x, hi_x)
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


def _row_labels(
    ax: Axes, labels: list[str], right: list[str], colors: Sequence[str] | None
) -> None:
    """Row labels on the left (coloured when asked) and the changes on the right."""
    n = len(labels)
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
    series = st.series_of(df)
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
                color = st.SERIES_COLORS[k % len(st.SERIES_COLORS)]
            else:
                color = colors[y] if colors is not None else st.MODEL_COLOR
            base = float(r["base_median"])
            ratio = float(r["median"]) / base
            name = st.text(f"{side}/{category}")
            if not math.isfinite(ratio):
                _no_claims_left(ax, yy, name, many=many)
                parts.append(f"{name} n/a" if many else "n/a")
                continue
            lo, hi = float(r[low_col]) / base, float(r[high_col]) / base
            if _unchanged(r):
                continue
            reliable = bool(r.get("reliable", True))
            hollow |= not reliable
            ax.plot([lo, hi], [yy, yy], color=color, lw=1.6, zorder=3)
            ax.plot(
                [ratio],
                [yy],
                st.SERIES_MARKERS[k % len(st.SERIES_MARKERS)] if many else "o",
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
    ax.axvline(1.0, color="#444444", lw=1, ls="--", zorder=1)
    _ratio_axis(ax, xs)
    _row_labels(ax, labels, right, colors)
    st.tidy(ax)
    ax.spines["left"].set_visible(False)
    return [(k, s) for k, s in enumerate(series) if s in drawn] if many else [], hollow


def _relative_handles(
    series: list[tuple[int, tuple[str, str]]], pct: str, hollow: bool, *, series_colored: bool
) -> list[tuple[Any, str]]:
    from matplotlib.lines import Line2D

    grey = "#555555"
    out: list[tuple[Any, str]] = []
    for k, (side, category) in series:
        color = st.SERIES_COLORS[k % len(st.SERIES_COLORS)] if series_colored else grey
        marker = st.SERIES_MARKERS[k % len(st.SERIES_MARKERS)]
        out.append(
            (
                Line2D([], [], color=color, marker=marker, ms=7, lw=1.6, mec="white"),
                st.text(f"{side} {category}"),
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


def plot_sensitivity(
    df: pd.DataFrame,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    source_line: bool | str = True,
    figsize: tuple[float, float] | None = None,
) -> Axes:
    """Dot plot of how the median moves when one source type's bias prior changes.

    ``df`` is a :func:`casualty_models.trust.sensitivity` table. One row per change
    (labelled with the changed prior's median factor), coloured by source type; per
    series, the median under the changed prior divided by the estimate's median (log
    scale, ticks as changes in %) with its interval. With several series each has its
    own marker; series the change cannot reach (``method == "unaffected"``) are not
    drawn. The right-hand column gives the change of the median; hollow dots are
    unreliable. With ``ax`` None the figure is sized to the rows.
    ``source_line`` (True, False or a text) writes the source line at the figure's
    bottom; the table knows no date or claims, so by default it names the package
    version only: pass the estimate's (``plots.estimate_source(est)``) for more.
    ``figsize`` (inches) sizes the figure made when ``ax`` is None.
    """
    import pandas as pd

    if df.empty:
        raise ValueError("plot_sensitivity needs a non-empty sensitivity table")
    _, _, pct = _interval_columns(df)
    keys = list(dict.fromkeys(zip(df["source_type"], df["change"], strict=True)))
    row_of = pd.Series(list(zip(df["source_type"], df["change"], strict=True)), index=df.index)
    labels, colors = [], []
    for source_type, change in keys:
        r = df[(df["source_type"] == source_type) & (df["change"] == change)].iloc[0]
        labels.append(
            st.text(f"{source_type}: {change} (prior {factor(float(r['prior_median']))})")
        )
        colors.append(st.color(source_type))
    ax = st.new_axes(ax, figsize or _sensitivity_figsize(len(keys)))
    series, hollow = _relative_rows(ax, df, keys, row_of, labels, colors, series_colored=False)
    ax.set_xlabel("median under the changed prior vs the estimate's (log scale)")
    st.title(ax, title or "How the median moves when one bias prior changes")
    handles = _relative_handles(series, pct, hollow, series_colored=False)
    handles += st.type_handles([t for t, _ in keys], shapes=False)
    st.legend_below(ax, handles, ncol=2)
    st.source_line(ax, source_line, st.source_text)
    return ax


def plot_loso(
    df: pd.DataFrame,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    source_line: bool | str = True,
    figsize: tuple[float, float] | None = None,
) -> Axes:
    """Dot plot of how the median moves when each source is left out.

    ``df`` is a :func:`casualty_models.trust.leave_one_source_out` table. One row per
    source left out (in the table's order: the largest move first); per series, the
    median without it divided by the estimate's median (log scale, ticks as changes in
    %) with its interval, one colour and marker per series. A series left with no claims
    is noted; series that share no parameter with the source are not drawn. With ``ax``
    None the figure is sized to the rows.
    ``source_line`` (True, False or a text) writes the source line at the figure's
    bottom; the table knows no date or claims, so by default it names the package
    version only: pass the estimate's (``plots.estimate_source(est)``) for more.
    ``figsize`` (inches) sizes the figure made when ``ax`` is None.
    """
    if df.empty:
        raise ValueError("plot_loso needs a non-empty leave-one-source-out table")
    _, _, pct = _interval_columns(df)
    sources = list(dict.fromkeys(df["source"]))
    labels = []
    for source in sources:
        n = int(df.loc[df["source"] == source, "n_claims"].iloc[0])
        labels.append(st.text(f"without {st.shorten(source)} ({n} claim{'s' if n != 1 else ''})"))
    ax = st.new_axes(ax, figsize or _loso_figsize(len(sources)))
    series, hollow = _relative_rows(
        ax, df, sources, df["source"], labels, None, series_colored=True
    )
    ax.set_xlabel("median without the source vs the estimate's (log scale)")
    st.title(ax, title or "How the median moves without each source")
    _legend = _relative_handles(series, pct, hollow, series_colored=True)
    st.legend_below(ax, _legend, ncol=2)
    st.source_line(ax, source_line, st.source_text)
    return ax
