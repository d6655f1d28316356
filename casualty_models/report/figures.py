"""The report's plots as PNG facts, and the plot files the command line writes.

Each plot function sizes its own figure (called with ``ax=None``); the figure is
rendered to PNG bytes and closed at once, so a report leaves no figure open.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from casualty_models._format import check_level
from casualty_models.model.priors import DEFAULT_LEVEL
from casualty_models.report.series import focus_series

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

    from casualty_models.estimate import Estimate

PNG_DPI = 120
PLOT_FILES: tuple[str, ...] = ("panels.png", "claims.png", "timeline.png", "sources.png")
"""What :func:`save_plots` always writes (and ``drift.png`` with a running tally), as
PNG by default; other formats with ``formats=``."""

ALT_TEXT = {
    "panels": "True count through time, one panel per headline series, with the claims",
    "claims": "Each claim beside the model's true count and what that source would say",
    "timeline": "Cumulative true count through time with the claims at their dates",
    "sources": "Bias factor of each speaker: posterior and prior",
    "drift": "Drift of running tallies",
    "sensitivity": "How the median moves when one bias prior changes",
    "loso": "How the median moves without each source",
    "ppc": "PIT values of the claims against the uniform",
    "compare": "The earlier and the new estimate through time, with the claims that changed",
}


@dataclass(frozen=True)
class Figure:
    """A rendered plot: PNG bytes, the alt text a screen reader says, a caption."""

    kind: ClassVar[str] = "figure"
    png: bytes
    alt: str
    caption: str = ""

    @property
    def base64(self) -> str:
        """The PNG as base64 text, for a ``data:`` URL."""
        return base64.b64encode(self.png).decode("ascii")


def _close(fig: MplFigure) -> None:
    """Forget a figure a plot function made (pyplot keeps it alive otherwise)."""
    import matplotlib.pyplot as plt

    plt.close(fig)


def _draw(kind: str, data: Any, level: float, **options: Any) -> MplFigure:
    """Draw one plot on the figure its plot function sizes and return that figure."""
    from matplotlib.figure import Figure as MplFigure

    from casualty_models import plots

    draw: dict[str, Callable[..., Any]] = {
        "claims": plots.plot_claims,
        "timeline": plots.plot_timeline,
        "sources": plots.plot_sources,
        "drift": plots.plot_drift,
        "ppc": plots.plot_ppc,
    }
    if kind == "compare":  # drawn from a Comparison
        from casualty_models.plots.compare import plot_compare

        ax = plot_compare(data, ax=None, level=level, **options)
    elif kind == "panels":  # small multiples: an array of Axes, one per series
        ax = plots.plot_panels(data, level=level, **options)[0]
    elif kind in ("sensitivity", "loso"):  # drawn from a trust table, at its own level
        table_draw = plots.plot_sensitivity if kind == "sensitivity" else plots.plot_loso
        ax = table_draw(data, ax=None)
    elif kind in draw:
        ax = draw[kind](data, ax=None, level=level, **options)
    else:
        raise ValueError(f"unknown plot {kind!r}")
    fig = ax.figure
    return fig if isinstance(fig, MplFigure) else fig.figure


_SHARED: ContextVar[dict[tuple[Any, ...], bytes] | None] = ContextVar("_SHARED", default=None)


@contextmanager
def shared_renders() -> Iterator[None]:
    """Within the block, a plot asked for again with the same data, level and options
    is rendered once: the command line's plot files and its report show the same
    claims and sources plots, and drawing one takes a tenth of a second or more."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def _png(kind: str, data: Any, level: float, options: Mapping[str, Any]) -> bytes:
    shared = _SHARED.get()
    # ``data`` is alive for the whole block, so its id names it
    key = (kind, id(data), level, repr(sorted(options.items())))
    if shared is not None and key in shared:
        return shared[key]
    from casualty_models.plots.export import _METADATA

    fig = _draw(kind, data, level, **options)
    try:
        buf = io.BytesIO()
        # no software version in the bytes: the same plot gives the same report
        fig.savefig(buf, format="png", dpi=PNG_DPI, metadata=_METADATA["png"])
    finally:
        _close(fig)
    if shared is not None:
        shared[key] = buf.getvalue()
    return buf.getvalue()


def render(
    kind: str,
    data: Any,
    level: float = DEFAULT_LEVEL,
    *,
    options: Mapping[str, Any] | None = None,
    caption: str = "",
) -> Figure:
    """Plot ``kind`` ("claims", "timeline", "sources", "drift", "ppc": of an Estimate,
    with ``options`` for its plot function; "sensitivity", "loso": of a trust table;
    "compare": of a Comparison) as a PNG :class:`Figure`."""
    check_level(level)
    return Figure(_png(kind, data, level, options or {}), ALT_TEXT[kind], caption)


def save_plots(
    estimate: Estimate,
    out_dir: str | os.PathLike[str],
    *,
    level: float = DEFAULT_LEVEL,
    formats: Sequence[str] = ("png",),
    series: Any = None,
) -> list[Path]:
    """Write panels, claims, timeline and sources (and drift with a running tally) into
    ``out_dir`` in each of ``formats`` ("png", "svg", "pdf"), each file atomically.

    ``series`` chooses the panels' series (see :func:`casualty_models.plots.plot_panels`;
    default: the headline series).
    """
    from casualty_models._atomic import atomic_write
    from casualty_models.plots import save_figure
    from casualty_models.plots.export import check_formats

    check_level(level)
    out = Path(out_dir)
    wanted = check_formats(formats)
    paths: list[Path] = []
    for name in (*PLOT_FILES, *(["drift.png"] if estimate.inputs.running else [])):
        kind = name.removesuffix(".png")
        options = {}
        if kind == "panels":
            # the default spelled out as the report spells it, so that the two share it
            options = {"series": focus_series(estimate) if series is None else series}
        if wanted == ["png"]:  # through render(), so that a report in the same block reuses it
            paths.append(atomic_write(out / name, _png(kind, estimate, level, options)))
            continue
        fig = _draw(kind, estimate, level, **options)  # one drawing for every format
        try:
            paths.extend(save_figure(fig, out / kind, wanted, dpi=PNG_DPI))
        finally:
            _close(fig)
    return paths
