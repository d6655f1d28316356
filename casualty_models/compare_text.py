"""The plain sentences of a :class:`~casualty_models.compare.Comparison`, one per series:
how far its median moved, the claim that moved it most, and what the rest holds.

A move is broken into parts that add up (:func:`breakdown`): the claim that moved it
most, the other changed claims together, and the rest (what the claims do together
beyond their separate effects, a later date, changed settings). Each part is given in
people and in percentage points of the earlier median, both rounded so that the parts
sum to the move as printed: "+6,400 (+2.0%): the General Staff figure of 2026-07-11
+3,200 (+1.0 pts), the 40 other changed claims −74,000 (−23.1 pts), the claims
together, beyond their separate effects, and the later date +77,200 (+24.1 pts)". A
share of the move ("+24% comes from ...") would read as a change of the count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casualty_models._format import about, level_pct, signed_pct

if TYPE_CHECKING:
    from casualty_models.compare import Comparison

NOISE_Z = 2.0
"""A headline change smaller than this many Monte Carlo standard errors is called noise."""
MOSTLY = 0.5
"""A claim moved a headline "mostly" when its effect is at least this share of the move."""


def reported(r: Mapping[Any, Any]) -> bool:
    """A series gets a sentence of its own unless it is not estimable now (and was
    estimated before)."""
    return bool(r["new_estimable"]) or _missing(r["new_median"]) or _missing(r["old_median"])


def _two(a: float, b: float) -> tuple[str, str]:
    """Two counts for prose, rounded alike to the fewest significant figures (at least
    two, at most four) that tell them apart: 1,255,647 and 1,296,452 -> "1,260,000" and
    "1,300,000"."""
    for digits in (2, 3, 4):
        x, y = _sig(a, digits), _sig(b, digits)
        if x != y:
            return x, y
    return x, y


def _sig(x: float, digits: int) -> str:
    if not math.isfinite(x) or x <= 0:
        return about(x)
    places = max(0, math.floor(math.log10(x)) - digits + 1)
    return f"{round(x, -places):,.0f}"


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def label(r: Mapping[Any, Any]) -> str:
    return f"{r['side']} {r['category']}"


def sentence(comp: Comparison, r: Mapping[Any, Any]) -> str:
    name = label(r)
    pct = level_pct(comp.level)
    old_ok, new_ok = bool(r["old_estimable"]), bool(r["new_estimable"])
    if _missing(r["old_median"]):
        if not new_ok:
            return f"{name} is new, but not estimable on {r['new_as_of']:%Y-%m-%d}."
        return (
            f"{name} is new: {about(r['new_median'])} ({pct}% interval "
            f"{about(r[f'new_low_{pct}'])}–{about(r[f'new_high_{pct}'])})."
        )
    if _missing(r["new_median"]):
        return f"{name} is no longer estimated: no claim about it is left."
    if not new_ok:  # (grouped by sentences(); kept for a record of its own)
        return f"{name} is not estimable on {r['new_as_of']:%Y-%m-%d}."
    if not old_ok:
        return (
            f"{name} was not estimable on {r['old_as_of']:%Y-%m-%d}; it is now "
            f"{about(r['new_median'])} ({pct}% interval {about(r[f'new_low_{pct}'])}–"
            f"{about(r[f'new_high_{pct}'])})."
        )
    before, now = _two(float(r["old_median"]), float(r["new_median"]))
    moved = f"from {before} to {now}"
    change, noise = float(r["change_pct"]), float(r["mcse_pct"])
    if abs(change) < NOISE_Z * noise:
        return (
            f"{name} did not move beyond Monte Carlo noise: {moved} "
            f"({signed_pct(change)}, ±{noise:.1f}% Monte Carlo error)."
        )
    parts = breakdown(comp, r)
    total_people, total_points = parts[-1].people_text, parts[-1].points_text
    text = f"{name} moved {moved} ({total_people}, {total_points.removesuffix(' pts')}%)"
    top = comp.drivers(r["side"], r["category"], n=1)
    changed = _rows(comp, r, claims=True)
    bearing = changed[changed["method"].isin(["reweighted", "refit"])]
    if _beyond_noise(top):
        t = top.iloc[0]
        share = float(t["effect"]) / float(r["change"])
        if share >= MOSTLY:
            text += f", mostly because of {t['claim']}"
        else:
            text += f"; the largest single contribution: {t['claim']}"
    elif len(top):
        text += ", and no single claim moved it beyond Monte Carlo noise"
    elif len(bearing):
        text += ", although the changed claims alone would have moved it the other way"
    else:
        text += "; no claim that bears on it changed"
    # parts that round to nothing are not worth a mention (they add nothing)
    shown = [p for p in parts[:-1] if any(d in p.people_text + p.points_text for d in "123456789")]
    if len(shown) == 1 and not len(bearing):
        return text + f": all of it comes from {shown[0].what}."
    if shown:
        text += ". In people and in points of the earlier median: " + "; ".join(
            f"{p.what} {p.people_text} ({p.points_text})" for p in shown
        )
    return text + "."


@dataclass(frozen=True)
class Part:
    """One part of a headline's move: ``what`` moved it, by ``people`` (exact) and
    ``points`` (percentage points of the earlier median, exact), and both rounded as
    text (``people_text``, ``points_text``) so that the parts of one move add up to the
    move as printed."""

    what: str
    people: float
    points: float
    people_text: str = ""
    points_text: str = ""


TOTAL = "the move"
"""The ``what`` of the last :class:`Part` of a breakdown: the move itself."""


def breakdown(comp: Comparison, r: Mapping[Any, Any]) -> list[Part]:
    """The move of one headline row ``r`` of ``comp.headline`` in parts that add up: the
    claim that moved it most (when beyond Monte Carlo noise), the other changed claims
    together, and the rest (:func:`_rest_causes`), then the move itself (``what`` is
    :data:`TOTAL`). Parts that are exactly zero are left out."""
    top = comp.drivers(r["side"], r["category"], n=1)
    changed = _rows(comp, r, claims=True)
    changed = changed[changed["effect"].notna()]
    bearing = changed[changed["method"].isin(["reweighted", "refit"])]
    rest = _rows(comp, r, claims=False)
    parts: list[Part] = []
    others = changed
    if _beyond_noise(top):
        t = top.iloc[0]
        parts.append(Part(str(t["claim"]), float(t["effect"]), float(t["effect_pct"])))
        others = changed[changed.index != top.index[0]]
    others = others[others["effect"] != 0]
    if len(others):
        n = len(others)
        if parts:
            what = "the other changed claim" if n == 1 else f"the {n} other changed claims"
        else:
            what = "the changed claim" if n == 1 else f"the {n} changed claims together"
        parts.append(Part(what, float(others["effect"].sum()), float(others["effect_pct"].sum())))
    if len(rest):
        x = rest.iloc[0]
        parts.append(
            Part(_rest_causes(comp, len(bearing)), float(x["effect"]), float(x["effect_pct"]))
        )
    parts = [p for p in parts if p.people != 0 or p.points != 0]
    total = Part(TOTAL, float(r["change"]), float(r["change_pct"]))
    people_texts = _adding_up([p.people for p in parts], total.people, _people_unit(parts, total))
    digits = 1 if max((abs(p.points) for p in [*parts, total]), default=0) >= 1 else 2
    point_texts = _adding_up([p.points for p in parts], total.points, 10.0**-digits)
    out = [
        Part(p.what, p.people, p.points, signed_number(a, 0), signed_number(b, digits) + " pts")
        for p, a, b in zip(parts, people_texts[:-1], point_texts[:-1], strict=True)
    ]
    return [
        *out,
        Part(
            TOTAL,
            total.people,
            total.points,
            signed_number(people_texts[-1], 0),
            signed_number(point_texts[-1], digits) + " pts",
        ),
    ]


def _people_unit(parts: Sequence[Part], total: Part) -> float:
    """The rounding unit of a breakdown in people: three significant figures of its
    largest part (or of the move), at least one person."""
    big = max((abs(p.people) for p in [*parts, total]), default=0.0)
    if not math.isfinite(big) or big < 100:
        return 1.0
    return 10.0 ** (math.floor(math.log10(big)) - 2)


def _adding_up(values: Sequence[float], total: float, unit: float) -> list[float]:
    """``values`` rounded to multiples of ``unit`` so that they sum to ``total`` rounded
    to ``unit`` (largest remainders round up), then that rounded total."""
    if not values or not all(math.isfinite(v) for v in [*values, total]):
        return [*values, total]
    scaled = [v / unit for v in values]
    target = round(total / unit)
    down = [math.floor(x) for x in scaled]
    extra = target - sum(down)
    order = sorted(range(len(values)), key=lambda i: scaled[i] - down[i], reverse=True)
    for i in order[: max(0, min(extra, len(values)))]:
        down[i] += 1
    return [d * unit for d in down] + [target * unit]


def signed_number(x: float, digits: int) -> str:
    """ "+3,200", "−74,000", "0"; with ``digits`` decimals: "+1.0", "−23.1", "0.0"."""
    if not math.isfinite(x):
        return "n/a"
    text = f"{abs(x):,.{digits}f}"
    if float(text.replace(",", "")) == 0:
        return text
    return ("+" if x > 0 else "−") + text


def _rows(comp: Comparison, r: Mapping[Any, Any], *, claims: bool) -> Any:
    """The attribution rows of one series: its changed claims', or its rest row."""
    att = comp.attribution
    mine = att[(att["side"] == r["side"]) & (att["category"] == r["category"])]
    return mine[mine["change_id"] >= 0] if claims else mine[mine["change_id"] < 0]


def _beyond_noise(top: Any) -> bool:
    return bool(len(top)) and abs(float(top["effect_pct"].iloc[0])) >= NOISE_Z * float(
        top["mcse_pct"].iloc[0]
    )


def _rest_causes(comp: Comparison, n_claims: int) -> str:
    """What the interactions row holds, in words: the claims together, a moved date,
    changed settings, or else the two sampler runs."""
    old, new = comp.old.settings, comp.new.settings
    causes = []
    if n_claims > 1:  # one claim has no "together"
        causes.append("the claims together, beyond their separate effects")
    if old.as_of != new.as_of:
        when = "later" if new.as_of > old.as_of else "earlier"
        causes.append(f"the {when} date ({old.as_of} → {new.as_of})")
    others = _changed_settings(comp)
    if others:
        causes.append(f"the changed settings ({', '.join(others)})")
    if not causes:
        return "the difference between the two sampler runs"
    return ", and ".join(causes)


def _changed_settings(comp: Comparison) -> list[str]:
    old, new = comp.old.settings, comp.new.settings
    names = ("start", "priors", "draws", "tune", "chains", "random_seed", "sampler")
    return [n for n in names if getattr(old, n) != getattr(new, n)]


# --------------------------------------------------------------------------- compute


__all__ = [
    "MOSTLY",
    "NOISE_Z",
    "TOTAL",
    "Part",
    "breakdown",
    "label",
    "reported",
    "sentence",
    "signed_number",
]
