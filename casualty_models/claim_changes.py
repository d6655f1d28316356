"""Which claims were added, removed and edited between two claim sets, by identity.

Two versions of a claim are one claim when they share their identity
(:data:`IDENTITY`: source, side, category and dates), whatever else changed, so that a
figure corrected in place is one edit, old → new, and not a removal and an addition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import pandas as pd

from casualty_models.claims import Claim, ClaimSet, format_date

IDENTITY: tuple[str, ...] = ("source", "side", "category", "as_of", "period_start")
"""The fields that make two versions of a claim one claim (an edit, not a new claim)."""
NOT_EVIDENCE: frozenset[str] = frozenset({"citation", "url", "notes"})
"""Claim fields that do not enter the model: an edit of only these moves nothing."""


@dataclass(frozen=True)
class ClaimChange:
    """One claim added (``old`` None), removed (``new`` None) or edited (both), by
    index into the old and new claim sets; ``fields`` are those an edit changed."""

    change: str
    old: int | None
    new: int | None
    fields: tuple[str, ...] = ()


def _identity(c: Claim) -> tuple[Any, ...]:
    return tuple(getattr(c, f) for f in IDENTITY)


def _differing(a: Claim, b: Claim) -> tuple[str, ...]:
    return tuple(f.name for f in fields(Claim) if getattr(a, f.name) != getattr(b, f.name))


def match_claims(old: Sequence[Claim], new: Sequence[Claim]) -> list[ClaimChange]:
    """The claims added, removed and edited from ``old`` to ``new``.

    Claims equal in every field are unchanged, wherever they sit in the set. Of the
    rest, a claim of the old set and one of the new with the same identity
    (:data:`IDENTITY`) are one claim edited; when several share an identity, the pairs
    that differ in the fewest fields are matched first. What is left was removed or
    added. Ordered: removed and edited in the old set's order, then added in the new's.
    """
    unmatched_new: dict[Claim, list[int]] = {}
    for j, c in enumerate(new):
        unmatched_new.setdefault(c, []).append(j)
    old_left: list[int] = []
    for i, c in enumerate(old):
        if unmatched_new.get(c):
            unmatched_new[c].pop(0)
        else:
            old_left.append(i)
    new_left = sorted(j for js in unmatched_new.values() for j in js)
    by_key: dict[tuple[Any, ...], list[int]] = {}
    for j in new_left:
        by_key.setdefault(_identity(new[j]), []).append(j)
    pairs: list[tuple[int, int, int]] = []  # (n fields differing, old, new)
    for i in old_left:
        for j in by_key.get(_identity(old[i]), []):
            pairs.append((len(_differing(old[i], new[j])), i, j))
    edited: dict[int, int] = {}
    taken: set[int] = set()
    for _, i, j in sorted(pairs):
        if i not in edited and j not in taken:
            edited[i] = j
            taken.add(j)
    out = [
        ClaimChange("edited", i, edited[i], _differing(old[i], new[edited[i]]))
        if i in edited
        else ClaimChange("removed", i, None)
        for i in old_left
    ]
    out += [ClaimChange("added", None, j) for j in new_left if j not in taken]
    return out


def claims_frame(old: ClaimSet, new: ClaimSet, changes: list[ClaimChange]) -> pd.DataFrame:
    """One row per change: what changed, the claim's identity, its figure before and
    now, the fields an edit changed, whether it is evidence (not only a citation), and
    where each version was read."""
    rows = []
    for k, ch in enumerate(changes):
        c = new[ch.new] if ch.new is not None else old[ch.old]  # type: ignore[index]
        was = old[ch.old] if ch.old is not None else None
        now = new[ch.new] if ch.new is not None else None
        rows.append(
            {
                "change_id": k,
                "change": ch.change,
                "source": c.source,
                "source_type": c.source_type,
                "side": c.side,
                "category": c.category,
                "as_of": format_date(c.as_of, c.as_of_precision),
                "period_start": None
                if c.period_start is None
                else format_date(c.period_start, c.period_start_precision),
                "reported": format_date(c.reported or c.as_of, c.reported_precision),
                "old": "" if was is None else was.describe(),
                "new": "" if now is None else now.describe(),
                "fields": ", ".join(ch.fields),
                "evidence": ch.change != "edited" or bool(set(ch.fields) - NOT_EVIDENCE),
                "old_index": ch.old,
                "new_index": ch.new,
                "old_row": "" if ch.old is None else old.where(ch.old),
                "new_row": "" if ch.new is None else new.where(ch.new),
                "citation": c.citation,
            }
        )
    columns = [
        "change_id",
        "change",
        "source",
        "source_type",
        "side",
        "category",
        "as_of",
        "period_start",
        "reported",
        "old",
        "new",
        "fields",
        "evidence",
        "old_index",
        "new_index",
        "old_row",
        "new_row",
        "citation",
    ]
    out = pd.DataFrame(rows, columns=columns)
    for col in ("old_index", "new_index"):
        out[col] = out[col].astype("Int64")
    return out


def change_label(claims: pd.DataFrame, k: int) -> str:
    """ "the US DoD figure of 2022-03-11", "the removal of ...", "the edit of ..." """
    c = claims.iloc[k]
    label = f"the {c['source']} figure of {c['as_of']}"
    return {"removed": f"the removal of {label}", "edited": f"the edit of {label}"}.get(
        str(c["change"]), label
    )


__all__ = [
    "IDENTITY",
    "NOT_EVIDENCE",
    "ClaimChange",
    "change_label",
    "claims_frame",
    "match_claims",
]
