"""Vintage fits and backtests, locally and on a real dask LocalCluster."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

import casualty_models as cm
from casualty_models.backtest import backtest

pytestmark = pytest.mark.mcmc

# short single runs: these tests check bookkeeping, not posteriors; the priors are the
# defaults, given explicitly so that they travel to the worker processes
FAST = dict(draws=300, tune=300, random_seed=4, max_attempts=1, priors=cm.Priors())


def _later_claim():
    return cm.Claim(
        source="Russian Ministry of Defence",
        source_type="own",
        side="russia",
        category="killed",
        as_of="2022-03-25",
        period_start="2022-02-24",
        value=1351,
        citation='CNN live updates, "Russia-Ukraine news, March 25, 2022", 2022-03-25',
    )


@pytest.mark.filterwarnings("ignore::casualty_models.ConvergenceWarning")
def test_vintage_uses_only_claims_published_by_then(seed_claims):
    claims = seed_claims.add(_later_claim())
    est = cm.fit(claims, as_reported_on="2022-03-12", **FAST)  # 300 draws: bookkeeping only
    assert len(est.claims) == 4 and est.claims == seed_claims
    assert est.settings.as_reported_on == dt.date(2022, 3, 12)
    assert est.settings.as_of == dt.date(2022, 3, 12)
    assert est.settings.start == dt.date(2022, 2, 24)
    with pytest.raises(ValueError, match="no claims were published by 2022-03-01"):
        cm.fit(claims, as_reported_on="2022-03-01")


@pytest.mark.filterwarnings("ignore::casualty_models.ConvergenceWarning")
def test_horizon_past_the_last_claim_widens_the_interval(seed_claims):
    est = cm.fit(seed_claims, as_of="2022-04-30", **FAST)
    summ = est.summary(dates=["2022-03-11", "2022-04-30"])
    russia = summ[summ.side == "russia"].set_index("date")
    width = russia.high_90 / russia.low_90
    assert width.loc["2022-04-30"] > width.loc["2022-03-11"]


def _check_history(result, claims):
    hist = result.history
    assert list(hist.as_reported_on.drop_duplicates()) == [
        pd.Timestamp("2022-03-02"),
        pd.Timestamp("2022-03-11"),
        pd.Timestamp("2022-03-25"),
    ]
    n = hist.groupby("as_reported_on").n_claims.first().tolist()
    assert n == [2, 4, 5]
    # on 2 March only Konashenkov had spoken: both series exist, from his claims alone
    assert set(hist[hist.as_reported_on == "2022-03-02"].side) == {"russia", "ukraine"}
    assert {"median", "low_90", "high_90", "r_hat_max", "divergences"} <= set(hist.columns)
    assert {"ess_tail_min", "converged", "model_ok"} <= set(hist.columns)
    assert result.claims == claims


def test_backtest_local_pool_matches_a_thread_pool(seed_claims):
    claims = seed_claims.add(_later_claim())
    dates = ["2022-03-25", "2022-03-02", "2022-03-11"]  # order does not matter
    local = backtest(claims, dates, **FAST)
    _check_history(local, claims)
    with ThreadPoolExecutor(max_workers=1) as pool:
        threaded = backtest(claims, dates, executor=pool, **FAST)
    # same seeds, same claims: the executor changes nothing but the wall time
    pd.testing.assert_frame_equal(local.history, threaded.history)


def test_backtest_on_a_dask_cluster(seed_claims):
    distributed = pytest.importorskip("dask.distributed")
    claims = seed_claims.add(_later_claim())
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = backtest(
            claims,
            ["2022-03-02", "2022-03-11", "2022-03-25"],
            executor=client.get_executor(),
            **FAST,
        )
    _check_history(result, claims)


def test_backtest_rejects_dates_before_any_claim(seed_claims):
    with pytest.raises(ValueError, match="no claims were published by 2022-02-01"):
        backtest(seed_claims, ["2022-02-01"], **FAST)
    with pytest.raises(ValueError, match="at least one date"):
        backtest(seed_claims, [], **FAST)
