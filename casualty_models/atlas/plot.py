"""The atlas's forest plot: every scored claim's ratio to its later count, by cell, with
the fitted distributions beside the hand-made presets' priors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from casualty_models.atlas.data import CELLS
from casualty_models.atlas.model import AtlasFit

__all__ = ["COMPARED", "forest_plot"]

COMPARED = {
    "own:military": ("war-military", "own"),
    "own:civilian": ("civilian", "own"),
    "enemy:military": ("war-military", "enemy"),
    "enemy:civilian": ("civilian", "enemy"),
    "neutral": ("war-military", "neutral"),
    "independent": ("war-military", "independent"),
    "tally": ("war-military", "tally"),
}
"""Cell -> the hand-made preset and source type whose prior the plot shows beside it."""

_EARLY = 0.2
"""Figures dated with more than this share of their event still to come are hollow."""


def _rows(obs: pd.DataFrame) -> pd.DataFrame:
    obs = obs.copy()
    obs["cell_pos"] = obs["cell"].map(CELLS.index)
    return obs.sort_values(["cell_pos", "event", "ratio"]).reset_index(drop=True)


def forest_plot(fit: AtlasFit, *, ax: Any = None, level: float = 0.9) -> Any:
    """Each scored claim's figure ÷ its later count (log scale), grouped by cell: a dot
    for a point, a bar for a range, an arrow for "at least" / "at most" (hollow when
    dated early in its event), a grey whisker for the later count's own uncertainty;
    per cell, the fitted predictive for a new event's speaker (shaded, median line), the
    cell's median factor (dark band) and the hand-made preset's prior (dashed). Returns
    the Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from casualty_models.model.priors_file import preset

    obs = _rows(fit.obs)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.2 * (len(obs) + 3 * len(CELLS)) + 1))
    cells = fit.cell_rows()
    tail = (1 - level) / 2
    y = 0.0
    ticks, labels = [], []
    for cell in CELLS:
        mine = obs[obs["cell"] == cell]
        top = y
        y += 1.2  # room for the cell's title
        for r in mine.itertuples(index=False):
            _claim(ax, r, y)
            ticks.append(y)
            labels.append(f"{str(r.event).split('_')[0]}: {str(r.source)[:38]}")
            y += 1.0
        bottom = y if len(mine) else y + 1.0
        pred = np.exp(np.quantile(fit.predictive(cell), [tail, 0.5, 1 - tail]))
        mu = np.exp(np.quantile(fit.cell_draws(cell)["mu"], [tail, 1 - tail]))
        ax.fill_betweenx([top + 0.6, bottom], pred[0], pred[2], color="tab:blue", alpha=0.12)
        ax.fill_betweenx([top + 0.6, bottom], mu[0], mu[1], color="tab:blue", alpha=0.22)
        ax.vlines(pred[1], top + 0.6, bottom, color="tab:blue", lw=1.5)
        name, source_type = COMPARED[cell]
        lo, _, hi = preset(name).for_type(source_type).factor_interval(level)
        ax.vlines([lo, hi], top + 0.6, bottom, color="0.35", lw=1, ls="--")
        c = cells[cell]
        ax.text(
            0.004,
            top + 0.5,
            f"{cell} — {int(c['claims'])} claims, {int(c['events'])} events; new speaker "
            f"×{c['factor']:.2g} ({c['low_90']:.2g}–{c['high_90']:.2g})",
            fontsize=8.5,
            fontweight="bold",
            va="center",
            transform=ax.get_yaxis_transform(),
        )
        y = bottom + 0.8
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlim(0.02, 50)
    ax.set_ylim(y, -0.5)
    ax.set_yticks(ticks, labels, fontsize=6.5)
    ax.set_xlabel("figure ÷ later count (log scale)")
    handles = [
        Line2D([], [], marker="o", color="black", ls="", label="figure (point)"),
        Line2D([], [], marker="o", mfc="white", color="black", ls="", label="dated early"),
        Line2D([], [], color="black", lw=2, label="range"),
        Line2D([], [], marker=">", color="black", ls="", label="at least / at most"),
        Line2D([], [], color="0.6", lw=1, label="later count's range"),
        Patch(color="tab:blue", alpha=0.22, label="cell median, 90%"),
        Patch(color="tab:blue", alpha=0.12, label="new speaker, 90% (the preset)"),
        Line2D([], [], color="0.35", ls="--", label="hand-made preset, 90%"),
    ]
    ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.9)
    ax.set_title("The bias atlas: what each kind of source said, against the later count")
    return ax


def _claim(ax: Any, r: Any, y: float) -> None:
    """One claim's mark at height ``y``."""
    count = math.exp(r.count_log)
    face = "white" if r.early > _EARLY else "black"
    lo_c, hi_c = math.exp(-r.count_sd_high * 1.645), math.exp(r.count_sd_low * 1.645)
    if r.kind == "point":
        x = math.exp(r.log_value) / count
        ax.plot([x * lo_c, x * hi_c], [y, y], color="0.6", lw=1)
        ax.plot(x, y, "o", ms=4, mfc=face, color="black")
    elif r.kind == "range":
        a, b = math.exp(r.log_low) / count, math.exp(r.log_high) / count
        ax.plot([a, b], [y, y], color="black", lw=2)
        if face == "white":
            ax.plot(math.sqrt(a * b), y, "o", ms=4, mfc="white", color="black")
    else:
        x = math.exp(r.log_low if r.kind == "floor" else r.log_high) / count
        ax.plot(x, y, ">" if r.kind == "floor" else "<", ms=5, mfc=face, color="black")
        ax.annotate(
            "",
            xy=(x * (1.8 if r.kind == "floor" else 1 / 1.8), y),
            xytext=(x, y),
            arrowprops={"arrowstyle": "->", "lw": 0.8},
        )
