"""plot_ppc: the claims' PIT ECDF inside ArviZ's simultaneous band (no MCMC)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from arviz.stats.ecdf_utils import ecdf_confidence_band
from conftest import SEED_CSV, offline_estimate

import casualty_models as cm
from casualty_models import plots as plotting
from casualty_models.plots import checks
from casualty_models.trust import claims_pit


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def est():
    return offline_estimate(cm.read_claims(SEED_CSV))


def test_band_is_arviz_simultaneous_band_and_counts_departures():
    pit = np.array([0.02, 0.03, 0.04, 0.05, 0.06, 0.5, 0.6, 0.7, 0.8, 0.9])
    cal = checks._calibration(pit, 0.9)
    lo, hi = ecdf_confidence_band(len(pit), cal.x, cal.x, prob=0.9, method="optimized")
    np.testing.assert_array_equal(cal.low, lo)
    np.testing.assert_array_equal(cal.high, hi)
    assert cal.x[0] > 0 and cal.x[-1] < 1 and len(cal.x) == 99
    assert cal.outside > 0  # five of ten claims below 0.07 is not uniform
    even = checks._calibration((np.arange(10) + 0.5) / 10, 0.9)
    assert even.outside == 0
    assert checks._verdict(even).endswith("stays inside the band")
    assert checks._verdict(cal).endswith("leaves the band: not calibrated")
    assert checks._verdict(None) == "no point claims to check"


def test_plot_ppc_draws_each_point_claim_on_the_ecdf(est):
    ax = plotting.plot_ppc(est, level=0.8)
    pit = np.sort(claims_pit(est)["pit"].to_numpy())
    n = len(pit)
    dots = [ln for ln in ax.get_lines() if ln.get_gid() == "pit"]
    assert len(dots) == n == sum(c.kind == "point" for c in est.claims)
    np.testing.assert_allclose([d.get_xdata()[0] for d in dots], pit)
    np.testing.assert_allclose([d.get_ydata()[0] for d in dots], np.arange(1, n + 1) / n)
    # the shaded band is ArviZ's band at the requested level
    cal = checks._calibration(pit, 0.8)
    band = next(c for c in ax.collections if c.get_gid() == "band")
    vertices = band.get_paths()[0].vertices
    at_first = vertices[np.isclose(vertices[:, 0], cal.x[0]), 1]
    assert {cal.low[0], cal.high[0]} <= set(at_first.tolist())
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "simultaneous 80% band" in legend
    verdict = next(t for t in ax.texts if t.get_gid() == "verdict").get_text()
    assert verdict == checks._verdict(cal)


def test_plot_ppc_without_point_claims_says_so():
    only_range = cm.ClaimSet([c for c in cm.read_claims(SEED_CSV) if c.kind == "range"])
    ax = plotting.plot_ppc(offline_estimate(only_range))
    verdict = next(t for t in ax.texts if t.get_gid() == "verdict").get_text()
    assert verdict == "no point claims to check"
    assert not [c for c in ax.collections if c.get_gid() == "band"]
