"""Honest headlines: a series long past its last claim is withheld, never published."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pandas as pd

import casualty_models as cm
from casualty_models.estimate import EXTRAPOLATION_HORIZON_DAYS
from tests.conftest import claim, offline_estimate

START = dt.date(2022, 2, 24)
LATE = dt.date(2022, 9, 1)  # 175 days after the captured claim: past the horizon


def _estimate():
    claims = cm.ClaimSet(
        [
            claim(value=1000, as_of=dt.date(2022, 3, 10), period_start=START),
            claim(value=9000, as_of=LATE, period_start=START),
            claim(category="captured", value=300, as_of=dt.date(2022, 3, 10), period_start=START),
        ]
    )
    return offline_estimate(claims, start=START)


def test_headline_marks_a_series_past_the_horizon_not_estimable():
    head = _estimate().headline().set_index("category")
    assert bool(head.loc["killed", "estimable"])
    assert not bool(head.loc["captured", "estimable"])
    assert head.loc["captured", "last_claim"] == pd.Timestamp("2022-03-10")
    until = pd.Timestamp("2022-03-10") + pd.Timedelta(days=EXTRAPOLATION_HORIZON_DAYS)
    assert head.loc["captured", "estimable_until"] == until


def test_the_horizon_boundary_is_inclusive():
    at = dt.date(2022, 3, 10) + dt.timedelta(days=EXTRAPOLATION_HORIZON_DAYS)
    claims = cm.ClaimSet(
        [
            claim(value=1000, as_of=at + dt.timedelta(days=1), period_start=START),
            claim(category="captured", value=300, as_of=dt.date(2022, 3, 10), period_start=START),
        ]
    )
    est = offline_estimate(claims, start=START)
    # as_of exactly at the horizon is still estimable; one day later is not
    for as_of, want in ((at, True), (at + dt.timedelta(days=1), False)):
        moved = cm.Estimate(
            claims=est.claims, settings=replace(est.settings, as_of=as_of), idata=est.idata
        )
        head = moved.headline().set_index("category")
        assert bool(head.loc["captured", "estimable"]) is want


def test_json_headline_withholds_prior_only_numbers():
    est = _estimate()
    data = json.loads(est.to_json())
    rows = {r["category"]: r for r in data["headline"]}
    assert rows["killed"]["estimable"] and rows["killed"]["median"] > 0
    assert rows["captured"]["estimable"] is False
    assert rows["captured"]["median"] is None and rows["captured"]["high_90"] is None
    assert "not estimable since" in repr(est)


def test_summary_flags_days_after_the_last_claim_as_extrapolated():
    summ = _estimate().summary().set_index(["category", "date"])["extrapolated"]
    assert not summ.loc[("captured", pd.Timestamp("2022-03-10"))]
    assert summ.loc[("captured", pd.Timestamp("2022-03-11"))]
    assert not summ.loc[("killed", pd.Timestamp(LATE))]


def test_summary_quantiles_equal_numpys_to_the_bit():
    # _quantiles sorts once instead of calling np.median and np.quantile; the intervals
    # in every output must not move by a bit
    import numpy as np

    from casualty_models._format import level_pct
    from casualty_models.estimate import _quantiles

    rng = np.random.default_rng(3)
    for shape in [(3000, 4, 7), (2999, 3), (1, 5), (2, 2), (1500,)]:
        draws = rng.lognormal(5, 2, size=shape)
        for level in (0.5, 0.9, 0.95, 0.99, 1 / 3):
            got = _quantiles(draws, [level])
            lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
            assert np.array_equal(got[f"low_{level_pct(level)}"], lo), (shape, level)
            assert np.array_equal(got[f"high_{level_pct(level)}"], hi), (shape, level)
            assert np.array_equal(got["median"], np.median(draws, axis=0))
            assert np.array_equal(got["mean"], draws.mean(axis=0))
