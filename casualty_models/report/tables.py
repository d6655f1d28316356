"""Tables of the report: formatted cells, built from the estimate's own tables.

A :class:`Table` holds text (and claim numbers) already formatted through
:mod:`casualty_models._format`; the renderers only escape and lay it out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from casualty_models._format import date, factor, level_pct, people, share
from casualty_models.claims import COLUMNS, Claim
from casualty_models.model.priors_file import describe_priors

if TYPE_CHECKING:
    import pandas as pd

    from casualty_models.estimate import Estimate

LEARNED_LITTLE = 0.2
"""Below this ``learned`` value a source's bias factor is called "essentially its prior"."""
LONG_RUN = 10
"""One source's figures on one series beyond this many are folded in the claims check."""

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


def interval(lo: Any, hi: Any, fmt: Callable[[Any], str] = people) -> str:
    """ "1,200–3,400" (or "" when either end is missing)."""
    a, b = fmt(lo), fmt(hi)
    return f"{a}–{b}" if a and b else ""


def plain(v: Any) -> str:
    """A setting's value as text."""
    if v is None:
        return "None"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, dict | list | tuple):
        return json.dumps(v, ensure_ascii=False, default=str)
    return str(v)


# -------------------------------------------------------------------------- sources
def sources_table(src: pd.DataFrame, level: float) -> Table:
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
def _check_table(records: Sequence[Mapping[Any, Any]], level: float) -> Table:
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
            for r in records
        ],
        numeric=(0, 6, 7, 8),
        marks=["surprising" if r["surprising"] else "" for r in records],
    )


def check_tables(
    claims: Sequence[Claim], check: pd.DataFrame, level: float
) -> tuple[Table, list[tuple[str, Table]]]:
    """The claims check, surprising claims first (least likely first), and, folded out
    of it, each long run of one source's figures on one series: (title, its table).

    A folded run keeps its surprising claims in the main table; its table holds the rest.
    """
    records = check.to_dict(orient="records")
    runs: dict[tuple[str, str, str], list[int]] = {}
    for i, c in enumerate(claims):
        runs.setdefault((c.source, c.side, c.category), []).append(i)
    long = [members for members in runs.values() if len(members) > LONG_RUN]
    folded = {i for members in long for i in members if not records[i]["surprising"]}
    flagged = sorted(
        (i for i, r in enumerate(records) if r["surprising"]),
        key=lambda i: (records[i]["p_value"], i),
    )
    rest = [i for i, r in enumerate(records) if not r["surprising"] and i not in folded]
    main = _check_table([records[i] for i in (*flagged, *rest)], level)
    out = []
    for members in long:
        inside = [i for i in members if i in folded]
        if not inside:
            continue
        by_date = sorted(members, key=lambda i: (claims[i].as_of, i))
        a, b = claims[by_date[0]], claims[by_date[-1]]
        n_flagged = len(members) - len(inside)
        title = (
            f"{a.source} ({a.source_type}) on {a.side} {a.category}: {len(members)} figures, "
            f"{a.describe()} on {a.as_of} to {b.describe()} on {b.as_of}; "
            + (f"{n_flagged} surprising (listed above)" if n_flagged else "none surprising")
        )
        out.append((title, _check_table([records[i] for i in inside], level)))
    return main, out


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


def claims_table(claims: Iterable[Claim]) -> Table:
    """Every claim as given, one row each (``id="claims-table"``)."""
    numeric = [1 + COLUMNS.index(c) for c in ("value", "low", "high", "interval_prob")]
    return table(
        ["#", *COLUMNS],
        [[i + 1, *_claim_cells(c)] for i, c in enumerate(claims)],
        numeric=[0, *numeric],
        links=[1 + COLUMNS.index("url")],
        id="claims-table",
    )


# ---------------------------------------------------------------------- diagnostics
def diagnostics_table(estimate: Estimate, shown: Callable[[str], str]) -> Table:
    """The sampler and model checks; ``shown`` rewrites text that names claim files."""
    d = estimate.diagnostics.to_dict()
    first = ["r_hat_max", "ess_bulk_min", "ess_tail_min", "divergences"]
    rows: list[list[Cell]] = []
    for key in [*first, *(k for k in d if k not in first)]:
        v = d.get(key)
        if isinstance(v, float):
            v = f"{v:.3f}" if key.startswith("r_hat") else f"{v:,.0f}"
        elif isinstance(v, tuple | list):
            v = "; ".join(str(x) for x in v)
        if v is None:
            v = ""
        rows.append([key, shown(v) if isinstance(v, str) else v])
    runs = estimate.attempts
    if len(runs) > 1:
        rows.append(["runs by fit()", "; ".join(f"{a['reason']} ({a['sampler']})" for a in runs)])
    return table(["check", "value"], rows, numeric=(1,))


# ------------------------------------------------------------------------- settings
def settings_tables(
    estimate: Estimate, level: float, origin: str
) -> tuple[Table, Table | None, Table | None]:
    """The settings (``origin``: the claims' origin as shown); the bias priors per
    source type; the other priors."""
    from casualty_models.model.priors import SourcePrior

    settings = estimate.settings.to_dict()
    priors = dict(settings.pop("priors", {}))
    types: dict[str, dict[str, Any]] = priors.pop("source_types", {})
    main = table(
        ["setting", "value"],
        [["bias priors", describe_priors(estimate.settings.priors)]]
        + [[k, plain(v)] for k, v in settings.items()]
        + [
            ["claims origin", origin],
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
            rows.append([name, *(plain(fields.get(k)) for k in keys), implied])
        headers = ["source type", *keys, f"bias factor, median ({level_pct(level)}%)"]
        per_type = table(headers, rows, numeric=range(1, len(headers)))
    other = (
        table(["prior", "value"], [[k, plain(v)] for k, v in priors.items()]) if priors else None
    )
    return main, per_type, other
