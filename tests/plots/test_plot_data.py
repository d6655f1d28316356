"""The tables the plots draw (Estimate.claim_figures, Estimate.claim_counts): no MCMC."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import claim, offline_estimate

import casualty_models as cm


@pytest.fixture(scope="module")
def est():
    claims = cm.ClaimSet(
        [
            claim(value=120, as_of=dt.date(2022, 3, 1)),
            claim(source="R", low=100, high=300, as_of=dt.date(2022, 3, 4)),
            claim(source="F", source_type="own", low=50, as_of=dt.date(2022, 3, 5)),
            claim(source="C", source_type="enemy", high=900, as_of=dt.date(2022, 3, 6)),
            claim(source="W", value=40, period_start="2022-03-02", as_of=dt.date(2022, 3, 8)),
            claim(source="M", value=400, low=200, high=700, as_of=dt.date(2022, 3, 10)),
        ]
    )
    return offline_estimate(claims)


def test_claim_figures_say_what_each_claim_states(est):
    fig = est.claim_figures()
    assert fig["claim"].tolist() == list(range(6))
    assert fig["kind"].tolist() == ["point", "range", "floor", "ceiling", "point", "central"]
    assert fig["value"].iloc[0] == 120 and np.isnan(fig["value"].iloc[1])
    assert (fig["low"].iloc[1], fig["high"].iloc[1]) == (100, 300)
    assert fig["cumulative"].tolist() == [True, True, True, True, False, True]
    assert fig["period_start"].iloc[4] == pd.Timestamp("2022-03-02")
    assert pd.isna(fig["period_start"].iloc[0])
    assert fig["as_of"].iloc[-1] == pd.Timestamp("2022-03-10")
    assert fig["used"].all()
    assert fig["source_type"].tolist() == [c.source_type for c in est.claims]
    # a copy each time: a caller may change it
    fig.loc[0, "value"] = -1
    assert est.claim_figures()["value"].iloc[0] == 120


def test_claim_counts_are_log_count_quantiles(est):
    counts = est.claim_counts(level=0.8)
    assert list(counts.columns) == ["claim", "median", "low_50", "high_50", "low_80", "high_80"]
    log_count = np.asarray(est.idata.posterior["log_count"]).reshape(-1, len(est.claims))
    np.testing.assert_allclose(counts["median"], np.exp(np.median(log_count, axis=0)))
    np.testing.assert_allclose(counts["low_80"], np.exp(np.quantile(log_count, 0.1, axis=0)))
    np.testing.assert_allclose(counts["high_50"], np.exp(np.quantile(log_count, 0.75, axis=0)))
    assert (counts["low_80"] < counts["low_50"]).all()
    assert (counts["high_50"] < counts["high_80"]).all()
    with pytest.raises(ValueError, match="level"):
        est.claim_counts(level=1.0)
