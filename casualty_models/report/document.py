"""One document model for every report format: an ordered list of sections.

A section has a title, blocks (paragraphs, tables, figures, subsections) and a
collapsible flag; :func:`build` lays the facts out once, and the HTML and Markdown
renderers only walk the result. Adding a section means adding it here, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from casualty_models.report.facts import LEARNED_LITTLE, Facts, Table
from casualty_models.report.figures import Figure

IDENTIFICATION = (
    "How far to trust these numbers: with one latent count per series and every source "
    "possibly biased, the claims alone cannot separate the true count from the sources' "
    "biases. The biases are identified only by the priors and by anchors (neutral "
    "sources, documented tallies, independent estimates). Read the sources table — "
    '"learned" near 0% means a source\'s factor is just its prior — and see '
    'docs/model.md, "What identifies the biases — and what cannot", before quoting a '
    "number."
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
    kind: ClassVar[str] = "section"
    title: str
    blocks: tuple[Block, ...]
    collapsible: bool = False
    id: str = ""


Block = Paragraph | Table | Figure | Section


@dataclass(frozen=True)
class Document:
    """The report: its first section is the lead, whose title is the document's."""

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

    def tables(self) -> list[Table]:
        return [b for b in self.walk() if isinstance(b, Table)]

    def figures(self) -> list[Figure]:
        return [b for b in self.walk() if isinstance(b, Figure)]


def _blocks(*items: Block | None) -> tuple[Block, ...]:
    return tuple(b for b in items if b is not None)


def _figure(facts: Facts, kind: str) -> Figure | None:
    return facts.figures.get(kind)


def build(facts: Facts) -> Document:
    """Lay the facts out as the report's sections."""
    top = _blocks(
        Paragraph(facts.overview, style="meta"),
        Paragraph(facts.failure[1], style="bad", lead=facts.failure[0]) if facts.failure else None,
    )
    sections = [
        Section(facts.title, top, id="summary"),
        Section("Headline", (facts.headline,)),
        Section(
            "What the model says",
            (
                *(Paragraph(p) for p in facts.series_paragraphs),
                Paragraph(IDENTIFICATION, style="note"),
            ),
        ),
        Section("Claims against the model", _blocks(_figure(facts, "claims"))),
        Section("Through time", _blocks(_figure(facts, "timeline"))),
        Section("Sources: bias factors", _sources_blocks(facts)),
        Section(
            "Claims check",
            (
                Paragraph(
                    "What the model expects each source to have said, given everything else, "
                    "and how surprising the actual claim is (p-value; highlighted below "
                    f"{1 - facts.level:.2g}). Each claim is part of the fit, so this "
                    "understates surprise."
                ),
                facts.check,
            ),
        ),
    ]
    if facts.trust is not None:
        sections.append(_trust_section(facts))
    sections += [
        Section("Claims", (facts.claims,)),
        Section(
            "Diagnostics",
            (
                Paragraph(
                    facts.diagnostics_message, style="good" if facts.diagnostics_ok else "bad"
                ),
                facts.diagnostics,
            ),
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
        ),
    ]
    return Document(facts.title, tuple(sections), facts.footer)


def _sources_blocks(facts: Facts) -> tuple[Block, ...]:
    blocks: list[Block | None] = [
        Paragraph(SOURCES_INTRO),
        _figure(facts, "sources"),
        facts.sources,
    ]
    if facts.running:
        blocks += [
            Paragraph(
                f"The factors are those on {facts.as_of}. A running tally's bias drifts: the "
                "plot shows the factor by which it differs, through time, from its bias at "
                "the tally's first figure."
            ),
            _figure(facts, "drift"),
        ]
    return _blocks(*blocks)


def _trust_section(facts: Facts) -> Section:
    trust = facts.trust
    assert trust is not None
    parts: list[Block] = [Paragraph(TRUST_INTRO)]
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
    return Section("How far to trust the answer", tuple(parts))
