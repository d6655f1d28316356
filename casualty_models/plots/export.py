"""Writing figures to files: :func:`save_figure` (PNG, SVG, PDF; atomic, reproducible)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casualty_models._atomic import atomic_write_with

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
"""The formats :func:`save_figure` writes."""
WEB_DPI = 150
"""Raster resolution for screens (the default)."""
PRINT_DPI = 300
"""Raster resolution for print; the vector formats (SVG, PDF) need none."""

# no creation date or software version in the files: the same figure, the same bytes
_METADATA: dict[str, dict[str, Any]] = {
    "png": {"Software": None},
    "svg": {"Date": None},
    "pdf": {"CreationDate": None},
}


def check_formats(formats: str | Iterable[str]) -> list[str]:
    """``formats`` ("png", ".SVG", ...) as known lower-case names, each once, in order."""
    wanted = [f.lower().lstrip(".") for f in ([formats] if isinstance(formats, str) else formats)]
    unknown = sorted(set(wanted) - set(FORMATS))
    if unknown or not wanted:
        raise ValueError(
            f"formats must be some of {', '.join(FORMATS)}; got {', '.join(unknown) or 'none'}"
        )
    return list(dict.fromkeys(wanted))


def _figure_of(obj: Any) -> Figure:
    """The (top-level) figure of a Figure, an Axes or a sequence of Axes (what the plots
    return)."""
    from matplotlib.figure import Figure

    if isinstance(obj, Figure):
        return obj
    if hasattr(obj, "figure") and not isinstance(obj, Sequence):
        return _figure_of(obj.figure)  # an Axes, or a SubFigure inside a Figure
    try:
        first = next(iter(getattr(obj, "flat", obj)))
    except (TypeError, StopIteration):
        raise TypeError(f"save_figure needs a Figure or Axes, got {type(obj).__name__}") from None
    return _figure_of(first)


def save_figure(
    fig: Any,
    path: str | os.PathLike[str],
    formats: Iterable[str] = ("png", "svg"),
    *,
    dpi: float = WEB_DPI,
    figsize: tuple[float, float] | None = None,
) -> list[Path]:
    """Write ``fig`` once per format next to ``path``; returns the files written.

    ``fig`` is a Figure, or the Axes (or array of Axes) a plot function returned.
    ``path`` names the files without their extension: ``out/panels`` (or
    ``out/panels.png``: a known extension is dropped) with the default ``formats``
    writes ``out/panels.png`` and ``out/panels.svg``. Formats: ``png``, ``svg``,
    ``pdf``. ``dpi`` is the PNG's resolution (:data:`WEB_DPI` by default;
    :data:`PRINT_DPI` for print); ``figsize`` (inches) draws the figure at that size for
    these files only, e.g. ``(7, 4.5)`` for a full printed page width. Each file is
    written atomically (a reader never sees half a file) and without a creation date, so
    the same figure gives the same bytes.
    """
    import matplotlib as mpl

    wanted = check_formats(formats)
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    root = _figure_of(fig)
    target = Path(path)
    if target.suffix.lower().lstrip(".") in FORMATS:
        target = target.with_suffix("")
    size = tuple(root.get_size_inches())
    written = []
    try:
        if figsize is not None:
            root.set_size_inches(figsize)
        with mpl.rc_context({"svg.hashsalt": "casualty_models"}):
            for fmt in wanted:
                out = target.with_name(f"{target.name}.{fmt}")

                def write(tmp: Path, fmt: str = fmt) -> None:
                    root.savefig(tmp, format=fmt, dpi=dpi, metadata=_METADATA[fmt])

                written.append(atomic_write_with(out, write))
    finally:
        root.set_size_inches(size)
    return written
