"""Small multiples, the recommended main figure: :func:`plot_panels`.

One panel per series on a shared date axis: the posterior median, its 50% and ``level``
intervals, and that series' claims. The stretch after a series' last claim, where only
the prior carries the curve, is drawn apart: hatched, lighter bands and a dashed median;
so is the stretch before its first claim, where the claims fix the total, not the shape.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from casualty_models._format import about, check_level, date, level_pct, people_tick
from casualty_models.model.categories import BASE
from casualty_models.model.priors import DEFAULT_LEVEL
from casualty_models.plots import _style as st

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from casualty_models.estimate import Estimate

MODEL_ALPHA = {"50": 0.38, "level": 0.18}
"""Fill opacity of the model's 50% and ``level`` intervals where claims inform them."""
EXTRAPOLATED_ALPHA = {"50": 0.14, "level": 0.06}
"""Fill opacity of the same intervals on an extrapolated stretch (also hatched)."""
EXTRAPOLATED_HATCH = "////"
_PANEL_WIDTH = {1: 9.0, 2: 12.0}  # inches, by number of columns
_PANEL_HEIGHT = 2.9
_FRAME_HEIGHT = 1.9  # title, legend and source line


@dataclass(frozen=True)
class _Panel:
    """What one panel shows, split from the tables the estimate computes."""

    side: str
    category: str
    frame: pd.DataFrame  # summary rows of the series, up to where it is drawn
    claims: pd.DataFrame  # claim_figures rows on its cumulative curve
    skipped: int  # claims of the series counting a later window: not drawn
    head: Any  # its headline row


def _default_series(head: pd.DataFrame) -> list[tuple[str, str]]:
    """The headline series: the killed count of each side (every series when none is)."""
    series = st.series_of(head)
    killed = [s for s in series if s[1] == BASE]
    return killed or series


def _chosen(head: pd.DataFrame, series: Any) -> list[tuple[str, str]]:
    known = st.series_of(head)
    if series is None:
        return _default_series(head)
    if isinstance(series, str) and series == "all":
        return known
    if isinstance(series, str) or (
        isinstance(series, tuple) and len(series) == 2 and all(isinstance(s, str) for s in series)
    ):
        return st.pick_series(known, series)
    out = [st.pick_series(known, s)[0] for s in series]
    if not out:
        raise ValueError("series is empty: name at least one, or None for the headline")
    return list(dict.fromkeys(out))


def _panels(estimate: Estimate, chosen: list[tuple[str, str]], level: float) -> list[_Panel]:
    summ = estimate.summary(level=level)
    head = estimate.headline(level=level)
    claims = estimate.claim_figures()
    out = []
    for side, category in chosen:
        row = head[(head["side"] == side) & (head["category"] == category)].iloc[0]
        frame = summ[(summ["side"] == side) & (summ["category"] == category)]
        if not row["estimable"]:  # withheld, as the headline is: past the horizon
            frame = frame[frame["date"] <= row["estimable_until"]]
        mine = claims[(claims["side"] == side) & (claims["category"] == category)]
        out.append(
            _Panel(
                side=side,
                category=category,
                frame=frame,
                claims=mine[mine["cumulative"]],
                skipped=int((~mine["cumulative"]).sum()),
                head=row,
            )
        )
    return out


def _stretches(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(before the first claim, estimated, extrapolated) rows; the stretches the prior
    carries share a day with the estimated one so that the three join."""
    extrapolated = frame["extrapolated"].to_numpy(dtype=bool)
    before = frame["before_claims"].to_numpy(dtype=bool)
    est, ext, head = frame[~extrapolated & ~before], frame[extrapolated], frame[before]
    if len(est) and len(ext):
        ext = pd.concat([est.iloc[[-1]], ext])
    if len(est) and len(head):
        head = pd.concat([head, est.iloc[[0]]])
    return head, est, ext


def _draw_curve(ax: Axes, frame: pd.DataFrame, pct: str, *, extrapolated: bool) -> None:
    """Median with its 50% and ``pct``% bands; hatched, lighter and dashed when
    ``extrapolated``."""
    from matplotlib.colors import to_rgba

    if frame.empty:
        return
    suffix = "-extrapolated" if extrapolated else ""
    alpha = EXTRAPOLATED_ALPHA if extrapolated else MODEL_ALPHA
    dates = frame["date"].to_numpy()
    for key, low, high in (("level", f"low_{pct}", f"high_{pct}"), ("50", "low_50", "high_50")):
        style: dict[str, Any] = {"facecolor": to_rgba(st.MODEL_COLOR, alpha[key]), "lw": 0}
        if extrapolated:
            style |= {"hatch": EXTRAPOLATED_HATCH, "edgecolor": to_rgba(st.MODEL_COLOR, 0.3)}
        gid = f"band-{pct if key == 'level' else '50'}{suffix}"
        ax.fill_between(dates, frame[low], frame[high], zorder=1, gid=gid, **style)
    ax.plot(
        dates,
        frame["median"],
        color=st.MODEL_COLOR,
        lw=2,
        ls="--" if extrapolated else "-",
        zorder=2,
        gid=f"median{suffix}",
    )


def _count_axis(ax: Axes, panel: _Panel, figures: list[float], pct: str, log: bool) -> None:
    """Linear from 0 (or log) up to the claims, the informed interval and the
    extrapolated 50% interval; a wider extrapolated band runs off the top."""
    from matplotlib.ticker import FuncFormatter

    _, est, ext = _stretches(panel.frame)
    tops = [*figures, *est[f"high_{pct}"], *ext["high_50"]]
    top = max(st.positive(tops), default=1.0)
    if log:
        shown = panel.frame
        if len(panel.claims):
            shown = shown[shown["date"] >= panel.claims["as_of"].min()]
        bottom = min(st.positive([*figures, *shown[f"low_{pct}"]]), default=top / 10)
        st.log_people_axis(ax, max(bottom, 1e-3) / 1.5, top * 1.6, axis="y")
    else:
        ax.set_ylim(0, top * 1.1)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: people_tick(x)))
    ax.grid(axis="y", color="#e3e3e3", lw=0.8)
    ax.set_axisbelow(True)


def _panel_title(ax: Axes, panel: _Panel, pct: str, as_of: Any) -> None:
    """Series name on the left; its headline (or why there is none) on the right."""
    h = panel.head
    ax.set_title(st.text(f"{panel.side} {panel.category}"), loc="left", fontweight="bold")
    if h["estimable"]:
        words = (
            f"{date(as_of)}: {about(h['median'])} "
            f"({pct}%: {about(h[f'low_{pct}'])}–{about(h[f'high_{pct}'])})"
        )
    else:
        words = f"not estimable on {date(as_of)}: no claim since {date(h['last_claim'])}"
    ax.set_title(words, loc="right", fontsize="small", color="#333333")


def _notes(ax: Axes, panel: _Panel) -> None:
    """In-panel notes: where the extrapolation starts, and claims not drawn."""
    lines = []
    if panel.frame["before_claims"].any():
        lines.append(
            f"hatched, dashed: before the first claim, {date(panel.head['first_claim'])}, "
            "only the total by then is known"
        )
    if panel.frame["extrapolated"].any():
        lines.append(
            f"hatched, dashed: extrapolated after the last claim, {date(panel.head['last_claim'])}"
        )
    if panel.skipped:
        n = panel.skipped
        lines.append(f"{n} claim{'s' if n != 1 else ''} counting a later window not shown")
    if lines:
        ax.text(
            0.01,
            0.97,
            "\n".join(lines),
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize="x-small",
            style="italic",
            color="#555555",
            gid="panel-note",
        )


def _draw_panel(ax: Axes, panel: _Panel, pct: str, *, log: bool, as_of: Any) -> list[str]:
    """One series' panel; returns the kinds of claims drawn (for the legend)."""
    from matplotlib import dates as mdates

    head, est, ext = _stretches(panel.frame)
    _draw_curve(ax, est, pct, extrapolated=False)
    _draw_curve(ax, ext, pct, extrapolated=True)
    _draw_curve(ax, head, pct, extrapolated=True)
    figures: list[float] = []
    for r in panel.claims.itertuples(index=False):
        figures += st.draw_claim(ax, r, r.as_of, vertical=True, ms=7, hollow=not r.used)
    ax.axvline(
        mdates.date2num(np.datetime64(as_of, "D")), color="#444444", ls=":", lw=1.2, zorder=1.5
    )
    _count_axis(ax, panel, figures, pct, log)
    _panel_title(ax, panel, pct, as_of)
    _notes(ax, panel)
    st.tidy(ax)
    return list(panel.claims["kind"])


def _legend_handles(
    panels: list[_Panel], kinds: list[str], pct: str, as_of: Any
) -> list[tuple[Any, str]]:
    from matplotlib.colors import to_rgba
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    m = st.MODEL_COLOR
    handles: list[tuple[Any, str]] = [
        (Line2D([], [], color=m, lw=2), "true count, per the model (median)"),
        (Patch(color=m, alpha=MODEL_ALPHA["50"] + MODEL_ALPHA["level"], lw=0), "50% interval"),
        (Patch(color=m, alpha=MODEL_ALPHA["level"], lw=0), f"{pct}% interval"),
    ]
    if any(p.frame["extrapolated"].any() for p in panels):
        hatched = Patch(
            facecolor=to_rgba(m, EXTRAPOLATED_ALPHA["level"]),
            edgecolor=to_rgba(m, 0.3),
            hatch=EXTRAPOLATED_HATCH,
            lw=0,
        )
        dashed = Line2D([], [], color=m, lw=2, ls="--")
        handles.append(((hatched, dashed), "extrapolated: no claims after that date"))
    handles.append((Line2D([], [], color="#444444", ls=":", lw=1.2), f"as of {date(as_of)}"))
    handles += st.kind_handles(kinds, vertical=True)
    if any((~p.claims["used"]).any() for p in panels):
        hollow = Line2D([], [], marker="o", ls="none", mec="#555555", mfc="none", ms=7, mew=1.5)
        handles.append((hollow, "claim left out of the fit (see claims check)"))
    handles += st.type_handles([t for p in panels for t in p.claims["source_type"]])
    return handles


def _new_grid(n: int, figsize: tuple[float, float] | None) -> np.ndarray:
    import matplotlib.pyplot as plt

    ncols = 1 if n <= 3 else 2
    nrows = math.ceil(n / ncols)
    size = figsize or (_PANEL_WIDTH[ncols], _FRAME_HEIGHT + _PANEL_HEIGHT * nrows)
    fig, grid = plt.subplots(
        nrows, ncols, figsize=size, sharex=True, squeeze=False, layout="constrained"
    )
    axes = grid.ravel()
    for extra in axes[n:]:
        fig.delaxes(extra)
    for ax in axes[max(0, n - ncols) : n]:  # the lowest panel of each column keeps its dates
        ax.xaxis.set_tick_params(labelbottom=True)
    return axes[:n]


def plot_panels(
    estimate: Estimate,
    *,
    series: Any = None,
    axes: Sequence[Axes] | None = None,
    level: float = DEFAULT_LEVEL,
    log: bool = False,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
    source_line: bool | str = True,
) -> np.ndarray:
    """Small multiples: one panel per series on a shared date axis. The main figure.

    ``series``: None for the headline (the killed count of each side; every series
    when there is none), ``"all"``, one series as ``(side, category)`` or
    ``"side|category"``, or a list of them. Each panel shows the posterior median with
    its 50% and ``level`` intervals (:meth:`Estimate.summary`), that series' claims in
    their source type's colour and marker shape (hollow when the fit left them out),
    and its headline on the ``as_of`` date (dotted line) top right. After the series'
    last claim (``summary()["extrapolated"]``) the curve rests on the prior alone: that
    stretch is hatched and lighter with a dashed median, and a series past its horizon
    (``headline()["estimable"]`` False) is drawn only up to ``estimable_until``, as the
    headline withholds it. Counts are on a linear scale from 0 (``log=True`` for a log
    scale); a wide extrapolated interval may run off the top.

    ``axes`` draws into given Axes, one per series; otherwise a figure is made (one
    column up to three panels, two beyond; ``figsize`` in inches). Returns the Axes, one
    per series, in order (``axes[0].figure`` is the figure; save it with
    :func:`save_figure`). ``source_line`` (True, False or a text) writes the source line
    at the figure's bottom: as-of date, number of claims, package version.
    """
    check_level(level)
    pct = level_pct(level)
    head = estimate.headline(level=level)
    chosen = _chosen(head, series)
    panels = _panels(estimate, chosen, level)
    if axes is None:
        used = _new_grid(len(panels), figsize)
    else:
        used = np.asarray(list(axes), dtype=object)[: len(panels)]
        if len(used) < len(panels):
            raise ValueError(f"{len(panels)} series need {len(panels)} axes, got {len(used)}")
    as_of = estimate.settings.as_of
    summ_dates = estimate.summary(level=level)["date"]
    kinds: list[str] = []
    for ax, panel in zip(used, panels, strict=True):
        kinds += _draw_panel(ax, panel, pct, log=log, as_of=as_of)
        st.date_axis(ax, summ_dates.min(), summ_dates.max(), max_ticks=9)
        ax.set_ylabel("people" + (" (log scale)" if log else ""))
    fig = used[0].figure
    if title is None:
        title = f"Cumulative counts since {date(estimate.settings.start)}: model and claims"
    fig.suptitle(st.text(title), x=0.01, ha="left", fontsize="large", fontweight="bold")
    handles = _legend_handles(panels, kinds, pct, as_of)
    st.legend_below(used[-1], handles, ncol=3, drop=0.55, on_figure=True)
    st.source_line(used[0], source_line, lambda: st.estimate_source(estimate))
    return used
