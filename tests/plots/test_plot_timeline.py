"""plot_timeline: the cumulative curves with the claims at their dates."""

from __future__ import annotations

import datetime as dt

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from plot_helpers import with_claims

from casualty_models import plots as plotting
from casualty_models.plots import timeline


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_curve_labels_are_spread_apart_in_order():
    out = timeline._spread_labels(np.array([0.50, 0.51, 0.20, 0.99]), gap=0.05)
    order = np.argsort(out)
    assert list(order) == [2, 0, 1, 3]
    assert np.all(np.diff(np.sort(out)) >= 0.05 - 1e-12)
    assert out.max() <= 0.98 + 1e-12


def _medians(ax):
    return [ln for ln in ax.get_lines() if ln.get_gid() == "series-median"]


@pytest.mark.mcmc
def test_plot_timeline_one_curve_per_series(seed_estimate):
    ax = plotting.plot_timeline(seed_estimate)
    assert isinstance(ax, Axes)
    lines = _medians(ax)
    assert len(lines) == len(seed_estimate.inputs.series) == 2
    assert [ln.get_label() for ln in lines] == [f"{s} {c}" for s, c in seed_estimate.inputs.series]
    n_days = seed_estimate.inputs.grid.n_days
    assert all(len(ln.get_xdata()) == n_days for ln in lines)
    summ = seed_estimate.summary()
    first = summ[(summ.side == "russia") & (summ.category == "killed")]["median"].to_numpy()
    np.testing.assert_allclose(np.asarray(lines[0].get_ydata(), dtype=float), first)
    # the dotted as_of line
    as_of = mdates.date2num(seed_estimate.settings.as_of)
    dotted = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
    assert any(ln.get_xdata()[0] == as_of for ln in dotted)
    assert not [t for t in ax.texts if t.get_gid() == "skipped-note"]


@pytest.mark.mcmc
@pytest.mark.parametrize("series", [("russia", "killed"), "russia|killed"])
def test_plot_timeline_one_series(seed_estimate, series):
    ax = plotting.plot_timeline(seed_estimate, series=series)
    assert [ln.get_label() for ln in _medians(ax)] == ["russia killed"]
    assert "russia killed" in ax.get_title(loc="left")


@pytest.mark.mcmc
@pytest.mark.parametrize("bad", ["russia|wounded", "russia", ("x",), 3])
def test_plot_timeline_unknown_series_is_an_error(seed_estimate, bad):
    with pytest.raises(ValueError, match="series"):
        plotting.plot_timeline(seed_estimate, series=bad)


@pytest.mark.mcmc
def test_plot_timeline_skips_window_claims_and_says_so(seed_estimate):
    # claim 2 (Russian MoD on its own dead, as of 03-02) now counts 02-26..03-02 only
    est = with_claims(
        seed_estimate, lambda i, c: {"period_start": dt.date(2022, 2, 26)} if i == 2 else {}
    )
    ax = plotting.plot_timeline(est, series="russia|killed")
    notes = [t.get_text() for t in ax.texts if t.get_gid() == "skipped-note"]
    assert len(notes) == 1 and notes[0].startswith("1 claim ")
    full = plotting.plot_timeline(seed_estimate, series="russia|killed")
    dots = [ln for ln in ax.get_lines() if ln.get_gid() == "claim"]
    full_dots = [ln for ln in full.get_lines() if ln.get_gid() == "claim"]
    assert len(dots) == len(full_dots) - 1


@pytest.mark.mcmc
def test_plot_timeline_log_scale_on_request(seed_estimate):
    assert plotting.plot_timeline(seed_estimate, log=True).get_yscale() == "log"
    assert plotting.plot_timeline(seed_estimate, log=False).get_yscale() == "linear"
