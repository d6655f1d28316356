"""plot_claims: one row per claim, the claim beside the model's view of it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from plot_helpers import with_claims

from casualty_models import plots as plotting
from casualty_models.plots import claims as plot_claims_module


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_row_selection_keeps_surprising_claims_and_order():
    surprising = np.zeros(100, dtype=bool)
    surprising[[3, 97]] = True
    rows = plot_claims_module._select_rows(100, surprising, 10)
    assert len(rows) == 10
    assert {3, 97} <= set(rows.tolist())
    assert list(rows) == sorted(set(rows.tolist()))
    assert list(plot_claims_module._select_rows(5, np.zeros(5, dtype=bool), 10)) == [0, 1, 2, 3, 4]
    assert len(plot_claims_module._select_rows(100, surprising, None)) == 100


@pytest.mark.mcmc
def test_plot_claims_one_row_per_claim_on_log_axis(seed_estimate):
    ax = plotting.plot_claims(seed_estimate)
    assert isinstance(ax, Axes)
    assert len(ax.figure.axes) == 1
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == len(seed_estimate.claims) == len(ax.get_yticks())
    for label, c in zip(labels, seed_estimate.claims, strict=True):
        assert label.startswith(f"{c.source} — {c.side}/{c.category}, {c.as_of.isoformat()}")
    assert ax.get_legend() is not None
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "90%" in legend and "claimed range" in legend


@pytest.mark.mcmc
def test_plot_claims_true_count_marks_are_the_posterior_medians(seed_estimate):
    ax = plotting.plot_claims(seed_estimate)
    log_count = np.asarray(seed_estimate.idata.posterior["log_count"])
    expected = np.exp(np.median(log_count.reshape(-1, log_count.shape[-1]), axis=0))
    diamonds = [ln for ln in ax.get_lines() if ln.get_marker() == "D"]
    assert len(diamonds) == len(seed_estimate.claims)
    got = [float(ln.get_xdata()[0]) for ln in sorted(diamonds, key=lambda ln: ln.get_ydata()[0])]
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    # the claim's own marks are in its source type's colour and shape
    marks = [ln for ln in ax.get_lines() if ln.get_gid() == "claim"]
    assert sorted((to_hex(m.get_color()), m.get_marker()) for m in marks) == sorted(
        (plotting.SOURCE_TYPE_COLORS[c.source_type], plotting.SOURCE_TYPE_MARKERS[c.source_type])
        for c in seed_estimate.claims
    )


@pytest.mark.mcmc
def test_plot_claims_level_changes_the_intervals(seed_estimate):
    ax = plotting.plot_claims(seed_estimate, level=0.5)
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "50%" in legend and "90%" not in legend
    with pytest.raises(ValueError, match="level"):
        plotting.plot_claims(seed_estimate, level=1.5)


@pytest.mark.mcmc
def test_plot_claims_highlights_surprising_claims(seed_estimate):
    wild = with_claims(seed_estimate, lambda i, c: {"value": c.value * 1000} if i == 0 else {})
    flagged = wild.claims_check()["surprising"].to_numpy()
    assert flagged[0]
    ax = plotting.plot_claims(wild)
    bands = [p for p in ax.patches if p.get_gid() == "surprising"]
    assert len(bands) == int(flagged.sum())
    tick = ax.get_yticklabels()[0]
    assert to_hex(tick.get_color()) == plotting.SURPRISE_TEXT_COLOR
    plain = plotting.plot_claims(seed_estimate)
    assert len([p for p in plain.patches if p.get_gid() == "surprising"]) == int(
        seed_estimate.claims_check()["surprising"].sum()
    )


@pytest.mark.mcmc
def test_plot_claims_text_is_literal_not_mathtext(seed_estimate):
    est = with_claims(seed_estimate, lambda i, c: {"source": f"Fund $x^{i}$ {c.source}"})
    ax = plotting.plot_claims(est)
    ax.figure.canvas.draw()  # mathtext errors would surface here
    assert ax.get_yticklabels()[0].get_text().startswith(r"Fund \$x^0\$")
