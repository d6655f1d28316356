"""plot_backtest: the vintages, and every kind of level claim at its date."""

from __future__ import annotations

import datetime as dt

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pytest

import casualty_models as cm


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


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
