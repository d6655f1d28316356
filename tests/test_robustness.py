"""One bad figure, one bad source: the estimate barely moves, and the bad claim is named.

Each scenario corrupts a clean synthetic claim set the way real compilations are
corrupted (see docs/robustness.md) and is compared with the fit of the clean set: the
headline median must stay inside the clean fit's 90% interval, and where one claim is
bad, it must be the most surprising claim in ``claims_check()``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import warnings

import numpy as np
import pytest

import casualty_models as cm

pytestmark = pytest.mark.mcmc

START = dt.date(2022, 2, 24)
RATE = 300.0  # true deaths a day
TALLY_DAYS = list(range(10, 119, 3))  # the enemy's running tally: 37 figures


def _truth(day: int) -> float:
    return RATE * (day + 1)


def _claim(source, source_type, day, **figure):
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


def _clean() -> list[cm.Claim]:
    """A neutral monitor, an own-side ministry, an independent study and the enemy's
    running tally (twice the truth, with small day-to-day noise)."""
    rng = np.random.default_rng(2022)
    claims = [
        _claim("Ministry", "enemy", d, value=round(2 * _truth(d) * math.exp(0.01 * z)))
        for d, z in zip(TALLY_DAYS, rng.standard_normal(len(TALLY_DAYS)), strict=True)
    ]
    for d in (20, 50, 80, 110):
        claims.append(
            _claim(
                "Monitor",
                "neutral",
                d,
                value=round(_truth(d) * math.exp(0.1 * rng.standard_normal())),
            )
        )
    for d in (30, 70, 115):
        claims.append(_claim("Own MoD", "own", d, value=round(0.4 * _truth(d))))
    claims.append(
        _claim("Survey", "independent", 100, low=0.8 * _truth(100), high=1.2 * _truth(100))
    )
    return claims


def _fit(claims):
    # 2 x 600 draws: this 44-parameter model reaches a bulk ESS of ~4,600 at the default
    # 1,500, and these tests compare medians and flags, not tails
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cm.DecreasingTallyWarning)
        return cm.fit(
            cm.ClaimSet(claims),
            as_of=START + dt.timedelta(days=119),
            draws=600,
            tune=600,
            random_seed=3,
        )


@pytest.fixture(scope="module")
def clean():
    est = _fit(_clean())
    assert est.diagnostics.ok
    return est


def _replace(claims, i, **changes):
    out = list(claims)
    out[i] = dataclasses.replace(out[i], **changes)
    return out


def _tally_index(day: int) -> int:
    return TALLY_DAYS.index(day)


def _scenarios():
    clean = _clean()
    mid = _tally_index(55)
    later = 2 * _truth(55 + 60)
    yield "figure from months later", _replace(clean, mid, value=later), [mid], cm.SpikeWarning
    yield "10x typo", _replace(clean, mid, value=10 * clean[mid].value), [mid], cm.SpikeWarning
    yield (
        "90% one-day drop",
        _replace(clean, mid, value=0.1 * clean[mid].value),
        [mid],
        cm.SpikeWarning,
    )
    monitor = next(
        i for i, c in enumerate(clean) if c.source == "Monitor" and (c.as_of - START).days == 80
    )
    # a casualties figure (killed + about 3x wounded) filed as killed
    yield (
        "casualties filed as killed",
        _replace(clean, monitor, value=4 * clean[monitor].value),
        [monitor],
        None,
    )
    # a tally that began counting on day 40 but is filed as counting from the start
    started = [
        dataclasses.replace(c, value=round(2 * (_truth((c.as_of - START).days) - _truth(39))))
        if c.source == "Ministry" and (c.as_of - START).days > 40
        else c
        for c in clean
        if not (c.source == "Ministry" and (c.as_of - START).days <= 40)
    ]
    yield "tally starting mid-series", started, [], None
    # one label carrying two outlets: every third figure from one that says 1.5x more
    mixed = [
        dataclasses.replace(c, value=1.5 * c.value) if c.source == "Ministry" and k % 3 == 1 else c
        for k, c in enumerate(clean)
    ]
    yield "coarse source mixing outlets", mixed, [], cm.CoarseSourceWarning
    copies = [
        dataclasses.replace(c, source="Monitor (copy)") for c in clean if c.source == "Monitor"
    ]
    yield "duplicated source", [*clean, *copies], [], None


SCENARIOS = list(_scenarios())


@pytest.mark.parametrize(
    ("name", "claims", "bad", "warning"), SCENARIOS, ids=[s[0] for s in SCENARIOS]
)
def test_a_bad_claim_barely_moves_the_estimate_and_is_named(clean, name, claims, bad, warning):
    if warning is None:
        est = _fit(claims)
    else:
        with pytest.warns(warning):
            est = _fit(claims)
    base = clean.headline().iloc[0]
    head = est.headline().iloc[0]
    assert base.low_90 <= head["median"] <= base.high_90, (name, head["median"], base)
    assert est.diagnostics.converged, est.diagnostics.problems()
    check = est.claims_check()
    if bad:
        worst = check.sort_values("p_value", kind="stable").iloc[0]
        assert int(worst.claim) in bad and worst.surprising, check.sort_values("p_value").head()
    # nothing clean is implausible: the model check passes
    assert est.diagnostics.model_ok, est.diagnostics.problems()
