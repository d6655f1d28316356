"""The report's main figure, explorable: the small multiples as inline SVG, each claim's
mark a focusable element whose tooltip tells who said it and where.

Hovering or focusing (Tab) a claim's mark shows its source, the kind of source, the
figure as published, its dates, how surprising it is given the model (the claims
check's p-value; surprising means outside its 99% predictive interval, as in the model
check) and its citation with a link; a click pins the tooltip so the link can be
followed, Escape closes it. A checkbox per series shows or hides its panel.

Why inline SVG and a script of our own rather than a plotting library: the figure is the
one :func:`casualty_models.plots.plot_panels` draws (the PNG's twin, same numbers and
look), written by matplotlib's SVG backend with an id per claim mark and per panel; the
script that makes it explorable is about sixty lines (``templates/explorable.js.j2``),
where a kept charting library inlined in every report would add hundreds of kilobytes
and a second drawing of the same figure. The file stays self-contained and works
offline. Printing shows the PNG (``@media print``).

Everything from the claims is escaped: the tooltips by the template environment, the
SVG's text by the XML writer that serialises it; the SVG holds no script.
"""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from markupsafe import Markup

from casualty_models._format import date
from casualty_models.claims import format_date
from casualty_models.diagnostics import MODEL_CHECK_LEVEL, SURPRISE_P
from casualty_models.report.figures import Figure

if TYPE_CHECKING:
    from casualty_models.estimate import Estimate
    from casualty_models.report.series import SeriesKey

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
SOURCE_KINDS: dict[str, str] = {
    "own": "a side about its own losses",
    "enemy": "a side about the enemy's losses",
    "neutral": "a neutral government or intelligence service",
    "tally": "a named-person tally (a lower bound)",
    "independent": "an independent statistical estimate",
    "known": "a count taken as known",
}
"""The kind of source, in words, for the tooltips."""
_CLAIM_ID = re.compile(r"^cm-claim-(\d+)$")
_SERIES_ID = re.compile(r"^cm-series-(\d+)$")
_REF = re.compile(r"url\(#([\w.:-]+)\)")


@dataclass(frozen=True)
class ClaimTip:
    """What the tooltip of one claim's mark says (plain text; the renderer escapes it)."""

    claim: int
    source: str
    source_type: str
    kind_of_source: str
    series: str
    figure: str
    dates: tuple[tuple[str, str], ...]
    surprise: str
    surprising: bool
    citation: str
    url: str


@dataclass(frozen=True)
class Explorable:
    """The main figure as inline SVG with its tooltips, series toggles and, for print,
    the PNG. ``svg`` is markup this module made (trusted); ``series`` pairs each panel's
    element id with its label."""

    kind: ClassVar[str] = "explorable"
    svg: Markup
    series: tuple[tuple[str, str], ...]
    tips: tuple[ClaimTip, ...]
    print_figure: Figure
    alt: str


def _surprise(p: float, role: str) -> tuple[str, bool]:
    """The claims check's verdict on one claim, in words."""
    pct = f"{MODEL_CHECK_LEVEL:.0%}"
    if not math.isfinite(p):
        return "no p-value", False
    shown = f"p = {p:.3f}" if p >= 0.001 else "p < 0.001"
    if p < SURPRISE_P:
        text = f"{shown}: surprising, outside its {pct} predictive interval"
    else:
        text = f"{shown}: inside its {pct} predictive interval"
    if role not in ("claim", "tally rise"):
        text += f" ({role}: not used by the fit)"
    elif role == "tally rise":
        text += " (read through its rise since the tally's previous figure)"
    return text, p < SURPRISE_P


def claim_tips(estimate: Estimate, claims: list[int], level: float) -> tuple[ClaimTip, ...]:
    """The tooltips of the claims ``claims`` (indices into the estimate's claim set)."""
    check = estimate.claims_check(level=level)
    p_values = dict(zip(check["claim"], check["p_value"].astype(float), strict=True))
    roles = dict(zip(check["claim"], check["role"].astype(str), strict=True))
    out = []
    for i in claims:
        c = estimate.claims[i]
        dates = [("as of", format_date(c.as_of, c.as_of_precision))]
        if c.reported is not None and c.reported != c.as_of:
            dates.append(("published", format_date(c.reported, c.reported_precision)))
        if c.period_start is not None:
            dates.append(("counting since", date(c.period_start)))
        text, surprising = _surprise(p_values[i], roles[i])
        out.append(
            ClaimTip(
                claim=i,
                source=c.source,
                source_type=c.source_type,
                kind_of_source=SOURCE_KINDS.get(c.source_type, c.source_type),
                series=f"{c.side} {c.category}",
                figure=c.describe(),
                dates=tuple(dates),
                surprise=text,
                surprising=surprising,
                citation=c.citation or "",
                url=c.url or "",
            )
        )
    return tuple(out)


def _label(estimate: Estimate, i: int) -> str:
    c = estimate.claims[i]
    return f"{c.source}: {c.describe()}, {c.side} {c.category} as of {c.as_of}"


def _mark_claims(estimate: Estimate, axes: Any, keys: list[SeriesKey]) -> list[int]:
    """Give each panel and each claim mark an id the SVG keeps; returns the claims
    marked. A panel's marks are drawn in the order of its claims (plot_panels), one
    mark per claim (gid ``claim``); a panel whose count differs keeps no hover."""
    figures = estimate.claim_figures()
    marked: list[int] = []
    for k, (ax, (side, category)) in enumerate(zip(axes, keys, strict=True)):
        ax.set_gid(f"cm-series-{k}")
        mine = figures[
            (figures["side"] == side) & (figures["category"] == category) & figures["cumulative"]
        ]
        lines = [ln for ln in ax.get_lines() if ln.get_gid() == "claim"]
        if len(lines) != len(mine):
            continue
        for line, i in zip(lines, mine["claim"], strict=True):
            line.set_gid(f"cm-claim-{int(i)}")
            marked.append(int(i))
    return marked


def _svg(fig: Any) -> str:
    """The figure as SVG text: text kept as text (smaller, selectable), no date."""
    import matplotlib as mpl

    buf = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "casualty_models"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def interactive_svg(svg: str, labels: dict[int, str], alt: str) -> Markup:
    """Matplotlib's SVG made explorable: claim marks focusable, with ``data-claim`` and
    an ``aria-label`` (``labels``); panels tagged ``data-series``; its size left to the
    page's CSS; its metadata dropped and its one global style scoped to itself."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(svg)
    for key in ("width", "height"):
        root.attrib.pop(key, None)
    root.set("id", "cm-main-svg")
    root.set("role", "group")
    root.set("aria-label", alt)
    for meta in root.findall(f"{{{SVG_NS}}}metadata"):
        root.remove(meta)
    for style in root.iter(f"{{{SVG_NS}}}style"):
        style.text = (style.text or "").replace("*{", "#cm-main-svg *{")
    _unique_ids(root)
    for el in root.iter():
        ident = el.get("id", "")
        claim = _CLAIM_ID.match(ident)
        if claim and int(claim.group(1)) in labels:
            i = int(claim.group(1))
            el.set("data-claim", str(i))
            el.set("class", "cm-claim")
            el.set("tabindex", "0")
            el.set("role", "button")
            el.set("aria-label", labels[i])
        elif _SERIES_ID.match(ident):
            el.set("data-series", ident)
    return Markup(ET.tostring(root, encoding="unicode"))


def _unique_ids(root: ET.Element) -> None:
    """Ids unique in the page: matplotlib repeats a gid on every panel (``median``,
    ``band-50``), so a repeated id becomes ``data-gid``; the others get the prefix
    ``cm-svg-`` (ours, ``cm-...``, stay as they are), and references to them follow."""
    counts: dict[str, int] = {}
    for el in root.iter():
        if el.get("id"):
            counts[el.get("id", "")] = counts.get(el.get("id", ""), 0) + 1
    renamed = {i: i if i.startswith("cm-") else f"cm-svg-{i}" for i, n in counts.items() if n == 1}
    for el in root.iter():
        ident = el.get("id")
        if ident is not None and ident not in renamed:
            del el.attrib["id"]
            el.set("data-gid", ident)
        elif ident is not None:
            el.set("id", renamed[ident])
        for key, value in el.attrib.items():  # url(#id) in clip-path, #id in xlink:href
            if key.endswith("href") and value.startswith("#"):
                el.set(key, "#" + renamed.get(value[1:], value[1:]))
            elif "url(#" in value:
                el.set(key, _REF.sub(lambda m: "url(#" + renamed.get(m[1], m[1]) + ")", value))


def main_figure(
    estimate: Estimate, level: float, keys: list[SeriesKey], print_figure: Figure
) -> Explorable:
    """The explorable main figure of ``keys`` (the panels the PNG ``print_figure`` shows)."""
    import matplotlib.pyplot as plt

    from casualty_models.plots import plot_panels

    axes = plot_panels(estimate, series=keys, level=level)
    fig = axes[0].figure
    try:
        marked = _mark_claims(estimate, axes, keys)
        text = _svg(fig)
    finally:
        plt.close(fig)
    alt = print_figure.alt + " (hover or focus a claim's mark for its source and citation)"
    return Explorable(
        svg=interactive_svg(text, {i: _label(estimate, i) for i in marked}, alt),
        series=tuple((f"cm-series-{k}", f"{s} {c}") for k, (s, c) in enumerate(keys)),
        tips=claim_tips(estimate, marked, level),
        print_figure=print_figure,
        alt=alt,
    )


__all__ = ["SOURCE_KINDS", "ClaimTip", "Explorable", "claim_tips", "interactive_svg", "main_figure"]
