"""plot_sources and plot_drift: the speakers' bias factors."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_hex

from casualty_models import plots as plotting


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.mcmc
def test_plot_sources_one_row_per_speaker(seed_estimate):
    src = seed_estimate.sources()
    ax = plotting.plot_sources(seed_estimate)
    assert isinstance(ax, Axes)
    assert len(ax.figure.axes) == 1
    assert ax.get_xscale() == "log"
    assert len(ax.get_yticks()) == len(src) == 4
    medians = [ln for ln in ax.get_lines() if ln.get_gid() == "bias-median"]
    np.testing.assert_allclose([ln.get_xdata()[0] for ln in medians], src["bias_factor"])
    assert [to_hex(ln.get_color()) for ln in medians] == [
        plotting.SOURCE_TYPE_COLORS[t] for t in src["source_type"]
    ]
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "×1" in ticks and all(t.startswith("×") for t in ticks)
    assert any(ln.get_xdata()[0] == 1.0 and ln.get_xdata()[-1] == 1.0 for ln in ax.get_lines())
