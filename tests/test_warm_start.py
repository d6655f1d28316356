"""fit(warm_start=...): an update starts from the previous posterior, and agrees with a
cold fit of the same claims within Monte Carlo error; a changed shape falls back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest

import casualty_models as cm
from casualty_models import WarmStartWarning


def _update(claims: cm.ClaimSet) -> cm.ClaimSet:
    """One new figure from a speaker already there, inside the grid: same parameters."""
    first = claims[0]
    assert first.value is not None
    new = dataclasses.replace(
        first, as_of=first.as_of - dt.timedelta(days=1), value=round(first.value * 0.9)
    )
    return claims.add(cm.ClaimSet([new]))


@pytest.mark.mcmc
def test_warm_start_matches_a_cold_fit_within_monte_carlo_error(seed_estimate, tmp_path):
    claims = _update(seed_estimate.claims)
    path = tmp_path / "previous.nc"
    seed_estimate.save(path)  # the warm state travels with a saved estimate
    previous = cm.load(path)
    cold = cm.fit(claims, random_seed=5)
    warm = cm.fit(claims, random_seed=6, warm_start=previous)
    assert warm.attempts[0]["warm"] and "warm start" in warm.attempts[0]["reason"]
    assert not cold.attempts[0]["warm"]
    assert cold.diagnostics.converged and warm.diagnostics.converged
    # Monte Carlo error of a 5%, 50% or 95% quantile on the log scale, for a roughly
    # normal posterior of sd s there and an ESS of at least 400 in each fit: at most
    # sqrt(0.05 * 0.95 / 400) / phi(1.645) * s = 0.106 s; of the difference between
    # two independent fits, 0.15 s. We allow four times that, 0.6 s: a warm start
    # that moved an interval end by more is wrong, not unlucky (a 1-in-15,000 event
    # per end under the normal approximation).
    a = cold.headline().set_index(["side", "category"])
    b = warm.headline().set_index(["side", "category"])
    for key in a.index:
        s = (math.log(a.loc[key, "high_90"]) - math.log(a.loc[key, "low_90"])) / (2 * 1.645)
        for col in ("low_90", "median", "high_90"):
            diff = abs(math.log(a.loc[key, col]) - math.log(b.loc[key, col]))
            assert diff <= 0.6 * s, (key, col, a.loc[key, col], b.loc[key, col])


@pytest.mark.mcmc
def test_warm_start_falls_back_to_a_cold_fit_when_the_shape_changed(seed_estimate):
    claims = seed_estimate.claims
    newcomer = dataclasses.replace(claims[0], source="A new outlet", value=9000)
    with pytest.warns(WarmStartWarning, match="changed"):
        est = cm.fit(claims.add(cm.ClaimSet([newcomer])), random_seed=2, warm_start=seed_estimate)
    first = est.attempts[0]
    assert not first["warm"] and "cold: warm start not possible" in first["reason"]
    assert est.diagnostics.converged
    assert np.isfinite(est.headline()["median"]).all()


def test_warm_start_must_be_an_estimate(seed_claims):
    with pytest.raises(TypeError, match="warm_start"):
        cm.fit(seed_claims, warm_start="previous.nc")
