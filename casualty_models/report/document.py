"""One document model for every report format: an ordered list of sections.

A section has a title, blocks (paragraphs, tables, figures, subsections) and a
collapsible flag; :func:`build` lays the facts out once, and the HTML and Markdown
renderers only walk the result. Adding a section means adding it here, once.

The layout has two layers: a one-screen summary (``id="summary"``: the headline
table, one sentence per series, the main figure), then the detail in collapsible
sections: sources, claims check, trust, every series, the claims, diagnostics,
settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from casualty_models.diagnostics import MODEL_CHECK_LEVEL
from casualty_models.report.change_facts import METHOD_TEXT
from casualty_models.report.explorable import Explorable
from casualty_models.report.facts import Facts
from casualty_models.report.figures import Figure
from casualty_models.report.tables import LEARNED_LITTLE, Table

IDENTIFICATION = (
    "How far to trust these numbers: with one latent count per series and every source "
    "possibly biased, the claims alone cannot separate the true count from the sources' "
    "biases. The biases are identified only by the priors and by anchors (neutral "
    "sources, documented tallies, independent estimates). Read the sources table — "
    '"learned" near 0% means a source\'s factor is just its prior — and see '
    'docs/model.md, "What identifies the biases — and what cannot", before quoting a '
    "number."
)
IDENTIFICATION_SHORT = (
    "The claims alone cannot tell a true count from the sources' biases: where no anchor "
    "reports, the numbers lean on the bias priors (see Sources and their biases)."
)
SOURCES_INTRO = (
    "Bias factor = what the source says ÷ the true count (×1 is honest). learned = 1 − "
    "posterior sd ÷ prior sd of the log factor: near 0% the claims taught the model "
    "nothing about the source and its factor is the prior's (rows under "
    f"{LEARNED_LITTLE:.0%} are marked)."
)
TRUST_INTRO = (
    "The bias priors are settings, not facts. Here each source type's prior is moved in "
    "turn — its assumed factor halved and doubled, its spread halved and doubled — and "
    "each source is left out in turn, to show how far the answer moves with them."
)
PPC_TEXT = (
    "Calibration: for each point claim, the share of the model's predictions of what "
    "that source would say that fall below the claim (its PIT value). For a calibrated "
    "model these are uniform, and their cumulative distribution stays in the shaded "
    "band. Each claim is part of the fit, so the values bunch toward the middle; a claim "
    "near 0 or 1 is surprising given the rest."
)


@dataclass(frozen=True)
class Paragraph:
    """Plain text; ``style`` is "", "meta", "note", "good" or "bad"; ``lead`` is a
    bold opening."""

    kind: ClassVar[str] = "paragraph"
    text: str
    style: str = ""
    lead: str = ""


@dataclass(frozen=True)
class Section:
    """A titled run of blocks; a collapsible one is shown closed, behind its title."""

    kind: ClassVar[str] = "section"
    title: str
    blocks: tuple[Block, ...]
    collapsible: bool = False
    id: str = ""


Block = Paragraph | Table | Figure | Explorable | Section


@dataclass(frozen=True)
class Document:
    """The report: its first section is the summary, whose title is the document's."""

    title: str
    sections: tuple[Section, ...]
    footer: str

    def walk(self) -> Iterator[Block]:
        """Every block, depth first, in reading order."""

        def visit(blocks: tuple[Block, ...]) -> Iterator[Block]:
            for b in blocks:
                yield b
                if isinstance(b, Section):
                    yield from visit(b.blocks)

        yield from visit(self.sections)

    @property
    def summary(self) -> Section:
        return self.sections[0]

    def section(self, id: str) -> Section:
        """The section (at any depth) with this id."""
        for b in self.walk():
            if isinstance(b, Section) and b.id == id:
                return b
        raise KeyError(id)

    def tables(self) -> list[Table]:
        return [b for b in self.walk() if isinstance(b, Table)]

    def figures(self) -> list[Figure]:
        """Every figure, the explorable main figure's printed PNG included."""
        return [
            b.print_figure if isinstance(b, Explorable) else b
            for b in self.walk()
            if isinstance(b, Figure | Explorable)
        ]


def _blocks(*items: Block | None) -> tuple[Block, ...]:
    return tuple(b for b in items if b is not None)


def build(facts: Facts) -> Document:
    """Lay the facts out as the report's sections."""
    sections = [
        _summary(facts),
        *([_changes(facts)] if facts.changes is not None else []),
        Section("Sources and their biases", _sources(facts), collapsible=True, id="sources"),
        Section("Claims check", _check(facts), collapsible=True, id="claims-check"),
        *([_trust(facts)] if facts.trust is not None else []),
        Section(
            "All series",
            (
                Paragraph(
                    "Every series, the headline's and the rest. A series is estimable up "
                    f"to {facts.horizon_days} days after its last claim; past that a figure "
                    f"for {facts.as_of} would rest on the prior alone, so the row gives the "
                    "estimate as of its last claim instead (see status)."
                ),
                facts.all_series,
            ),
            collapsible=True,
            id="all-series",
        ),
        Section("Claims", (facts.claims,), collapsible=True, id="claims"),
        Section(
            "Diagnostics",
            (
                Paragraph(
                    facts.diagnostics_message, style="good" if facts.diagnostics_ok else "bad"
                ),
                facts.diagnostics,
            ),
            collapsible=True,
            id="diagnostics",
        ),
        Section(
            "Settings",
            _blocks(
                facts.settings,
                Section("Bias priors per source type", (facts.type_priors,))
                if facts.type_priors
                else None,
                Section("Other priors", (facts.other_priors,)) if facts.other_priors else None,
            ),
            collapsible=True,
            id="settings",
        ),
    ]
    return Document(facts.title, tuple(sections), facts.footer)


def _summary(facts: Facts) -> Section:
    """The one screen on top: headline table and sentences beside the main figure."""
    text = _blocks(
        facts.headline,
        *(Paragraph(s) for s in facts.series_sentences),
        *(Paragraph(w, style="note") for w in facts.withheld),
        Paragraph(facts.priors_note, style="note") if facts.priors_note else None,
        Paragraph(f"{facts.surprise} {IDENTIFICATION_SHORT}", style="meta"),
    )
    changes = facts.changes
    return Section(
        facts.title,
        _blocks(
            Paragraph(facts.overview, style="meta"),
            Paragraph(
                " ".join(changes.lead_sentences) + " (Every series under What changed.)",
                style="note",
                lead=changes.lead,
            )
            if changes is not None and changes.lead_sentences
            else None,
            Paragraph(facts.failure[1], style="bad", lead=facts.failure[0])
            if facts.failure
            else None,
            Section("", text, id="summary-text"),
            facts.main or facts.figures.get("main"),
        ),
        id="summary",
    )


def _changes(facts: Facts) -> Section:
    """What changed since the earlier estimate: sentences, before/after, attribution."""
    ch = facts.changes
    assert ch is not None
    return Section(
        ch.title,
        _blocks(
            Paragraph(ch.intro, style="meta"),
            *(Paragraph(s) for s in ch.sentences),
            ch.headline,
            ch.figure,
            Section("What moved the estimate", _blocks(Paragraph(METHOD_TEXT), ch.attribution))
            if ch.attribution is not None
            else None,
            Section("Claims added, removed and edited", (ch.claims,), collapsible=True)
            if ch.claims is not None
            else None,
            Section("Source biases before and after", (ch.sources,), collapsible=True),
        ),
        id="changes",
    )


def _sources(facts: Facts) -> tuple[Block, ...]:
    blocks: list[Block | None] = [
        Paragraph(IDENTIFICATION, style="note"),
        Paragraph(SOURCES_INTRO),
        facts.figures.get("sources"),
        facts.sources,
    ]
    if facts.running:
        blocks += [
            Paragraph(
                f"The factors are those on {facts.as_of}. A running tally's bias drifts: the "
                "plot shows the factor by which it differs, through time, from its bias at "
                "the tally's first figure."
            ),
            facts.figures.get("drift"),
        ]
    return _blocks(*blocks)


def _check(facts: Facts) -> tuple[Block, ...]:
    blocks: list[Block | None] = [
        Paragraph(
            "What the model expects each source to have said, given everything else, and "
            "how surprising the actual claim is (p-value). A claim outside its "
            f"{MODEL_CHECK_LEVEL:.0%} predictive interval (p < {1 - MODEL_CHECK_LEVEL:.2g}) "
            "is surprising, as in the model check; those come first. Each claim is part of "
            "the fit, so this understates surprise."
        ),
        facts.figures.get("claims"),
        facts.check,
    ]
    if facts.check_runs:
        blocks.append(
            Paragraph(
                "Long runs of one source's figures on one series are folded below the table, "
                "their surprising claims kept in it."
            )
        )
        blocks += [Section(title, (t,), collapsible=True) for title, t in facts.check_runs]
    return _blocks(*blocks)


def _trust(facts: Facts) -> Section:
    trust = facts.trust
    assert trust is not None
    parts: list[Block] = [Paragraph(TRUST_INTRO)]
    if facts.trust_note:
        parts.append(Paragraph(facts.trust_note, style="note"))
    for title, part in (
        ("Sensitivity to the bias priors", trust.sensitivity),
        ("Leaving out one source", trust.loso),
    ):
        if part is not None:
            parts.append(
                Section(
                    title,
                    _blocks(*(Paragraph(p) for p in part.paragraphs), part.figure, part.table),
                )
            )
    cal = trust.calibration
    parts.append(
        Section(
            "Calibration of the claims",
            _blocks(Paragraph(f"{PPC_TEXT} {' '.join(cal.paragraphs)}"), cal.figure),
        )
    )
    return Section("How far to trust the answer", tuple(parts), collapsible=True, id="trust")
