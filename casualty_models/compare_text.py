"""The plain sentences of a :class:`~casualty_models.compare.Comparison`, one per series:
how far its median moved, the claim that moved it most, and what the rest holds."""

from __future__ import annotations

import math
from collections.abc import Mapping
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
    text = f"{name} moved {moved} ({signed_pct(change)})"
    top = comp.drivers(r["side"], r["category"], n=1)
    att = comp.attribution
    rest = att[
        (att["side"] == r["side"]) & (att["category"] == r["category"]) & (att["change_id"] < 0)
    ]
    changed = att[
        (att["side"] == r["side"]) & (att["category"] == r["category"]) & (att["change_id"] >= 0)
    ]
    bearing = changed[changed["method"].isin(["reweighted", "refit"])]
    if len(top) and abs(float(top["effect_pct"].iloc[0])) >= NOISE_Z * float(
        top["mcse_pct"].iloc[0]
    ):
        t = top.iloc[0]
        share = float(t["effect"]) / float(r["change"])
        effect = signed_pct(float(t["effect_pct"]))
        if share >= MOSTLY:
            text += f", mostly because of {t['claim']} ({effect})"
        else:
            text += f"; the largest single contribution: {t['claim']} ({effect})"
    elif len(top):
        text += ", and no single claim moved it beyond Monte Carlo noise"
    elif len(bearing):
        text += ", although the changed claims alone would have moved it the other way"
    else:
        text += "; no claim that bears on it changed"
    if len(rest):
        inter = float(rest["effect_pct"].iloc[0])
        inter_noise = float(rest["mcse_pct"].iloc[0])
        if abs(inter) >= MOSTLY * abs(change) and abs(inter) >= NOISE_Z * inter_noise:
            text += f"; {signed_pct(inter)} comes from {_rest_causes(comp, len(bearing))}"
    return text + "."


def _rest_causes(comp: Comparison, n_claims: int) -> str:
    """What the interactions row holds, in words: the claims together, a moved date,
    changed settings, or else the two sampler runs."""
    old, new = comp.old.settings, comp.new.settings
    causes = []
    if n_claims:
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


__all__ = ["MOSTLY", "NOISE_Z", "label", "reported", "sentence"]
