"""Plots of an :class:`~casualty_models.Estimate`: the main figure, claims, biases, checks.

:func:`plot_panels` (``est.plot.panels()``) is the main figure: one panel per series on
a shared date axis, the stretch after a series' last claim drawn apart.
:func:`plot_claims`, :func:`plot_sources`, :func:`plot_drift`, :func:`plot_ppc` and
:func:`plot_timeline` (every series on one axis, kept for compatibility) take the
estimate; :func:`plot_sensitivity` and :func:`plot_loso` take the tables of
:mod:`casualty_models.trust`, :func:`plot_backtest` a backtest. Each has the form
``f(data, *, ax=None, level=DEFAULT_LEVEL, ...)`` and returns the Axes it drew on
(:func:`plot_panels`: one per series). When ``ax`` is None a figure of the plot's own
size is made (``figsize=`` overrides it; ``ax.figure`` is the figure); nothing here calls
``plt.show()``. Every figure carries a source line at its bottom (as-of date, number
of claims, package version; ``source_line=False`` or a text of your own), and
:func:`save_figure` writes it as PNG, SVG or PDF for the web or for print.

A claim (or a speaker) takes its source type's colour (:data:`SOURCE_TYPE_COLORS`,
Okabe–Ito) and marker shape (:data:`SOURCE_TYPE_MARKERS`) in every plot. The plots draw
the tables the estimate computes (:meth:`~casualty_models.Estimate.summary`,
:meth:`~casualty_models.Estimate.headline`,
:meth:`~casualty_models.Estimate.claims_check`,
:meth:`~casualty_models.Estimate.claim_figures`,
:meth:`~casualty_models.Estimate.claim_counts`, ...): no statistic is computed here.

One module per topic: :mod:`.panels`, :mod:`.claims`, :mod:`.timeline`, :mod:`.sources`
(with the drift), :mod:`.checks` (calibration), :mod:`.trust` (sensitivity, leave one
source out), :mod:`.backtest` and :mod:`.export`; :mod:`._style` holds the palette and
the shared helpers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from casualty_models import _hooks
from casualty_models.plots._style import (
    MODEL_COLOR,
    SOURCE_TYPE_COLORS,
    SOURCE_TYPE_LABELS,
    SOURCE_TYPE_MARKERS,
    SURPRISE_COLOR,
    SURPRISE_TEXT_COLOR,
    estimate_source,
    source_text,
)
from casualty_models.plots.backtest import plot_backtest
from casualty_models.plots.checks import plot_ppc
from casualty_models.plots.claims import plot_claims
from casualty_models.plots.export import PRINT_DPI, WEB_DPI, save_figure
from casualty_models.plots.panels import plot_panels
from casualty_models.plots.sources import plot_drift, plot_sources
from casualty_models.plots.timeline import plot_timeline
from casualty_models.plots.trust import plot_loso, plot_sensitivity

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from casualty_models.estimate import Estimate


@_hooks.provides("Estimate.plot")
class PlotAccessor:
    """``estimate.plot``: ``.panels()`` (the main figure), ``.claims()``, ``.timeline()``,
    ``.sources()``, ``.ppc()`` and ``.drift()``.

    Each method takes the same keyword arguments as the matching ``plot_*`` function
    and returns the Axes drawn on.
    """

    __slots__ = ("_estimate",)

    def __init__(self, estimate: Estimate):
        self._estimate = estimate

    def claims(self, **kwargs: Any) -> Axes:
        """:func:`plot_claims` for this estimate."""
        return plot_claims(self._estimate, **kwargs)

    def panels(self, **kwargs: Any) -> Any:
        """:func:`plot_panels` for this estimate: the main figure, one panel per series
        (returns the Axes, one per series)."""
        return plot_panels(self._estimate, **kwargs)

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
        return "<PlotAccessor: .panels(), .claims(), .timeline(), .sources(), .ppc(), .drift()>"


__all__ = [
    "MODEL_COLOR",
    "PRINT_DPI",
    "SOURCE_TYPE_COLORS",
    "SOURCE_TYPE_LABELS",
    "SOURCE_TYPE_MARKERS",
    "SURPRISE_COLOR",
    "SURPRISE_TEXT_COLOR",
    "WEB_DPI",
    "PlotAccessor",
    "estimate_source",
    "plot_backtest",
    "plot_claims",
    "plot_drift",
    "plot_loso",
    "plot_panels",
    "plot_ppc",
    "plot_sensitivity",
    "plot_sources",
    "plot_timeline",
    "save_figure",
    "source_text",
]
