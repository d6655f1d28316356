"""Facts of the section "What changed since …": a :class:`~casualty_models.compare.Comparison`
as sentences, tables and the before/after plot."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casualty_models._format import factor, level_pct, people, signed_pct
from casualty_models.report import figures
from casualty_models.report.figures import Figure
from casualty_models.report.tables import Cell, Table, interval, table

if TYPE_CHECKING:
    import pandas as pd

    from casualty_models.compare import Comparison

METHOD_TEXT = (
    "How far each claim alone moved a headline is the difference between the estimate "
    "with it and without it. Without it is computed by reweighting the posterior draws "
    "as if the claim had not been given (Pareto-smoothed importance sampling, as in "
    "leave-one-out cross-validation; k̂ says how reliable the weights are), and by "
    "refitting the model where k̂ is above 0.7. The effects of the separate claims and the "
    "rest (what the claims do together, a later date, changed settings) add up to each "
    "headline's change, in people and in percentage points (pts) of the earlier median: "
    '"+24 pts" is a quarter of the earlier median, not a quarter of the change.'
)


@dataclass(frozen=True)
class ChangeFacts:
    title: str
    lead: str  # one line for the top of the summary
    intro: str
    sentences: tuple[str, ...]
    lead_sentences: tuple[str, ...]  # the headline series', for the top of the summary
    headline: Table
    attribution: Table | None
    claims: Table | None
    sources: Table
    figure: Figure | None


def _pct_cell(x: Any) -> str:
    return signed_pct(float(x)) if x is not None and math.isfinite(float(x)) else ""


MAX_ROWS = 8
"""Claims per series in the report's attribution table, largest effect first (the rest
are in changes.csv)."""


def gather_changes(
    comparison: Comparison,
    level: float,
    *,
    with_figures: bool,
    focus: Sequence[tuple[str, str]] = (),
) -> ChangeFacts:
    """The facts of the comparison's section (the comparison's own level is used for
    its tables: they were computed at it). ``focus``: the report's headline series,
    whose sentences open the report and whose first series the plot shows."""
    pct = level_pct(comparison.level)
    summary = comparison.summary()
    old = summary["old"]
    title = f"What changed since the estimate as of {old['as_of']} ({old['n_claims']} claims)"
    n = summary["added"] + summary["removed"] + summary["edited"]
    counts = (
        f"{summary['added']} added, {summary['removed']} removed and {summary['edited']} "
        f"edited claim{'' if n == 1 else 's'}"
    )
    intro = (
        f"{counts} since the earlier estimate (as of {old['as_of']}, {old['n_claims']} "
        f"claims from {old['claims_origin']}, fingerprint {old['claims_fingerprint'][:12]}…); "
        f"now as of {summary['new']['as_of']}, {summary['new']['n_claims']} claims. "
        "Claims are matched by source, side, category and dates: a figure corrected in "
        "place is one claim edited, not one removed and one added."
    )
    sentences = tuple(comparison.sentences())
    by_series = comparison.series_sentences()
    lead_sentences = tuple(by_series[k] for k in focus if k in by_series) or sentences
    head = comparison.headline
    both = head[head["old_estimable"] & head["new_estimable"]]
    estimable = set(zip(both["side"].astype(str), both["category"].astype(str), strict=True))
    headline = table(
        [
            "series",
            "before",
            f"{pct}% interval",
            "now",
            f"{pct}% interval",
            "change",
            "change",
            "in earlier sds",
        ],
        [
            [
                f"{r['side']} {r['category']}",
                people(r["old_median"]) if r["old_estimable"] else "not estimable",
                interval(r[f"old_low_{pct}"], r[f"old_high_{pct}"]) if r["old_estimable"] else "",
                people(r["new_median"]) if r["new_estimable"] else "not estimable",
                interval(r[f"new_low_{pct}"], r[f"new_high_{pct}"]) if r["new_estimable"] else "",
                _signed_people(r["change"]) if both else "",
                _pct_cell(r["change_pct"]) if both else "",
                f"{r['change_sd']:+.2f}" if both and math.isfinite(r["change_sd"]) else "",
            ]
            for r in head.to_dict(orient="records")
            for both in [bool(r["old_estimable"] and r["new_estimable"])]
        ],
        numeric=range(1, 8),
    )
    attribution, cut = _attribution(comparison.attribution, estimable)
    changed = comparison.claims
    claims = None
    if len(changed):
        claims = table(
            ["change", "source", "type", "series", "as of", "before", "now", "fields", "row"],
            [
                [
                    r["change"],
                    r["source"],
                    r["source_type"],
                    f"{r['side']} {r['category']}",
                    r["as_of"],
                    r["old"],
                    r["new"],
                    r["fields"],
                    r["new_row"] or r["old_row"],
                ]
                for r in changed.to_dict(orient="records")
            ],
        )
    src = comparison.sources
    sources = table(
        ["source", "about", "type", "before", f"{pct}% interval", "now", f"{pct}% interval"],
        [
            [
                r["source"],
                r["side"],
                r["source_type"],
                _factor(r["old_bias_factor"]),
                interval(r[f"old_low_{pct}"], r[f"old_high_{pct}"], _factor),
                _factor(r["new_bias_factor"]),
                interval(r[f"new_low_{pct}"], r[f"new_high_{pct}"], _factor),
            ]
            for r in src.to_dict(orient="records")
        ],
        numeric=range(3, 7),
    )
    shown = [k for k in focus if k in estimable]
    options = {"series": shown[0]} if shown else {}
    figure = (
        figures.render("compare", comparison, comparison.level, options=options)
        if with_figures
        else None
    )
    if cut:
        intro += (
            f" The table of what moved each headline shows the {MAX_ROWS} largest effects "
            f"per series; {cut} more are in changes.csv."
        )
    return ChangeFacts(
        title=title,
        lead=f"Since the estimate as of {old['as_of']} ({counts}):",
        intro=intro,
        sentences=sentences,
        lead_sentences=lead_sentences,
        headline=headline,
        attribution=attribution,
        claims=claims,
        sources=sources,
        figure=figure,
    )


def _attribution(att: pd.DataFrame, estimable: set[tuple[str, str]]) -> tuple[Table | None, int]:
    """The attribution table of the series estimable before and now: per series the
    :data:`MAX_ROWS` largest effects and the interactions row; how many rows were cut."""
    rows: list[list[Cell]] = []
    marks: list[str] = []
    cut = 0
    records = att[att["method"] != "unaffected"].to_dict(orient="records")
    series = list(dict.fromkeys((str(r["side"]), str(r["category"])) for r in records))
    for key in series:
        if key not in estimable:
            continue
        mine = [r for r in records if (r["side"], r["category"]) == key]
        claims = sorted(
            (r for r in mine if r["change_id"] >= 0),
            key=lambda r: -abs(r["effect"]) if math.isfinite(r["effect"]) else 0.0,
        )
        cut += max(0, len(claims) - MAX_ROWS)
        for r in [*claims[:MAX_ROWS], *(r for r in mine if r["change_id"] < 0)]:
            k = r["pareto_k"]
            rows.append(
                [
                    r["claim"],
                    f"{r['side']} {r['category']}",
                    _signed_people(r["effect"]),
                    _points(r["effect_pct"]),
                    f"{r['mcse_pct']:.1f} pts" if math.isfinite(r["mcse_pct"]) else "",
                    r["method"],
                    f"{k:.2f}" if k is not None and math.isfinite(k) else "",
                    r["note"],
                ]
            )
            marks.append("" if r["reliable"] else "unreliable")
    if not rows:
        return None, cut
    headers = ["what", "series", "effect", "effect", "± MC error", "how", "k̂", "note"]
    return table(headers, rows, numeric=(2, 3, 4, 6), marks=marks), cut


def _signed_people(x: Any) -> str:
    """ "+1,200", "−300", "0" """
    if x is None or not math.isfinite(float(x)):
        return ""
    x = float(x)
    text = people(abs(x))
    return text if text in ("0", "0.0") else ("+" if x > 0 else "−") + text


def _points(x: Any) -> str:
    """Percentage points of the earlier median: "+24.1 pts", "−0.6 pts"."""
    if x is None or not math.isfinite(float(x)):
        return ""
    x = float(x)
    text = f"{abs(x):.1f}"
    return f"{text} pts" if text == "0.0" else f"{'+' if x > 0 else '−'}{text} pts"


def _factor(x: Any) -> str:
    return factor(float(x)) if x is not None and math.isfinite(float(x)) else ""


__all__ = ["METHOD_TEXT", "ChangeFacts", "gather_changes"]
