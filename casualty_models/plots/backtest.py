"""How the estimate moved as claims arrived: :func:`plot_backtest`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from casualty_models import _hooks
from casualty_models._format import check_level, level_pct
from casualty_models.model.priors import DEFAULT_LEVEL
from casualty_models.plots import _style as st

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_FIGSIZE = (9.0, 5.0)


def _draw_vintages(ax: Axes, rows: pd.DataFrame, pct: str) -> None:
    """Each vintage at its date: the ``pct``% and 50% intervals and the median."""
    dates = pd.to_datetime(rows["as_reported_on"])
    ax.vlines(
        dates,
        rows[f"low_{pct}"],
        rows[f"high_{pct}"],
        color=st.MODEL_COLOR,
        alpha=0.35,
        linewidth=6,
        label=f"{pct}% interval",
    )
    ax.vlines(
        dates,
        rows["low_50"],
        rows["high_50"],
        color=st.MODEL_COLOR,
        alpha=0.7,
        linewidth=6,
        label="50% interval",
    )
    ax.plot(dates, rows["median"], "o-", color=st.MODEL_COLOR, label="median, as estimated then")


def _level_claims(backtest: Any, wanted: tuple[str, str]) -> pd.DataFrame:
    """The series' claims that are levels of its cumulative curve (not window counts)."""
    columns = ["source_type", "as_of", "reported", "kind", "value", "low", "high"]
    rows = [
        {
            "source_type": c.source_type,
            "as_of": pd.Timestamp(c.as_of),
            "reported": pd.Timestamp(c.reported),
            "kind": c.kind,
            "value": c.value,
            "low": c.low,
            "high": c.high,
        }
        for c in backtest.claims
        if c.series == wanted and (c.period_start is None or c.period_start <= backtest.start)
    ]
    return pd.DataFrame(rows, columns=columns)


@_hooks.provides("Backtest.plot")
def plot_backtest(
    backtest: Any,
    *,
    series: Any = None,
    ax: Axes | None = None,
    level: float = DEFAULT_LEVEL,
    source_line: bool | str = True,
    figsize: tuple[float, float] | None = None,
) -> Axes:
    """How the estimate moved: the headline on each vintage date, with its intervals.

    ``backtest`` is a :class:`~casualty_models.backtest.Backtest`. Each vintage is drawn
    at its date: median, 50% and ``level`` intervals (the history holds the default
    level; other levels raise). The series' claims of its cumulative count are overlaid
    at their ``as_of`` in their source type's colour and marker shape (a range's ends
    joined by a bar, "at least"/"at most" figures with an arrow), hollow when published
    after the first vintage — what the first estimate could not know. ``series`` picks
    one (side, category) or "side|category" (default: the first). ``source_line`` (True,
    False or a text) writes the source line at the figure's bottom: the last vintage,
    the number of claims, the package version.
    ``figsize`` (inches) sizes the figure made when ``ax`` is None.
    """
    from matplotlib.lines import Line2D

    check_level(level)
    pct = level_pct(level)
    hist = backtest.history
    if f"low_{pct}" not in hist:
        raise ValueError(f"the backtest history has no {pct}% interval; refit with that level")
    known = st.series_of(hist)
    wanted = known[0] if series is None else st.pick_series(known, series, where="this backtest")[0]
    rows = hist[(hist["side"] == wanted[0]) & (hist["category"] == wanted[1])]
    ax = st.new_axes(ax, figsize or _FIGSIZE)
    _draw_vintages(ax, rows, pct)
    first = pd.to_datetime(rows["as_reported_on"]).min()
    lo, hi = float(rows[f"low_{pct}"].min()), float(rows[f"high_{pct}"].max())
    claims = _level_claims(backtest, wanted)
    later = (claims["reported"] > first).to_numpy(dtype=bool)
    for r, late in zip(claims.itertuples(index=False), later, strict=True):
        figures = st.draw_claim(ax, r, r.as_of, vertical=True, ms=7, hollow=bool(late))
        lo, hi = min(lo, *figures), max(hi, *figures)
    st.log_people_axis(ax, lo * 0.8, hi * 1.25, axis="y")
    ax.set_xlabel("date the estimate was made (claims published by then)")
    ax.set_ylabel(f"{wanted[0]} {wanted[1]}, people")
    ax.set_title(f"How the estimate of {wanted[0]} {wanted[1]} moved as claims arrived")
    handles, labels = ax.get_legend_handles_labels()
    types = sorted({c.source_type for c in backtest.claims if c.series == wanted})
    hollow = Line2D([], [], marker="o", ls="none", mec="#555555", mfc="none", ms=7, mew=1.5)
    extra = (
        st.kind_handles(list(claims["kind"]), vertical=True)
        + ([(hollow, "published after the first estimate")] if later.any() else [])
        + st.type_handles(types)
    )
    ax.legend(
        handles + [h for h, _ in extra],
        labels + [lab for _, lab in extra],
        handler_map=st.handler_map(),
        fontsize=8,
        loc="upper left",
        frameon=False,
    )
    st.tidy(ax)
    last = pd.to_datetime(hist["as_reported_on"]).max()
    st.source_line(
        ax, source_line, lambda: st.source_text(as_of=last, n_claims=len(backtest.claims))
    )
    return ax
