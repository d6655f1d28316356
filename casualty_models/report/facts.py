"""Every fact a report shows, gathered once from an Estimate into plain data.

Sentences are plain text, tables are headers and rows of already formatted cells,
figures are PNG bytes with their alt text. Nothing here knows HTML or Markdown: the
renderers escape what they are given, so user text (sources, citations, notes, URLs)
stays as the user wrote it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from casualty_models._format import about, check_level, date, factor, level_pct, people, share
from casualty_models._version import __version__
from casualty_models.claims import COLUMNS, Claim
from casualty_models.model.priors_file import describe_priors
from casualty_models.report import figures
from casualty_models.report.figures import Figure

if TYPE_CHECKING:
    import pandas as pd

    from casualty_models.estimate import Estimate
    from casualty_models.report.trust_facts import TrustFacts

ANCHOR_TYPES: tuple[str, ...] = ("neutral", "tally", "independent", "known")
"""Source types that anchor the biases (see docs/model.md, "What identifies the biases")."""
LEARNED_LITTLE = 0.2
"""Below this ``learned`` value a source's bias factor is called "essentially its prior"."""
EXTRAPOLATION_DAYS = 7
"""A headline date more than this many days after a curve's last claim is called out."""

Cell = str | int | float


@dataclass(frozen=True)
class Table:
    """A table of formatted cells. ``numeric`` columns align right, ``links`` columns
    hold URLs (a renderer links the http(s) ones), ``marks`` name a row's highlight
    ("surprising", "little", "unreliable" or "")."""

    kind: ClassVar[str] = "table"
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: frozenset[int] = frozenset()
    links: frozenset[int] = frozenset()
    marks: tuple[str, ...] = ()
    id: str = ""

    def __post_init__(self) -> None:
        width = len(self.headers)
        bad = [k for k, row in enumerate(self.rows) if len(row) != width]
        if bad:
            raise ValueError(f"rows {bad} do not have {width} cells")
        if self.marks and len(self.marks) != len(self.rows):
            raise ValueError("one mark per row, or none")

    def mark(self, k: int) -> str:
        return self.marks[k] if self.marks else ""


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    numeric: Iterable[int] = (),
    links: Iterable[int] = (),
    marks: Iterable[str] = (),
    id: str = "",
) -> Table:
    return Table(
        tuple(headers),
        tuple(tuple(r) for r in rows),
        frozenset(numeric),
        frozenset(links),
        tuple(marks),
        id,
    )


@dataclass(frozen=True)
class Facts:
    """What one report says, before it is laid out."""

    title: str
    level: float
    as_of: str
    overview: str
    failure: tuple[str, str] | None  # (what failed, the diagnostics' message)
    headline: Table
    series_paragraphs: tuple[str, ...]
    sources: Table
    check: Table
    claims: Table
    diagnostics_ok: bool
    diagnostics_message: str
    diagnostics: Table
    settings: Table
    type_priors: Table | None
    other_priors: Table | None
    running: bool
    footer: str
    figures: Mapping[str, Figure] = field(default_factory=dict)
    trust: TrustFacts | None = None

    @property
    def pct(self) -> str:
        return level_pct(self.level)


# ------------------------------------------------------------------------ formatting
def interval(lo: Any, hi: Any, fmt: Any = people) -> str:
    """ "1,200–3,400" (or "" when either end is missing)."""
    a, b = fmt(lo), fmt(hi)
    return f"{a}–{b}" if a and b else ""


def _plain(v: Any) -> str:
    """A setting's value as text."""
    if v is None:
        return "None"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, dict | list | tuple):
        return json.dumps(v, ensure_ascii=False, default=str)
    return str(v)


# --------------------------------------------------------------------------- gather
def gather(
    estimate: Estimate,
    *,
    level: float,
    title: str | None = None,
    sensitivity: pd.DataFrame | None = None,
    loso: pd.DataFrame | None = None,
    with_figures: bool = True,
) -> Facts:
    """Every fact of the report of ``estimate``; ``with_figures`` False skips the plots
    (the Markdown report has none)."""
    check_level(level)
    s = estimate.settings
    head = estimate.headline(level=level)
    src = estimate.sources(level=level)
    check = estimate.claims_check(level=level)
    diag = estimate.diagnostics
    pct = level_pct(level)
    overview = (
        f"{len(estimate.claims)} claims from {estimate.claims.origin}; {len(head)} series; "
        f"{len(src)} speakers; fitted from {s.start} to {s.end}; headline date {s.as_of}. "
        f"Intervals are equal-tailed {pct}% credible intervals. Bias priors: "
        f"{describe_priors(s.priors)}. Claims fingerprint {estimate.claims.fingerprint}."
    )
    figs: dict[str, Figure] = {}
    if with_figures:
        kinds = ["claims", "timeline", "sources", *(["drift"] if estimate.inputs.running else [])]
        figs = {k: figures.render(k, estimate, level) for k in kinds}
    trust = None
    if sensitivity is not None or loso is not None:
        from casualty_models.report.trust_facts import gather_trust

        trust = gather_trust(estimate, level, sensitivity, loso, with_figures=with_figures)
    settings, type_priors, other_priors = _settings(estimate, level)
    return Facts(
        title=title or f"Casualty estimates as of {s.as_of}",
        level=level,
        as_of=str(s.as_of),
        overview=overview,
        failure=None if diag.ok else (_failure_title(diag), diag.message()),
        headline=_headline(head, level),
        series_paragraphs=tuple(
            _series_paragraph(estimate, row, src, check, level)
            for row in head.to_dict(orient="records")
        ),
        sources=_sources(src, level),
        check=_check(check, level),
        claims=_claims(estimate.claims),
        diagnostics_ok=diag.ok,
        diagnostics_message=diag.message(),
        diagnostics=_diagnostics(estimate),
        settings=settings,
        type_priors=type_priors,
        other_priors=other_priors,
        running=bool(estimate.inputs.running),
        footer=(
            f"casualty_models {__version__} (fitted with {estimate.version}) · "
            f"claims fingerprint {estimate.claims.fingerprint}"
        ),
        figures=figs,
        trust=trust,
    )


def _failure_title(diag: Any) -> str:
    if not diag.converged:
        return "The sampler did not converge well enough to trust these intervals:"
    return "The model cannot explain the claims as given (model check failed):"


# ------------------------------------------------------------------------- headline
def _headline(head: pd.DataFrame, level: float) -> Table:
    pct = level_pct(level)
    return table(
        ["side", "category", "date", "median", "mean", "sd", "50% interval", f"{pct}% interval"],
        [
            [
                r["side"],
                r["category"],
                date(r["date"]),
                people(r["median"]),
                people(r["mean"]),
                people(r["sd"]),
                interval(r["low_50"], r["high_50"]),
                interval(r[f"low_{pct}"], r[f"high_{pct}"]),
            ]
            for r in head.to_dict(orient="records")
        ],
        numeric=range(3, 8),
    )


def _series_paragraph(
    estimate: Estimate,
    row: Mapping[Any, Any],
    sources: pd.DataFrame,
    check: pd.DataFrame,
    level: float,
) -> str:
    """Plain-language summary of one series."""
    pct = level_pct(level)
    side, category = row["side"], row["category"]
    start = estimate.settings.start
    text = [
        f"By {estimate.settings.as_of}, the model puts {side} {category} at about "
        f"{about(row['median'])} ({pct}% credible interval {about(row[f'low_{pct}'])}–"
        f"{about(row[f'high_{pct}'])})."
    ]
    gap = (estimate.settings.as_of - row["last_claim"].date()).days
    if gap > EXTRAPOLATION_DAYS:
        text.append(
            f"The latest claim on this curve is from {row['last_claim'].date()}, {gap} days "
            "earlier: after it the count is extrapolated by the prior's random walk alone, "
            "and the interval widens with every day."
        )
    mine = [(i, c) for i, c in enumerate(estimate.claims) if c.series == (side, category)]
    cumulative = [(i, c) for i, c in mine if c.period_start in (None, start)]
    if cumulative:

        def size(item: tuple[int, Claim]) -> float:
            c = item[1]
            figures = [x for x in (c.value, c.low, c.high) if x is not None]
            return math.exp(sum(math.log(x) for x in figures) / len(figures))

        lo_i, lo_c = min(cumulative, key=size)
        hi_i, hi_c = max(cumulative, key=size)
        n = len(mine)
        claims_word = f"{n} claim{'s' if n != 1 else ''}"
        if lo_i == hi_i:
            text.append(
                f"It rests on {claims_word}: {lo_c.describe()} from {lo_c.source} "
                f"({lo_c.source_type})."
            )
        else:
            text.append(
                f"It rests on {claims_word}, whose figures run from {lo_c.describe()} "
                f"({lo_c.source}, {lo_c.source_type}, {lo_c.as_of}) to {hi_c.describe()} "
                f"({hi_c.source}, {hi_c.source_type}, {hi_c.as_of})."
            )
    speakers = list(dict.fromkeys(c.speaker for _, c in mine))
    rows = {(r["source"], r["side"]): r for r in sources.to_dict(orient="records")}
    info = [rows[s] for s in speakers if s in rows]
    anchors = [r for r in info if r["source_type"] in ANCHOR_TYPES]
    if anchors:
        names = ", ".join(f"{r['source']} ({r['source_type']})" for r in anchors)
        text.append(f"Anchors for the biases here: {names}.")
    else:
        text.append(
            "No neutral source, tally, independent estimate or known count reports on "
            "this series, "
            "so only the bias priors separate the true count from the sources' "
            "biases: the number is as much the priors' as the claims'."
        )
    little = [r for r in info if r["learned"] < LEARNED_LITTLE]
    if little:
        names = ", ".join(
            f"{r['source']} ({r['source_type']}; learned {share(r['learned'])})" for r in little
        )
        tail = (
            "that factor is essentially its prior"
            if len(little) == 1
            else "those factors are essentially their priors"
        )
        text.append(f"The claims taught the model little about the bias of {names}: {tail}.")
    elif info:
        learned = [r["learned"] for r in info if math.isfinite(r["learned"])] or [math.nan]
        lo, hi = min(learned), max(learned)
        text.append(
            f"The claims moved every source's bias factor away from its prior "
            f"(learned {share(lo)}–{share(hi)}), but only as far as the anchors and priors "
            "allow."
        )
    flagged = [(i, c) for i, c in mine if bool(check["surprising"].iloc[i])]
    if flagged:
        items = "; ".join(f"{c.source}'s {c.describe()} ({c.as_of})" for _, c in flagged)
        n = len(flagged)
        text.append(f"{n} claim{'s are' if n != 1 else ' is'} surprising given the rest: {items}.")
    return " ".join(text)


# -------------------------------------------------------------------------- sources
def _sources(src: pd.DataFrame, level: float) -> Table:
    pct = level_pct(level)
    return table(
        [
            "source",
            "about",
            "type",
            "claims",
            "factor",
            "50% interval",
            f"{pct}% interval",
            "prior median",
            f"prior {pct}%",
            "learned",
        ],
        [
            [
                r["source"],
                r["side"],
                r["source_type"],
                r["n_claims"],
                factor(r["bias_factor"]),
                interval(r["low_50"], r["high_50"], factor),
                interval(r[f"low_{pct}"], r[f"high_{pct}"], factor),
                factor(r["prior_median"]),
                interval(r[f"prior_low_{pct}"], r[f"prior_high_{pct}"], factor),
                share(r["learned"]),
            ]
            for r in src.to_dict(orient="records")
        ],
        numeric=range(3, 10),
        marks=["little" if x < LEARNED_LITTLE else "" for x in src["learned"]],
    )


# --------------------------------------------------------------------- claims check
def _check(check: pd.DataFrame, level: float) -> Table:
    pct = level_pct(level)
    return table(
        [
            "#",
            "source",
            "type",
            "series",
            "as of",
            "claimed",
            "expected median",
            f"expected {pct}%",
            "p-value",
            "surprising",
        ],
        [
            [
                r["claim"] + 1,
                r["source"],
                r["source_type"],
                f"{r['side']} {r['category']}",
                date(r["as_of"]),
                r["claimed"],
                people(r["predicted_median"]),
                interval(r[f"predicted_low_{pct}"], r[f"predicted_high_{pct}"]),
                f"{r['p_value']:.3f}",
                "yes" if r["surprising"] else "",
            ]
            for r in check.to_dict(orient="records")
        ],
        numeric=(0, 6, 7, 8),
        marks=["surprising" if x else "" for x in check["surprising"]],
    )


# --------------------------------------------------------------------------- claims
def _claim_cells(c: Claim) -> list[Cell]:
    rec = c.to_record()
    cells: list[Cell] = []
    for col in COLUMNS:
        v = rec[col]
        if col in ("value", "low", "high"):
            cells.append(people(v))
        elif v is None:
            cells.append("")
        else:
            cells.append(v)
    return cells


def _claims(claims: Iterable[Claim]) -> Table:
    numeric = [1 + COLUMNS.index(c) for c in ("value", "low", "high", "interval_prob")]
    return table(
        ["#", *COLUMNS],
        [[i + 1, *_claim_cells(c)] for i, c in enumerate(claims)],
        numeric=[0, *numeric],
        links=[1 + COLUMNS.index("url")],
        id="claims-table",
    )


# ---------------------------------------------------------------------- diagnostics
def _diagnostics(estimate: Estimate) -> Table:
    d = estimate.diagnostics.to_dict()
    first = ["r_hat_max", "ess_bulk_min", "ess_tail_min", "divergences"]
    rows: list[list[Cell]] = []
    for key in [*first, *(k for k in d if k not in first)]:
        v = d.get(key)
        if isinstance(v, float):
            v = f"{v:.3f}" if key.startswith("r_hat") else f"{v:,.0f}"
        elif isinstance(v, tuple | list):
            v = "; ".join(str(x) for x in v)
        rows.append([key, "" if v is None else v if isinstance(v, str | int | float) else str(v)])
    runs = estimate.attempts
    if len(runs) > 1:
        rows.append(["runs by fit()", "; ".join(f"{a['reason']} ({a['sampler']})" for a in runs)])
    return table(["check", "value"], rows, numeric=(1,))


# ------------------------------------------------------------------------- settings
def _settings(estimate: Estimate, level: float) -> tuple[Table, Table | None, Table | None]:
    """The settings; the bias priors per source type; the other priors."""
    from casualty_models.model.priors import SourcePrior

    settings = estimate.settings.to_dict()
    priors = dict(settings.pop("priors", {}))
    types: dict[str, dict[str, Any]] = priors.pop("source_types", {})
    main = table(
        ["setting", "value"],
        [["bias priors", describe_priors(estimate.settings.priors)]]
        + [[k, _plain(v)] for k, v in settings.items()]
        + [
            ["claims origin", estimate.claims.origin],
            ["claims fingerprint", estimate.claims.fingerprint],
            ["package version", estimate.version],
        ],
    )
    per_type = None
    if types:
        keys = list(dict.fromkeys(k for v in types.values() for k in v))
        rows = []
        for name, fields in types.items():
            try:
                lo, med, hi = SourcePrior(**fields).factor_interval(level)
                implied = f"{factor(med)} ({factor(lo)}–{factor(hi)})"
            except (TypeError, ValueError):
                implied = ""
            rows.append([name, *(_plain(fields.get(k)) for k in keys), implied])
        headers = ["source type", *keys, f"bias factor, median ({level_pct(level)}%)"]
        per_type = table(headers, rows, numeric=range(1, len(headers)))
    other = (
        table(["prior", "value"], [[k, _plain(v)] for k, v in priors.items()]) if priors else None
    )
    return main, per_type, other
