"""What the calibration studies write: rank and coverage figures, and blocks of docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from validation.calibration import (
    _ordered,
    _rank_bins,
    binomial_band,
    first_units,
    uniformity_table,
)

DOCS = Path(__file__).resolve().parents[1] / "docs"
TRUST = DOCS / "trust.md"


def trust_page(out: Path, trust: Path | None, no_trust: bool) -> Path | None:
    """The Markdown page a study updates: ``trust`` if given, else docs/trust.md only
    when the study writes into docs/validation, whose figures that page shows.

    A trial run into another directory thus leaves the committed page alone.
    """
    if no_trust:
        return None
    if trust is not None:
        return trust
    return TRUST if out.resolve() == (DOCS / "validation").resolve() else None


def replace_block(path: Any, name: str, text: str) -> None:
    """Replace the text between ``<!-- name:start -->`` and ``<!-- name:end -->`` in a
    Markdown file (appending the block if it is missing)."""
    path = Path(path)
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}"
    doc = path.read_text() if path.exists() else ""
    if start in doc and end in doc:
        head, rest = doc.split(start, 1)
        doc = head + block + rest.split(end, 1)[1]
    else:
        doc = doc.rstrip() + ("\n\n" if doc else "") + block + "\n"
    path.write_text(doc)


def plot_rank_histograms(units: pd.DataFrame, path: Any, n_bins: int = 20) -> None:
    """One panel per quantity: rank histogram of one unit per simulation; solid line the
    expected count per bin under uniform ranks, dashed lines its 99% binomial band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = first_units(units)
    tests = uniformity_table(units, n_bins)
    p_values = {str(q): float(p) for q, p in zip(tests["quantity"], tests["p_value"], strict=True)}
    quantities = _ordered(first["quantity"])
    ncols = 3
    nrows = -(-len(quantities) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.9 * nrows), squeeze=False)
    for ax, quantity in zip(axes.flat, quantities, strict=False):
        g = first[first["quantity"] == quantity]
        counts, expected = _rank_bins(g, n_bins)
        x = np.arange(n_bins)
        lo = stats.binom.ppf(0.005, len(g), expected / len(g))
        hi = stats.binom.ppf(0.995, len(g), expected / len(g))
        ax.bar(x, counts, width=1.0, color="tab:blue", alpha=0.6, edgecolor="white")
        ax.step(x, expected, where="mid", color="0.2", lw=1.0)
        for bound in (lo, hi):
            ax.step(x, bound, where="mid", color="0.2", lw=0.8, ls="--")
        ax.set_ylim(0, max(hi.max(), counts.max()) * 1.08)
        p = p_values[quantity]
        ax.set_title(f"{quantity}  (n={len(g)}, χ² p={p:.2f})", fontsize=10)
        ax.set_xticks([0, n_bins // 2, n_bins - 1], ["low", "mid", "high"])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(quantities) :]:
        ax.axis("off")
    fig.suptitle("SBC rank histograms: rank of the truth among posterior draws", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_coverage(coverage: pd.DataFrame, path: Any, mass: float = 0.99) -> None:
    """Coverage per quantity at each level, with the binomial band around nominal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quantities = _ordered(coverage["quantity"])
    levels = sorted(set(coverage["level"]))
    fig, axes = plt.subplots(1, len(levels), figsize=(5.2 * len(levels), 3.6), squeeze=False)
    for ax, level in zip(axes[0], levels, strict=True):
        rows = coverage[coverage["level"] == level].set_index("quantity").loc[quantities]
        y = np.arange(len(quantities))[::-1]
        for yi, (_, r) in zip(y, rows.iterrows(), strict=True):
            lo, hi = binomial_band(level, int(r["n_sims"]), mass)
            ax.plot([lo, hi], [yi, yi], color="0.75", lw=6, solid_capstyle="butt")
        ax.plot(rows["coverage"], y, "o", color="tab:blue")
        ax.axvline(level, color="0.3", lw=0.8)
        ax.set_yticks(y, quantities)
        ax.set_xlabel(f"share of truths inside the {level:.0%} interval")
        ax.set_title(f"{level:.0%} intervals (grey: {mass:.0%} binomial band)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
