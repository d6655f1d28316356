"""Calibration of the claims against the model: :func:`plot_ppc`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from casualty_models._format import check_level, level_pct
from casualty_models.model.priors import DEFAULT_LEVEL
from casualty_models.plots import _style as st

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from casualty_models.estimate import Estimate

_FIGSIZE = (8.0, 7.0)
_BAND_POINTS = 99  # where the band is evaluated: 0.01, 0.02, ..., 0.99
_BAND_COLOR = "#9aa7b8"
_MAX_DOTS = 200  # above this many claims the PIT dots would be a smear


@dataclass(frozen=True)
class _Calibration:
    """The ECDF of ``n`` sorted PIT values against ArviZ's simultaneous band."""

    pit: np.ndarray  # sorted
    x: np.ndarray  # evaluation points of the band
    low: np.ndarray
    high: np.ndarray
    outside: int  # evaluation points where the ECDF leaves the band

    @property
    def n(self) -> int:
        return len(self.pit)


def _calibration(pit: np.ndarray, level: float) -> _Calibration:
    """Simultaneous ``level`` band of the ECDF of uniform values (ArviZ's optimized
    method, Säilynoja, Bürkner & Vehtari 2022) and how often the PIT ECDF leaves it."""
    from arviz.stats.ecdf_utils import compute_ecdf, ecdf_confidence_band

    p = np.sort(np.asarray(pit, dtype=float))
    x = np.linspace(0, 1, _BAND_POINTS + 2)[1:-1]
    lo, hi = ecdf_confidence_band(len(p), x, x, prob=level, method="optimized")
    ecdf = compute_ecdf(p, x)
    outside = int(np.sum((ecdf < lo - 1e-12) | (ecdf > hi + 1e-12)))
    return _Calibration(p, x, np.asarray(lo), np.asarray(hi), outside)


def _verdict(cal: _Calibration | None) -> str:
    if cal is None:
        return "no point claims to check"
    n = cal.n
    return f"{n} point claim{'s' if n != 1 else ''}; the ECDF " + (
        "stays inside the band" if not cal.outside else "leaves the band: not calibrated"
    )


def _draw_calibration(ax: Axes, cal: _Calibration, types: pd.Series) -> None:
    """The band, the ECDF step and (up to :data:`_MAX_DOTS`) a dot per claim."""
    n = cal.n
    ax.fill_between(
        cal.x, cal.low, cal.high, color=_BAND_COLOR, alpha=0.35, lw=0, zorder=1, gid="band"
    )
    ax.step(
        np.r_[0.0, cal.pit, 1.0],
        np.r_[0.0, np.arange(1, n + 1) / n, 1.0],
        where="post",
        color=st.MODEL_COLOR,
        lw=1.8,
        zorder=3,
        gid="ecdf",
    )
    if n <= _MAX_DOTS:
        for rank, (value, source_type) in enumerate(zip(cal.pit, types, strict=True), 1):
            ax.plot(
                [value],
                [rank / n],
                st.marker(source_type),
                color=st.color(source_type),
                mec="white",
                mew=1,
                ms=8,
                zorder=4,
                gid="pit",
            )


def plot_ppc(
    estimate: Estimate,
    *,
    ax: Axes | None = None,
    level: float = DEFAULT_LEVEL,
    title: str | None = None,
    source_line: bool | str = True,
    figsize: tuple[float, float] | None = None,
) -> Axes:
    """Calibration of the claims: the ECDF of their PIT values against the uniform.

    A claim's PIT value (:func:`casualty_models.trust.claims_pit`) is the share of the
    posterior predictive draws of what its source would say that fall below it; for a
    calibrated model they are uniform, and their ECDF stays inside the shaded
    simultaneous ``level`` band (ArviZ's ``ecdf_confidence_band``) with probability
    ``level``. Only point claims have a PIT value (ranges, floors and ceilings are left
    out). Each claim is part of the fit, so PIT values bunch toward 0.5 (an S-shaped
    ECDF); a claim near 0 or 1 is surprising given the rest. Each claim's mark takes its
    source type's colour and shape (up to 200 claims).
    ``source_line`` (True, False or a text) writes the source line at the figure's
    bottom: as-of date, number of claims, package version.
    ``figsize`` (inches) sizes the figure made when ``ax`` is None.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from casualty_models.trust import claims_pit

    check_level(level)
    pct = level_pct(level)
    pit = claims_pit(estimate).sort_values("pit", kind="stable")
    cal = _calibration(pit["pit"].to_numpy(float), level) if len(pit) else None
    ax = st.new_axes(ax, figsize or _FIGSIZE)
    ax.plot([0, 1], [0, 1], color="#777777", ls="--", lw=1.2, zorder=2)
    if cal is not None:
        _draw_calibration(ax, cal, pit["source_type"])
    ax.text(
        0.02,
        0.98,
        _verdict(cal),
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
    st.tidy(ax)
    st.title(ax, title or "Calibration: each claim against the model's prediction")
    handles: list[tuple[Any, str]] = [
        (Line2D([], [], color=st.MODEL_COLOR, lw=1.8), "ECDF of the claims' PIT values"),
        (Line2D([], [], color="#777777", ls="--", lw=1.2), "a calibrated model (uniform)"),
        (
            Patch(color=_BAND_COLOR, alpha=0.35, lw=0),
            f"simultaneous {pct}% band for a calibrated model",
        ),
    ]
    handles += st.type_handles(list(pit["source_type"]) if len(pit) <= _MAX_DOTS else [])
    st.legend_below(ax, handles, ncol=2)
    st.source_line(ax, source_line, lambda: st.estimate_source(estimate))
    return ax
