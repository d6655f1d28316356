"""Every claim beside the model's view of it: :func:`plot_claims`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from casualty_models._format import check_level, date, level_pct
from casualty_models.diagnostics import MODEL_CHECK_LEVEL
from casualty_models.model.priors import DEFAULT_LEVEL
from casualty_models.plots import _style as st

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from casualty_models.estimate import Estimate

_ROW_OFFSET = 0.24  # vertical offset of a row's sub-rows: the claim above, the truth below


def _claims_figsize(n_rows: int) -> tuple[float, float]:
    """Figure size of :func:`plot_claims` for ``n_rows`` claims."""
    return (11.0, 2.6 + 0.48 * n_rows)


def _claim_label(row: Any, start: Any) -> str:
    label = st.text(f"{st.shorten(row.source)} — {row.side}/{row.category}, {date(row.as_of)}")
    if not pd.isna(row.period_start) and row.period_start != pd.Timestamp(start):
        label += f" (from {date(row.period_start)})"
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


def _claims_table(estimate: Estimate, level: float) -> pd.DataFrame:
    """Per claim: what it states, what the model expects its source to say
    (``predicted_*``, ``surprising``) and the true count (``true_*``)."""
    pct = level_pct(level)
    check = estimate.claims_check(level=level)
    truth = estimate.claim_counts(level=level)[["claim", "median", f"low_{pct}", f"high_{pct}"]]
    truth.columns = ["claim", "true_median", "true_low", "true_high"]
    figures = estimate.claim_figures()[["claim", "period_start"]]
    return check.merge(figures, on="claim").merge(truth, on="claim")


def plot_claims(
    estimate: Estimate,
    *,
    ax: Axes | None = None,
    level: float = DEFAULT_LEVEL,
    max_rows: int | None = 60,
    title: str | None = None,
    source_line: bool | str = True,
    figsize: tuple[float, float] | None = None,
) -> Axes:
    """Every claim beside the model's view of it, one row per claim (log scale).

    Per row, top to bottom: the claimed figure in its source type's colour and marker
    shape (a range's ends joined by a bar; an arrow away from an "at least" / "at most"
    figure); the posterior predictive ``level`` interval of what that source would say
    (light band); and the posterior of the true count for the claim's series and window
    (black: median and ``level`` interval, :meth:`Estimate.claim_counts`). Rows of surprising claims
    (``claims_check()["surprising"]``) are shaded. Above ``max_rows`` claims, all
    surprising claims and an even spread of the rest are shown (``max_rows=None`` shows
    all). With ``ax`` None the figure is sized to the rows. ``source_line`` (True,
    False or a text) writes the source line at the figure's bottom: as-of date, number
    of claims, package version.
    ``figsize`` (inches) sizes the figure made when ``ax`` is None.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    check_level(level)
    pct = level_pct(level)
    table = _claims_table(estimate, level)
    surprising = table["surprising"].to_numpy(dtype=bool)
    rows = _select_rows(len(table), surprising, max_rows)
    ax = st.new_axes(ax, figsize or _claims_figsize(len(rows)))
    start = estimate.settings.start
    xs: list[float] = []
    labels = []
    shown_rows: Any = table.iloc[rows]
    for y, r in enumerate(shown_rows.itertuples(index=False)):
        color = st.color(r.source_type)
        labels.append(_claim_label(r, start))
        if y % 2 == 1:
            ax.axhspan(y - 0.5, y + 0.5, color="#f4f4f4", zorder=0, lw=0)
        if r.surprising:
            ax.axhspan(
                y - 0.5, y + 0.5, color=st.SURPRISE_COLOR, zorder=0.5, lw=0, gid="surprising"
            )
        xs += st.draw_claim(ax, r, y - _ROW_OFFSET, vertical=False)
        # what the model expects this source to say
        lo, med = getattr(r, f"predicted_low_{pct}"), r.predicted_median
        hi = getattr(r, f"predicted_high_{pct}")
        ax.plot([lo, hi], [y, y], color=color, alpha=0.35, lw=6, solid_capstyle="butt", zorder=3)
        ax.plot([med], [y], "|", color=color, ms=8, mew=2, zorder=3.5)
        # the model's true count for this claim's series and window
        yt = y + _ROW_OFFSET
        ax.plot([r.true_low, r.true_high], [yt, yt], color=st.MODEL_COLOR, lw=1.8, zorder=4)
        ax.plot([r.true_median], [yt], "D", color=st.MODEL_COLOR, ms=5, zorder=4.5)
        xs += [lo, hi, r.true_low, r.true_high]

    n = len(rows)
    ax.set_yticks(np.arange(n), labels, fontsize="small" if n > 20 else None)
    for tick, i in zip(ax.get_yticklabels(), rows, strict=True):
        if surprising[i]:
            tick.set_color(st.SURPRISE_TEXT_COLOR)
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(n - 0.5, -0.5)  # first claim on top
    finite = st.positive(xs)
    lo, hi = (min(finite), max(finite)) if finite else (1.0, 10.0)
    st.log_people_axis(ax, lo / 1.6, hi * 2.2)
    ax.grid(axis="x", which="major", color="#dddddd", lw=0.8, zorder=0)
    ax.set_axisbelow(True)
    shown = (
        ""
        if n == len(table)
        else f"\n{n} of {len(table)} claims shown (all surprising + an even sample)"
    )
    ax.set_xlabel(f"people (log scale){shown}")
    st.tidy(ax)
    ax.spines["left"].set_visible(False)
    st.title(ax, title or f"Claims vs the model, as of {date(estimate.settings.as_of)}")

    handles: list[tuple[Any, str]] = st.kind_handles(list(shown_rows["kind"]))
    handles.append(
        (
            Line2D([], [], color="#555555", alpha=0.35, lw=6, solid_capstyle="butt"),
            f"what that source would say, per the model ({pct}%)",
        )
    )
    handles.append(
        (
            Line2D([], [], color=st.MODEL_COLOR, lw=1.8, marker="D", ms=5),
            f"true count, per the model (median, {pct}% interval)",
        )
    )
    handles += st.type_handles(list(shown_rows["source_type"]))
    if surprising[rows].any():
        handles.append(
            (
                Patch(color=st.SURPRISE_COLOR),
                f"surprising claim (outside its {MODEL_CHECK_LEVEL:.0%} predictive interval)",
            )
        )
    st.legend_below(ax, handles, ncol=3, drop=0.72 if shown else 0.5)
    st.source_line(ax, source_line, lambda: st.estimate_source(estimate))
    return ax
