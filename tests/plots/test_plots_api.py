"""Plots: one Axes each, drawn on a given Axes when asked; the accessor; the palette."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.axes import Axes

from casualty_models import plots as plotting
from casualty_models.claims import SOURCE_TYPES


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_every_source_type_has_one_colour():
    assert set(plotting.SOURCE_TYPE_COLORS) == set(SOURCE_TYPES)
    assert len(set(plotting.SOURCE_TYPE_COLORS.values())) == len(SOURCE_TYPES)


def test_accessor_delegates_to_the_functions(monkeypatch):
    calls = []
    for name in ("plot_claims", "plot_timeline", "plot_sources", "plot_drift"):
        monkeypatch.setattr(
            plotting, name, lambda est, _n=name, **kw: calls.append((_n, est, kw)) or _n
        )
    acc = plotting.PlotAccessor("EST")
    assert acc.claims(level=0.5) == "plot_claims"
    assert acc.timeline(series="a|b") == "plot_timeline"
    assert acc.sources() == "plot_sources"
    assert acc.drift(level=0.8) == "plot_drift"
    assert calls == [
        ("plot_claims", "EST", {"level": 0.5}),
        ("plot_timeline", "EST", {"series": "a|b"}),
        ("plot_sources", "EST", {}),
        ("plot_drift", "EST", {"level": 0.8}),
    ]


def _medians(ax):
    return [ln for ln in ax.get_lines() if ln.get_gid() == "series-median"]


# ------------------------------------------------------------------------ all of them
PLOTS = [plotting.plot_claims, plotting.plot_timeline, plotting.plot_sources]


@pytest.mark.mcmc
@pytest.mark.parametrize("plot", PLOTS, ids=lambda f: f.__name__)
def test_plots_draw_on_the_given_axes(seed_estimate, plot):
    fig, ax = plt.subplots()
    assert plot(seed_estimate, ax=ax) is ax
    assert fig.axes == [ax]
    assert ax.get_title(loc="left")


@pytest.mark.mcmc
@pytest.mark.parametrize("plot", PLOTS, ids=lambda f: f.__name__)
def test_plots_share_a_grid_of_axes(seed_estimate, plot):
    _fig, axes = plt.subplots(1, 2)
    assert plot(seed_estimate, ax=axes[1]) is axes[1]
    assert not axes[0].has_data()


@pytest.mark.mcmc
def test_estimate_plot_accessor(seed_estimate):
    assert isinstance(seed_estimate.plot, plotting.PlotAccessor)
    assert isinstance(seed_estimate.plot.claims(), Axes)
    assert len(_medians(seed_estimate.plot.timeline(series="ukraine|killed"))) == 1
    assert isinstance(seed_estimate.plot.sources(level=0.5), Axes)


# ------------------------------------------------------------------ no MCMC needed
def test_accessor_panels_delegates(monkeypatch):
    calls = []
    monkeypatch.setattr(plotting, "plot_panels", lambda est, **kw: calls.append((est, kw)) or "p")
    assert plotting.PlotAccessor("EST").panels(log=True) == "p"
    assert calls == [("EST", {"log": True})]
    assert ".panels()" in repr(plotting.PlotAccessor("EST"))


def test_plots_size_their_own_figure():
    from conftest import SEED_CSV, offline_estimate

    import casualty_models as cm

    est = offline_estimate(cm.read_claims(SEED_CSV))
    few = plotting.plot_claims(est, max_rows=2).figure.get_size_inches()
    every = plotting.plot_claims(est).figure.get_size_inches()
    assert few[0] == every[0] and few[1] < every[1]  # taller with more rows
    for plot in (plotting.plot_claims, plotting.plot_sources, plotting.plot_timeline):
        ax = plot(est, figsize=(5.0, 4.0))
        assert tuple(ax.figure.get_size_inches()) == (5.0, 4.0)
        assert plt.get_fignums()  # a pyplot figure: shown in a notebook, closed by the caller
