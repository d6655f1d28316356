"""Robustness scenarios: a clean synthetic claim set and the ways real data corrupt it.

One side, a true 300 deaths a day for 120 days; a neutral monitor, an own-side ministry,
an independent survey and the enemy's running tally (twice the truth, every third day).
Each scenario corrupts it as public compilations are corrupted. ``tests/test_robustness.py``
asserts on them; ``python -m validation.robustness`` fits them all and writes the table of
``docs/robustness.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

import casualty_models as cm

START = dt.date(2022, 2, 24)
AS_OF = START + dt.timedelta(days=119)
RATE = 300.0  # true deaths a day
TALLY_DAYS = list(range(10, 119, 3))  # the enemy's running tally: 37 figures
DOC = Path(__file__).resolve().parents[1] / "docs" / "robustness.md"


def truth(day: int) -> float:
    """The true cumulative count on grid day ``day``."""
    return RATE * (day + 1)


def _claim(source: str, source_type: str, day: int, **figure: float) -> cm.Claim:
    return cm.Claim(
        source=source,
        source_type=source_type,
        side="russia",
        category="killed",
        as_of=START + dt.timedelta(days=day),
        period_start=START,
        citation="synthetic",
        **figure,
    )


def clean() -> list[cm.Claim]:
    """The clean claims: tally first (37), then monitor (4), ministry (3), survey (1)."""
    rng = np.random.default_rng(2022)
    claims = [
        _claim("Ministry", "enemy", d, value=round(2 * truth(d) * math.exp(0.01 * z)))
        for d, z in zip(TALLY_DAYS, rng.standard_normal(len(TALLY_DAYS)), strict=True)
    ]
    for d in (20, 50, 80, 110):
        value = round(truth(d) * math.exp(0.1 * rng.standard_normal()))
        claims.append(_claim("Monitor", "neutral", d, value=value))
    for d in (30, 70, 115):
        claims.append(_claim("Own MoD", "own", d, value=round(0.4 * truth(d))))
    claims.append(_claim("Survey", "independent", 100, low=0.8 * truth(100), high=1.2 * truth(100)))
    return claims


def _day(c: cm.Claim) -> int:
    return (c.as_of - START).days


def _replace(claims: list[cm.Claim], i: int, **changes: Any) -> list[cm.Claim]:
    out = list(claims)
    out[i] = dataclasses.replace(out[i], **changes)
    return out


def scenarios() -> Iterator[tuple[str, list[cm.Claim], list[int], type[Warning] | None]]:
    """(name, claims, indices of the bad claims, the warning the fit must give)."""
    base = clean()
    mid = TALLY_DAYS.index(55)
    yield (
        "figure from months later",
        _replace(base, mid, value=2 * truth(55 + 60)),
        [mid],
        cm.SpikeWarning,
    )
    yield "10x typo", _replace(base, mid, value=10 * base[mid].value), [mid], cm.SpikeWarning
    yield (
        "90% one-day drop",
        _replace(base, mid, value=0.1 * base[mid].value),
        [mid],
        cm.SpikeWarning,
    )
    monitor = next(i for i, c in enumerate(base) if c.source == "Monitor" and _day(c) == 80)
    # a casualties figure (killed + about 3x wounded) filed as killed
    yield (
        "casualties filed as killed",
        _replace(base, monitor, value=4 * base[monitor].value),
        [monitor],
        None,
    )
    # a tally that began counting on day 40 but is filed as counting from the start
    started = [
        dataclasses.replace(c, value=round(2 * (truth(_day(c)) - truth(39))))
        if c.source == "Ministry"
        else c
        for c in base
        if not (c.source == "Ministry" and _day(c) <= 40)
    ]
    yield "tally starting mid-series", started, [], None
    # one label carrying two outlets: every third figure from one that says 1.5x more
    mixed = [
        dataclasses.replace(c, value=1.5 * c.value) if c.source == "Ministry" and k % 3 == 1 else c
        for k, c in enumerate(base)
    ]
    yield "coarse source mixing outlets", mixed, [], cm.CoarseSourceWarning
    copies = [
        dataclasses.replace(c, source="Monitor (copy)") for c in base if c.source == "Monitor"
    ]
    yield "duplicated source", [*base, *copies], [], None


def fit(claims: list[cm.Claim]) -> cm.Estimate:
    """The scenarios' fit: 2 x 600 draws (this 44-parameter model reaches a bulk ESS of
    about 4,600 at the default 1,500; the scenarios compare medians and flags)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cm.DecreasingTallyWarning)
        return cm.fit(cm.ClaimSet(claims), as_of=AS_OF, draws=600, tune=600, random_seed=3)


def main() -> int:
    rows = []
    base = fit(clean()).headline().iloc[0]
    rows.append(
        f"| clean | {base['median']:,.0f} ({base.low_90:,.0f}–{base.high_90:,.0f}) | — | — | — |"
    )
    for name, claims, bad, _ in scenarios():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = fit(claims)
        head = est.headline().iloc[0]
        check = est.claims_check().sort_values("p_value", kind="stable")
        worst = check.iloc[0]
        named = f"{worst.claimed} ({worst.role}, p = {worst.p_value:.3f})"
        if bad:
            named += " — the bad claim" if int(worst.claim) in bad else " — NOT the bad claim"
        inside = base.low_90 <= head["median"] <= base.high_90
        d = est.diagnostics
        rows.append(
            f"| {name} | {head['median']:,.0f} ({head.low_90:,.0f}–{head.high_90:,.0f}) "
            f"| {'yes' if inside else 'NO'} | {named} | "
            f"{'ok' if d.ok else 'FAILED'} ({d.claims_implausible}/{d.claims_checked}) |"
        )
        print(rows[-1], flush=True)
    table = [
        f"| scenario | Russian killed on {AS_OF} (90%) | inside the clean 90% | most "
        "surprising claim | checks (implausible claims) |",
        "|---|---|:---:|---|---|",
        *rows,
    ]
    text = DOC.read_text()
    start, end = "<!-- robustness:start -->", "<!-- robustness:end -->"
    head_text, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    DOC.write_text(head_text + start + "\n" + "\n".join(table) + "\n" + end + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
