"""plot_panels: one panel per series, extrapolation drawn apart, one palette (no MCMC)."""

from __future__ import annotations

import datetime as dt

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex, to_rgba
from plot_helpers import fake_estimate, panels_claims

import casualty_models as cm
from casualty_models import plots as plotting
from casualty_models.estimate import EXTRAPOLATION_HORIZON_DAYS
from casualty_models.plots import panels

START, AS_OF = dt.date(2022, 2, 24), dt.date(2022, 4, 10)
RATES = {("north", "killed"): 45.0, ("south", "killed"): 35.0, ("north", "captured"): 3.0}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def est():
    return fake_estimate(panels_claims(), start=START, as_of=AS_OF, rates=RATES)


@pytest.fixture(scope="module")
def with_captured():
    """Adds a captured series whose only claim is older than the horizon."""
    old = cm.Claim(
        source="Exchange",
        source_type="neutral",
        side="north",
        category="captured",
        as_of=START + dt.timedelta(days=2),
        value=12,
        citation="made up for a test",
    )
    claims = panels_claims().add(old)
    as_of = START + dt.timedelta(days=EXTRAPOLATION_HORIZON_DAYS + 20)
    return fake_estimate(claims, start=START, as_of=as_of, rates=RATES)


def _gid(ax, gid):
    return [ln for ln in ax.get_lines() if ln.get_gid() == gid]


def _bands(ax, gid):
    return [c for c in ax.collections if c.get_gid() == gid]


def _days(line):
    return [d.date() for d in mdates.num2date(line.get_xdata(orig=False))]


def test_default_is_the_killed_count_of_each_side(with_captured):
    axes = plotting.plot_panels(with_captured)
    assert [ax.get_title(loc="left") for ax in axes] == ["north killed", "south killed"]
    every = plotting.plot_panels(with_captured, series="all")
    assert [ax.get_title(loc="left") for ax in every] == [
        "north killed",
        "south killed",
        "north captured",
    ]
    one = plotting.plot_panels(with_captured, series="south|killed")
    assert [ax.get_title(loc="left") for ax in one] == ["south killed"]
    two = plotting.plot_panels(with_captured, series=[("south", "killed"), "north|captured"])
    assert [ax.get_title(loc="left") for ax in two] == ["south killed", "north captured"]
    with pytest.raises(ValueError, match="no series south\\|wounded"):
        plotting.plot_panels(with_captured, series=["south|wounded"])
    with pytest.raises(ValueError, match="empty"):
        plotting.plot_panels(with_captured, series=[])


def test_one_panel_per_series_on_a_shared_date_axis(est):
    axes = plotting.plot_panels(est)
    assert isinstance(axes, np.ndarray) and len(axes) == 2
    fig = axes[0].figure
    assert list(fig.axes) == list(axes)
    assert axes[0].get_shared_x_axes().joined(axes[0], axes[1])
    assert axes[0].get_xlim() == axes[1].get_xlim()
    assert all(ax.get_yscale() == "linear" and ax.get_ylim()[0] == 0 for ax in axes)
    assert all(ax.get_yscale() == "log" for ax in plotting.plot_panels(est, log=True))
    # the estimated and the extrapolated medians together are the summary's median
    summ = est.summary()
    north = summ[summ["side"] == "north"]
    drawn = np.concatenate(
        [
            _gid(axes[0], "median")[0].get_ydata(),
            _gid(axes[0], "median-extrapolated")[0].get_ydata()[1:],
        ]
    )
    np.testing.assert_allclose(drawn, north["median"])
    # headline top right, source line at the bottom, one legend
    head = est.headline().set_index("side")
    assert axes[1].get_title(loc="right").startswith("2022-04-10: 1,600 (90%: ")
    assert head.loc["south", "median"] == pytest.approx(1600, rel=0.02)
    assert fig._supxlabel.get_text() == plotting._style.estimate_source(est)
    assert axes[-1].get_legend() is not None and axes[0].get_legend() is None


def test_extrapolated_stretch_is_drawn_apart(est):
    axes = plotting.plot_panels(est, level=0.8)
    south = axes[1]
    last = est.headline().set_index("side").loc["south", "last_claim"].date()
    (solid,) = _gid(south, "median")
    (dashed,) = _gid(south, "median-extrapolated")
    assert solid.get_linestyle() == "-" and dashed.get_linestyle() == "--"
    assert _days(solid)[-1] == last == _days(dashed)[0]  # they join on the last claim
    assert _days(dashed)[-1] == AS_OF
    for level in ("80", "50"):
        (informed,) = _bands(south, f"band-{level}")
        (extrapolated,) = _bands(south, f"band-{level}-extrapolated")
        assert not informed.get_hatch() and extrapolated.get_hatch() == panels.EXTRAPOLATED_HATCH
        assert extrapolated.get_facecolor()[0][3] < informed.get_facecolor()[0][3]
    notes = [t.get_text() for t in south.texts if t.get_gid() == "panel-note"]
    assert f"extrapolated after the last claim, {last}" in notes[0]
    legend = [t.get_text() for t in south.get_legend().get_texts()]
    assert "extrapolated: no claims after that date" in legend and "80% interval" in legend


def test_a_series_past_its_horizon_stops_where_its_headline_does(with_captured):
    (ax,) = plotting.plot_panels(with_captured, series="north|captured")
    head = with_captured.headline().set_index("category").loc["captured"]
    assert not head["estimable"]
    (dashed,) = _gid(ax, "median-extrapolated")
    assert _days(dashed)[-1] == head["estimable_until"].date()
    assert ax.get_title(loc="right") == (
        f"not estimable on {with_captured.settings.as_of}: no claim since "
        f"{head['last_claim'].date()}"
    )


def test_claims_use_the_one_palette_and_shapes(est):
    axes = plotting.plot_panels(est)
    figures = est.claim_figures()
    for ax, side in zip(axes, ["north", "south"], strict=True):
        mine = figures[(figures["side"] == side) & figures["cumulative"]]
        marks = _gid(ax, "claim")
        assert len(marks) == len(mine)
        got = sorted((to_hex(m.get_color()), m.get_marker()) for m in marks)
        want = sorted(
            (plotting.SOURCE_TYPE_COLORS[t], plotting.SOURCE_TYPE_MARKERS[t])
            for t in mine["source_type"]
        )
        assert got == want
    # the same source type looks the same in the claims plot
    rows = plotting.plot_claims(est)
    claims_marks = {(to_hex(m.get_color()), m.get_marker()) for m in _gid(rows, "claim")}
    panel_marks = {
        (to_hex(m.get_color()), m.get_marker()) for ax in axes for m in _gid(ax, "claim")
    }
    assert panel_marks <= claims_marks
    # the legend shows each type present as its mark
    legend = axes[-1].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    for t in set(figures["source_type"]):
        handle = legend.legend_handles[labels.index(plotting.SOURCE_TYPE_LABELS[t])]
        assert handle.get_marker() == plotting.SOURCE_TYPE_MARKERS[t]
        assert to_rgba(handle.get_color()) == to_rgba(plotting.SOURCE_TYPE_COLORS[t])


def test_window_claims_are_noted_and_left_out_claims_hollow():
    claims = panels_claims().add(
        cm.Claim(
            source="Wire",
            source_type="independent",
            side="north",
            category="killed",
            as_of="2022-03-20",
            value=1000,
            derived_from="Ministry A",  # an echo: shown, but not evidence
            citation="made up for a test",
        )
    )
    est = fake_estimate(claims, start=START, as_of=AS_OF, rates=RATES)
    north, south = plotting.plot_panels(est)
    hollow = [m for m in _gid(north, "claim") if m.get_markerfacecolor() == "none"]
    assert len(hollow) == 1 and list(hollow[0].get_ydata()) == [1000]
    assert "claim left out of the fit" in " ".join(
        t.get_text() for t in south.get_legend().get_texts()
    )
    notes = " ".join(t.get_text() for t in south.texts if t.get_gid() == "panel-note")
    assert "1 claim counting a later window not shown" in notes


def test_draws_into_given_axes_and_the_accessor(est):
    fig, given = plt.subplots(3, 1)
    axes = plotting.plot_panels(est, axes=given, source_line=False)
    assert list(axes) == list(given[:2]) and fig._supxlabel is None
    assert not given[2].has_data()
    with pytest.raises(ValueError, match="2 series need 2 axes"):
        plotting.plot_panels(est, axes=given[:1])
    via = est.plot.panels(series="north|killed", figsize=(6, 3))
    assert len(via) == 1 and tuple(via[0].figure.get_size_inches()) == (6, 3)


def test_four_series_make_two_columns():
    claims = panels_claims()
    more = [
        cm.Claim(**{**c.__dict__, "side": c.side + "-2"}) for c in claims if c.period_start is None
    ]
    rates = {**RATES, ("north-2", "killed"): 20.0, ("south-2", "killed"): 10.0}
    est = fake_estimate(claims.add(*more), start=START, as_of=AS_OF, rates=rates)
    axes = plotting.plot_panels(est)
    assert len(axes) == 4
    columns = {round(ax.get_position().x0, 2) for ax in axes}
    assert len(columns) == 2
    assert pd.Series([ax.get_title(loc="left") for ax in axes]).str.endswith("killed").all()
