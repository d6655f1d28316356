"""Self-contained reports of an Estimate: one HTML file (plots inlined) or Markdown.

Three one-way layers: :mod:`~casualty_models.report.facts` gathers what the estimate
says into plain data, :mod:`~casualty_models.report.document` lays it out once as
sections, and :mod:`~casualty_models.report.html` / :mod:`~casualty_models.report.markdown`
render that one document, so both formats carry the same tables.

Every piece of text that comes from the claims or the settings (sources, citations,
URLs, notes, origins, override keys) is escaped by the renderer; only ``http://`` and
``https://`` URLs become links. The HTML loads nothing from outside: no scripts, fonts
or stylesheets; the plots are inline PNGs, and the main figure is inline SVG made
explorable by a short script of the package's own (:mod:`.explorable`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from casualty_models import _format
from casualty_models._atomic import atomic_write
from casualty_models.model.priors import DEFAULT_LEVEL
from casualty_models.report import document, facts, html, markdown, trust_facts
from casualty_models.report.figures import PLOT_FILES, save_plots

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TypeAlias

    import pandas as pd

    from casualty_models.compare import Comparison
    from casualty_models.estimate import Estimate

    # series=: "side|category", a (side, category) tuple, a list of them, or None
    SeriesChoice: TypeAlias = str | tuple[str, str] | Sequence[str | tuple[str, str]] | None

# helpers under the names the tests (and callers of the single-module report) use
_e = html.escape
_link = html.link
_md = markdown.escape
_md_url = markdown.url
_about = _format.about
_sensitivity_sentences = trust_facts.sensitivity_sentences
_loso_sentences = trust_facts.loso_sentences


def build_document(
    estimate: Estimate,
    *,
    level: float = DEFAULT_LEVEL,
    title: str | None = None,
    series: SeriesChoice = None,
    sensitivity: pd.DataFrame | None = None,
    loso: pd.DataFrame | None = None,
    with_figures: bool = True,
    comparison: Comparison | None = None,
) -> document.Document:
    """The report's document model (what :func:`report_html` and
    :func:`report_markdown` render)."""
    gathered = facts.gather(
        estimate,
        level=level,
        title=title,
        series=series,
        sensitivity=sensitivity,
        loso=loso,
        with_figures=with_figures,
        comparison=comparison,
    )
    return document.build(gathered)


def report_html(
    estimate: Estimate,
    *,
    level: float = DEFAULT_LEVEL,
    title: str | None = None,
    series: SeriesChoice = None,
    sensitivity: pd.DataFrame | None = None,
    loso: pd.DataFrame | None = None,
    comparison: Comparison | None = None,
) -> str:
    """The report as one self-contained HTML document (text escaped, plots inlined).

    On top, a one-screen summary (``id="summary"``): the headline table of the series
    named by ``series`` ("side|category", a (side, category) tuple or a list of them;
    by default every side's killed), one sentence per series and the main figure.
    Below it the detail, in collapsible sections. A series past its estimable horizon
    (:meth:`Estimate.headline`) has no number in the summary; the appendix "All
    series" gives its estimate as of its last claim.

    With ``sensitivity`` (a :func:`casualty_models.trust.sensitivity` table) and/or
    ``loso`` (a :func:`casualty_models.trust.leave_one_source_out` table) it gains a
    section "How far to trust the answer": plain-language sentences, their plots and
    tables, and the calibration plot of the claims.

    With ``comparison`` (``estimate.compare(earlier)``) it opens with what changed since
    the earlier estimate: the sentences at the top of the summary, then a section "What
    changed since …" with the headlines before and after, the before/after plot, how far
    each changed claim moved each headline, the claims changed and the source biases.
    """
    doc = build_document(
        estimate,
        level=level,
        title=title,
        series=series,
        sensitivity=sensitivity,
        loso=loso,
        comparison=comparison,
    )
    return html.render(doc)


def report_markdown(
    estimate: Estimate,
    *,
    level: float = DEFAULT_LEVEL,
    title: str | None = None,
    series: SeriesChoice = None,
    sensitivity: pd.DataFrame | None = None,
    loso: pd.DataFrame | None = None,
    comparison: Comparison | None = None,
) -> str:
    """The report as Markdown text (no plots; text escaped so no HTML or links leak).

    ``series``, ``sensitivity``, ``loso`` and ``comparison`` as in :func:`report_html`.
    """
    doc = build_document(
        estimate,
        level=level,
        title=title,
        series=series,
        sensitivity=sensitivity,
        loso=loso,
        with_figures=False,
        comparison=comparison,
    )
    return markdown.render(doc)


def write_report(
    estimate: Estimate,
    path: str | os.PathLike[str],
    *,
    level: float = DEFAULT_LEVEL,
    title: str | None = None,
    series: SeriesChoice = None,
    sensitivity: pd.DataFrame | None = None,
    loso: pd.DataFrame | None = None,
    comparison: Comparison | None = None,
) -> Path:
    """Write :func:`report_html` to ``path`` atomically and return the file's path.

    When ``path`` is a directory (an existing one, or any path ending in a separator)
    the file is ``path/report.html``. ``series``, ``sensitivity``, ``loso`` and
    ``comparison`` as in :func:`report_html`.
    """
    target = Path(path)
    if target.is_dir() or os.fspath(path).endswith(("/", os.sep)):
        target = target / "report.html"
    page = report_html(
        estimate,
        level=level,
        title=title,
        series=series,
        sensitivity=sensitivity,
        loso=loso,
        comparison=comparison,
    )
    return atomic_write(target, page)


__all__ = [
    "PLOT_FILES",
    "build_document",
    "report_html",
    "report_markdown",
    "save_plots",
    "write_report",
]
