"""The sources' biases: :func:`plot_sources` (bias factors) and :func:`plot_drift`
(running tallies' drift over time)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from casualty_models._format import check_level, factor, level_pct, share
from casualty_models.model.priors import DEFAULT_LEVEL
from casualty_models.plots import _style as st

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from casualty_models.estimate import Estimate

_FACTOR_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)
_ROW_OFFSET = 0.17  # the prior's sub-row below a speaker's row, the posterior above


def _sources_figsize(n_rows: int) -> tuple[float, float]:
    """Figure size of :func:`plot_sources` for ``n_rows`` speakers."""
    return (11.0, 2.4 + 0.5 * n_rows)


def _draw_speaker(ax: Axes, y: int, r: Any, pct: str) -> None:
    """One speaker's row: the prior (grey, below) and the posterior (colour, above)."""
    color = st.color(r["source_type"])
    if y % 2 == 1:
        ax.axhspan(y - 0.5, y + 0.5, color="#f4f4f4", zorder=0, lw=0)
    yp = y + _ROW_OFFSET
    ax.plot(
        [r[f"prior_low_{pct}"], r[f"prior_high_{pct}"]],
        [yp, yp],
        color="#bbbbbb",
        lw=5,
        solid_capstyle="butt",
        zorder=2,
    )
    ax.plot([r["prior_median"]], [yp], "o", mfc="white", mec="#999999", mew=1.5, ms=6, zorder=2.5)
    yq = y - _ROW_OFFSET * 0.6
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
        st.marker(r["source_type"]),
        color=color,
        mec="white",
        mew=1.2,
        ms=8,
        zorder=4,
        gid="bias-median",
    )


def _factor_axis(ax: Axes, src: pd.DataFrame, pct: str) -> None:
    """Log x axis of bias factors ("×2") around every interval and ×1."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    cols = [f"low_{pct}", "low_50", f"prior_low_{pct}", f"high_{pct}", "high_50"]
    cols.append(f"prior_high_{pct}")
    vals = src[cols].to_numpy(dtype=float).ravel() if len(src) else np.array([0.5, 2.0])
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


def plot_sources(
    estimate: Estimate,
    *,
    ax: Axes | None = None,
    level: float = DEFAULT_LEVEL,
    title: str | None = None,
    source_line: bool | str = True,
    figsize: tuple[float, float] | None = None,
) -> Axes:
    """Forest plot of each speaker's bias factor (claim ÷ true count), log scale.

    Per speaker (a source about one side; :meth:`Estimate.sources`): the posterior
    median with 50% (thick) and ``level`` (thin) intervals, in the source type's colour
    and marker shape, and
    underneath in grey the prior's ``level`` interval and median. Where the two look
    alike the claims taught the model little about that source; the right-hand column
    gives ``learned`` (0% = the factor is just its prior). The vertical line at ×1 is an
    honest source. With ``ax`` None the figure is sized to the rows.
    ``source_line`` (True, False or a text) writes the source line at the figure's
    bottom: as-of date, number of claims, package version.
    ``figsize`` (inches) sizes the figure made when ``ax`` is None.
    """
    from matplotlib.lines import Line2D

    check_level(level)
    pct = level_pct(level)
    src = estimate.sources(level=level)
    n = len(src)
    ax = st.new_axes(ax, figsize or _sources_figsize(n))
    labels: list[str] = []
    values: list[str] = []
    for y, r in enumerate(src.to_dict(orient="records")):
        labels.append(st.text(f"{st.shorten(r['source'])} — on {r['side']} ({r['source_type']})"))
        _draw_speaker(ax, y, r, pct)
        values.append(
            f"{factor(r['bias_factor'])} [{r[f'low_{pct}']:.2g}–"
            f"{r[f'high_{pct}']:.2g}]\nlearned {share(r['learned'])}"
        )
    ax.axvline(1.0, color="#444444", lw=1, ls="--", zorder=1)
    _factor_axis(ax, src, pct)
    ax.grid(axis="x", color="#e3e3e3", lw=0.8)
    ax.set_axisbelow(True)
    ax.set_yticks(np.arange(n), labels)
    for tick, t in zip(ax.get_yticklabels(), src["source_type"], strict=True):
        tick.set_color(st.color(t))
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(n - 0.5, -0.5)
    # right-hand column: median [interval] and how much the claims moved the prior; a
    # secondary axis (a child of ax, not a new Axes in the figure) so layout makes room
    right = ax.secondary_yaxis("right")
    right.set_yticks(np.arange(n), values)
    right.tick_params(axis="y", length=0, labelsize="small", labelcolor="#333333")
    right.spines["right"].set_visible(False)
    ax.set_xlabel("bias factor = what the source says ÷ the true count (log scale)")
    st.tidy(ax)
    ax.spines["left"].set_visible(False)
    st.title(ax, title or "Bias factor of each speaker (×1 = honest)")

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
    handles += st.type_handles(list(src["source_type"]))
    st.legend_below(ax, handles, ncol=2)
    st.source_line(ax, source_line, lambda: st.estimate_source(estimate))
    return ax


def plot_drift(
    estimate: Estimate,
    *,
    ax: Axes | None = None,
    level: float = DEFAULT_LEVEL,
    title: str | None = None,
    source_line: bool | str = True,
    figsize: tuple[float, float] | None = None,
) -> Axes:
    """Each running tally's drift factor over time (:meth:`Estimate.drift`): median and
    ``level`` band, on a log axis where 1 means the bias at the tally's first figure.

    A tally whose factor falls has come to report a smaller share of the truth than it
    did at first. With no running tally the axes say so and show nothing else.
    ``source_line`` (True, False or a text) writes the source line at the figure's
    bottom: as-of date, number of claims, package version.
    ``figsize`` (inches) sizes the figure made when ``ax`` is None.
    """
    check_level(level)
    pct = level_pct(level)
    table = estimate.drift(level=level)
    ax = st.new_axes(ax, figsize or (7.0, 3.2))
    if table.empty:
        ax.text(
            0.5, 0.5, "no running tally: no drift", ha="center", va="center", transform=ax.transAxes
        )
        ax.set_axis_off()
        st.source_line(ax, source_line, lambda: st.estimate_source(estimate))
        return ax
    src = estimate.sources(level=level)
    types = dict(zip(zip(src["source"], src["side"], strict=True), src["source_type"], strict=True))
    for (source, side), frame in table.groupby(["source", "side"], sort=False):
        color = st.color(types[(source, side)])
        ax.fill_between(
            frame["date"], frame[f"low_{pct}"], frame[f"high_{pct}"], color=color, alpha=0.2, lw=0
        )
        ax.plot(
            frame["date"],
            frame["median"],
            color=color,
            lw=1.8,
            label=st.text(f"{source} about {side}"),
        )
    ax.axhline(1.0, color=st.MODEL_COLOR, lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_ylabel("drift factor (×, 1 = first figure)")
    ax.set_title(title or f"How running tallies' biases drift (median and {pct}% interval)")
    ax.legend(frameon=False, fontsize="small")
    st.tidy(ax)
    st.source_line(ax, source_line, lambda: st.estimate_source(estimate))
    return ax
