"""Plots: one Axes each, drawn on a given Axes when asked, showing what they claim to."""

from __future__ import annotations

import dataclasses
import datetime as dt

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_hex

import casualty_models as cm
from casualty_models import plots as plotting
from casualty_models.claims import SOURCE_TYPES


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _with_claims(est, change):
    """The same fit with claim text/values changed (same count and order): cheap, no refit."""
    claims = cm.ClaimSet(
        [cm.Claim(**{**c.__dict__, **change(i, c)}) for i, c in enumerate(est.claims)]
    )
    return dataclasses.replace(est, claims=claims)


# ------------------------------------------------------------------ no MCMC needed
def test_plot_backtest_draws_every_kind_of_level_claim():
    """Points, ranges, floors and ceilings of the series are drawn; a window count and
    another series are not; claims published after the first vintage are hollow."""
    import pandas as pd

    from casualty_models.backtest import Backtest

    def claim(as_of, reported, **figure):
        return cm.Claim(
            source=f"S{as_of}",
            source_type="neutral",
            side="a",
            category=figure.pop("category", "killed"),
            as_of=as_of,
            reported=reported,
            period_start=figure.pop("period_start", "2022-01-01"),
            citation="made up for a test",
            **figure,
        )

    claims = cm.ClaimSet(
        [
            claim("2022-01-10", "2022-01-10", value=100),
            claim("2022-01-20", "2022-02-05", value=300),  # published after the first vintage
            claim("2022-01-25", "2022-01-25", low=150, high=400),
            claim("2022-01-28", "2022-01-28", low=90),
            claim("2022-01-30", "2022-01-30", high=900),
            claim("2022-01-31", "2022-01-31", value=40, period_start="2022-01-20"),  # window
            claim("2022-01-29", "2022-01-29", value=55, category="wounded"),  # other series
        ]
    )
    vintages = pd.to_datetime(["2022-02-01", "2022-03-01"])
    history = pd.DataFrame(
        {
            "as_reported_on": vintages,
            "side": "a",
            "category": "killed",
            "median": [200.0, 320.0],
            "low_50": [170.0, 290.0],
            "high_50": [240.0, 350.0],
            "low_90": [120.0, 250.0],
            "high_90": [330.0, 420.0],
        }
    )
    ax = Backtest(claims, history, dt.date(2022, 1, 1)).plot()
    drawn = [ln for ln in ax.get_lines() if ln.get_label().startswith("_")]
    days = [mdates.num2date(ln.get_xdata(orig=False)[0]).date().isoformat() for ln in drawn]
    assert sorted(days) == ["2022-01-10", "2022-01-20", "2022-01-25", "2022-01-28", "2022-01-30"]
    by_day = dict(zip(days, drawn, strict=True))
    assert list(by_day["2022-01-25"].get_ydata()) == [150, 400]
    assert by_day["2022-01-20"].get_markerfacecolor() == "none"
    assert by_day["2022-01-10"].get_markerfacecolor() != "none"
    assert len(ax.texts) == 2  # the floor's and the ceiling's arrows
    assert ax.get_ylim()[0] < 90 and ax.get_ylim()[1] > 900
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "claimed range" in labels and "“at least” figure" in labels
    assert "published after the first estimate" in labels


def test_every_source_type_has_one_colour():
    assert set(plotting.SOURCE_TYPE_COLORS) == set(SOURCE_TYPES)
    assert len(set(plotting.SOURCE_TYPE_COLORS.values())) == len(SOURCE_TYPES)


def test_row_selection_keeps_surprising_claims_and_order():
    surprising = np.zeros(100, dtype=bool)
    surprising[[3, 97]] = True
    rows = plotting._select_rows(100, surprising, 10)
    assert len(rows) == 10
    assert {3, 97} <= set(rows.tolist())
    assert list(rows) == sorted(set(rows.tolist()))
    assert list(plotting._select_rows(5, np.zeros(5, dtype=bool), 10)) == [0, 1, 2, 3, 4]
    assert len(plotting._select_rows(100, surprising, None)) == 100


def test_curve_labels_are_spread_apart_in_order():
    out = plotting._spread_labels(np.array([0.50, 0.51, 0.20, 0.99]), gap=0.05)
    order = np.argsort(out)
    assert list(order) == [2, 0, 1, 3]
    assert np.all(np.diff(np.sort(out)) >= 0.05 - 1e-12)
    assert out.max() <= 0.98 + 1e-12


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


# ------------------------------------------------------------------------- plot_claims
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
    # the claim's own marks are in its source type's colour
    dots = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    point_types = [c.source_type for c in seed_estimate.claims if c.kind == "point"]
    assert sorted(to_hex(d.get_color()) for d in dots) == sorted(
        plotting.SOURCE_TYPE_COLORS[t] for t in point_types
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
    wild = _with_claims(seed_estimate, lambda i, c: {"value": c.value * 1000} if i == 0 else {})
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
    est = _with_claims(seed_estimate, lambda i, c: {"source": f"Fund $x^{i}$ {c.source}"})
    ax = plotting.plot_claims(est)
    ax.figure.canvas.draw()  # mathtext errors would surface here
    assert ax.get_yticklabels()[0].get_text().startswith(r"Fund \$x^0\$")


# ---------------------------------------------------------------------- plot_timeline
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
    est = _with_claims(
        seed_estimate, lambda i, c: {"period_start": dt.date(2022, 2, 26)} if i == 2 else {}
    )
    ax = plotting.plot_timeline(est, series="russia|killed")
    notes = [t.get_text() for t in ax.texts if t.get_gid() == "skipped-note"]
    assert len(notes) == 1 and notes[0].startswith("1 claim ")
    full = plotting.plot_timeline(seed_estimate, series="russia|killed")
    dots = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    full_dots = [ln for ln in full.get_lines() if ln.get_marker() == "o"]
    assert len(dots) == len(full_dots) - 1


@pytest.mark.mcmc
def test_plot_timeline_log_scale_on_request(seed_estimate):
    assert plotting.plot_timeline(seed_estimate, log=True).get_yscale() == "log"
    assert plotting.plot_timeline(seed_estimate, log=False).get_yscale() == "linear"


# ----------------------------------------------------------------------- plot_sources
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
