"""Rich display in Jupyter: what ``est``, ``claims`` and ``est.compare(old)`` show as the
last line of a notebook cell (their ``_repr_html_``).

* an :class:`~casualty_models.Estimate`: the headline table, one sentence per series (the
  report's), a diagnostics badge (ok / sampler / model check, with the first remedy) and
  the small-multiples figure, inline;
* a :class:`~casualty_models.ClaimSet`: counts by side, category and source type, the
  dates the claims cover, and the validation notes;
* a :class:`~casualty_models.Comparison`: the headline before and after, each move's
  sentence (its parts adding up) and the claims that moved it most.

The facts come from the report's own modules and the HTML from its template environment
(:mod:`casualty_models.report.html`), which escapes every value: claim text is
untrusted. The ``_repr_html_`` methods live on the classes and call these through
:mod:`casualty_models._hooks` (registered when the package is imported).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casualty_models import _hooks
from casualty_models._format import date, level_pct, people
from casualty_models.claims import display_origin
from casualty_models.diagnostics import MODEL_CHECK_LEVEL
from casualty_models.model.priors import DEFAULT_LEVEL

if TYPE_CHECKING:
    from casualty_models.claims import ClaimSet
    from casualty_models.compare import Comparison
    from casualty_models.estimate import Estimate
    from casualty_models.report.figures import Figure
    from casualty_models.report.tables import Table

MAX_DRIVERS = 3
"""Claims listed per series under "what moved it" in a Comparison's display."""
MAX_SOURCES = 8
"""Sources listed by name in a ClaimSet's display (the most prolific first)."""


@dataclass(frozen=True)
class Badge:
    """The diagnostics in one word (``state``: "ok", "sampler" or "model check"), the
    line that explains it, and the first remedy ("" when ok)."""

    state: str
    text: str
    remedy: str = ""


def badge(estimate: Estimate) -> Badge:
    """The diagnostics badge of an estimate: ok, the sampler's checks failed, or the
    model check failed (the claims are not explained)."""
    d = estimate.diagnostics
    remedy = (d.remedies() or [""])[0]
    if not d.converged:
        return Badge(
            "sampler", "the sampler did not converge: " + "; ".join(d.sampler_problems()), remedy
        )
    if not d.model_ok:
        return Badge(
            "model check",
            f"the model check failed: {d.claims_implausible} of {d.claims_checked} claims lie "
            f"outside their {MODEL_CHECK_LEVEL:.0%} predictive interval",
            remedy,
        )
    return Badge(
        "ok",
        f"converged (R-hat {d.r_hat_max:.3f}, bulk ESS {d.ess_bulk_min:,.0f}, "
        f"{d.divergences} divergences); {d.claims_implausible} of {d.claims_checked} claims "
        "surprising",
    )


def _render(template: str, **values: Any) -> str:
    from casualty_models.report.html import environment

    values = {
        "badge": None,
        "headline": None,
        "drivers": None,
        "notes": [],
        "figure": None,
        **values,
    }
    return environment().get_template(template).render(**values).strip()


@_hooks.provides("Estimate._repr_html_")
def estimate_html(
    estimate: Estimate, *, level: float = DEFAULT_LEVEL, with_figure: bool = True
) -> str:
    """The HTML of an Estimate in a notebook (escaped; the figure an inline PNG)."""
    from casualty_models.report import facts, figures
    from casualty_models.report.series import focus_series

    head = estimate.headline(level=level)
    by_key = {(str(r["side"]), str(r["category"])): r for r in head.to_dict(orient="records")}
    focus = focus_series(estimate)
    shown = [by_key[k] for k in focus if by_key[k]["estimable"]]
    figure: Figure | None = None
    if with_figure:
        keys = [(str(r["side"]), str(r["category"])) for r in shown]
        options = {"series": keys} if keys else {"series": "all"}
        figure = figures.render("panels", estimate, level, options=options)
    s = estimate.settings
    others = len(head) - len(focus)
    return _render(
        "notebook.html.j2",
        what="estimate",
        title=f"Estimate as of {s.as_of}",
        meta=(
            f"{len(estimate.claims)} claims from {display_origin(estimate.claims.origin)}; "
            f"fitted from "
            f"{s.start} to {s.end}; {level_pct(level)}% equal-tailed credible intervals"
            + (f"; {others} more series in est.headline()" if others > 0 else "")
        ),
        badge=badge(estimate),
        headline=facts._headline(shown, level),
        sentences=[facts._sentence(estimate, r, level) for r in shown],
        notes=[facts._withheld(estimate, by_key[k]) for k in focus if not by_key[k]["estimable"]],
        figure=figure,
    )


@_hooks.provides("ClaimSet._repr_html_")
def claims_html(claims: ClaimSet) -> str:
    """The HTML of a ClaimSet in a notebook: counts, dates covered, validation notes."""
    from casualty_models.report.tables import table

    n = len(claims)
    types = [t for t in _source_types() if any(c.source_type == t for c in claims)]
    by_series: Counter[tuple[str, str, str]] = Counter(
        (c.side, c.category, c.source_type) for c in claims
    )
    rows = [
        [side, category, *(by_series[(side, category, t)] or "" for t in types), total]
        for side, category in claims.series
        for total in [sum(by_series[(side, category, t)] for t in types)]
    ]
    counts = table(
        ["side", "category", *types, "claims"],
        rows,
        numeric=range(2, 3 + len(types)),
    )
    kinds = Counter(c.kind for c in claims)
    sources = Counter(c.source for c in claims).most_common()
    shown = ", ".join(f"{name} ({k})" for name, k in sources[:MAX_SOURCES])
    if len(sources) > MAX_SOURCES:
        shown += f" and {len(sources) - MAX_SOURCES} more"
    facts = []
    if n:
        as_of = sorted(c.as_of for c in claims)
        reported = sorted(c.reported or c.as_of for c in claims)
        facts.append(f"Dates: as of {date(as_of[0])} to {date(as_of[-1])}")
        if (reported[0], reported[-1]) != (as_of[0], as_of[-1]):
            facts[-1] += f"; published {date(reported[0])} to {date(reported[-1])}"
        facts[-1] += "."
        facts.append(
            "Figures: " + ", ".join(f"{k} {kind}" for kind, k in kinds.most_common()) + "."
        )
        facts.append(f"Sources ({len(sources)}, by claims): {shown}.")
        cited = sum(bool(c.citation) for c in claims)
        facts.append(f"Cited: {cited} of {n}; with a URL: {sum(bool(c.url) for c in claims)}.")
    return _render(
        "notebook.html.j2",
        what="claims",
        title=f"ClaimSet: {n} claim{'' if n == 1 else 's'}",
        meta=(
            f"from {display_origin(claims.origin)}; {len(claims.series)} series, "
            f"{len(claims.speakers)} "
            f"speakers; fingerprint {claims.fingerprint[:12]}…"
        ),
        badge=None,
        headline=counts if n else None,
        sentences=facts,
        notes=claims.notes(),
        figure=None,
    )


@_hooks.provides("Comparison._repr_html_")
def comparison_html(comparison: Comparison) -> str:
    """The HTML of a Comparison in a notebook: headlines before and after, the
    sentences, and the claims that moved each headline most."""
    from casualty_models.report.change_facts import gather_changes

    facts = gather_changes(comparison, comparison.level, with_figures=False)
    return _render(
        "notebook.html.j2",
        what="comparison",
        title=facts.title,
        meta=facts.intro,
        badge=None,
        headline=facts.headline,
        sentences=list(facts.sentences),
        drivers=_drivers(comparison),
        notes=[],
        figure=None,
    )


def _drivers(comparison: Comparison) -> Table | None:
    """Per series estimable before and now: the changed claims that moved it most, either
    way (largest effect first), in people and in points of the earlier median."""
    from casualty_models.report.tables import table

    att = comparison.attribution
    att = att[(att["change_id"] >= 0) & att["effect"].notna() & (att["effect"] != 0)]
    head = comparison.headline
    rows = []
    for r in head[head["old_estimable"] & head["new_estimable"]].to_dict(orient="records"):
        mine = att[(att["side"] == r["side"]) & (att["category"] == r["category"])]
        order = mine["effect"].abs().sort_values(ascending=False, kind="stable").index
        for d in mine.loc[order].head(MAX_DRIVERS).to_dict(orient="records"):
            rows.append(
                [
                    f"{r['side']} {r['category']}",
                    d["claim"],
                    _signed(d["effect"], people(abs(d["effect"]))),
                    _signed(d["effect_pct"], f"{abs(d['effect_pct']):.1f} pts"),
                    d["method"],
                ]
            )
    if not rows:
        return None
    return table(["series", "claim", "moved it by", "points", "how"], rows, numeric=(2, 3))


def _signed(x: float, text: str) -> str:
    if not math.isfinite(x) or x == 0:
        return text
    return ("+" if x > 0 else "−") + text


def _source_types() -> tuple[str, ...]:
    from casualty_models.claims import SOURCE_TYPES

    return SOURCE_TYPES


__all__ = ["Badge", "badge", "claims_html", "comparison_html", "estimate_html"]
