"""The shared palette and claim marks (no MCMC)."""

from __future__ import annotations

import types

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

from casualty_models import plots as plotting
from casualty_models.claims import SOURCE_TYPES
from casualty_models.plots import _style as st

OKABE_ITO = {
    "#e69f00",
    "#56b4e9",
    "#009e73",
    "#f0e442",
    "#0072b2",
    "#d55e00",
    "#cc79a7",
    "#000000",
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_source_types_have_one_okabe_ito_colour_and_one_shape_each():
    assert set(plotting.SOURCE_TYPE_MARKERS) == set(SOURCE_TYPES)
    assert len(set(plotting.SOURCE_TYPE_MARKERS.values())) == len(SOURCE_TYPES)
    assert set(plotting.SOURCE_TYPE_COLORS.values()) <= OKABE_ITO
    assert "D" not in plotting.SOURCE_TYPE_MARKERS.values()  # the model's true count
    assert st.marker("rumour") not in plotting.SOURCE_TYPE_MARKERS.values()


def _row(kind, source_type="enemy", value=np.nan, low=np.nan, high=np.nan):
    return types.SimpleNamespace(
        kind=kind, source_type=source_type, value=value, low=low, high=high
    )


@pytest.mark.parametrize("vertical", [True, False])
def test_every_kind_of_claim_is_one_mark_in_its_type_colour_and_shape(vertical):
    _fig, ax = plt.subplots()
    rows = [
        _row("point", value=10),
        _row("range", "own", low=5, high=20),
        _row("floor", "neutral", low=7),
        _row("ceiling", "tally", high=30),
        _row("central", "independent", value=12, low=8, high=15),
    ]
    figures = [st.draw_claim(ax, r, float(k), vertical=vertical) for k, r in enumerate(rows)]
    assert figures == [[10], [5, 20], [7], [30], [8, 12, 15]]
    marks = [ln for ln in ax.get_lines() if ln.get_gid() == "claim"]
    assert len(marks) == len(rows)
    for mark, r in zip(marks, rows, strict=True):
        assert to_hex(mark.get_color()) == plotting.SOURCE_TYPE_COLORS[r.source_type]
        assert mark.get_marker() == plotting.SOURCE_TYPE_MARKERS[r.source_type]
    values = [m.get_ydata() if vertical else m.get_xdata() for m in marks]
    assert [list(v) for v in values] == [[10], [5, 20], [7], [30], [12]]
    # the central estimate's interval is a bar of its own; floor and ceiling have arrows
    assert len(ax.get_lines()) == len(rows) + 1
    assert len(ax.texts) == 2


def test_hollow_claims_are_unfilled():
    _fig, ax = plt.subplots()
    st.draw_claim(ax, _row("point", value=3), 0.0, vertical=True, hollow=True)
    st.draw_claim(ax, _row("range", low=1, high=4), 1.0, vertical=True, hollow=True)
    point, bar = ax.get_lines()
    assert point.get_markerfacecolor() == "none"
    assert bar.get_markerfacecolor() == "none" and bar.get_linestyle() == ":"


def test_legend_shows_each_type_as_its_mark():
    handles = st.type_handles(["enemy", "own", "enemy", "rumour"])
    assert [label for _, label in handles] == [
        plotting.SOURCE_TYPE_LABELS["own"],
        plotting.SOURCE_TYPE_LABELS["enemy"],
        "rumour",
    ]
    assert [h.get_marker() for h, _ in handles] == ["o", "s", st.marker("rumour")]
    patches = st.type_handles(["own"], shapes=False)
    assert to_hex(patches[0][0].get_facecolor()) == plotting.SOURCE_TYPE_COLORS["own"]


# ------------------------------------------------------------------------ source line
def _source_line(fig):
    label = fig._supxlabel
    return None if label is None else label.get_text()


def test_source_line_names_date_claims_and_version():
    import dataclasses
    import datetime as dt

    from conftest import claim, offline_estimate

    import casualty_models as cm

    est = offline_estimate(cm.ClaimSet([claim(value=10), claim(source="T", value=12)]))
    version = cm.__version__
    assert st.estimate_source(est) == f"as of 2022-03-10 · 2 claims · casualty_models {version}"
    old = dataclasses.replace(est, version="0.0.1")
    assert st.estimate_source(old).endswith(f"casualty_models 0.0.1 (drawn with {version})")
    assert st.source_text() == f"casualty_models {version}"
    assert st.source_text(as_of=dt.date(2024, 1, 2), n_claims=1).startswith(
        "as of 2024-01-02 · 1 claim ·"
    )

    ax = plotting.plot_sources(est)
    assert _source_line(ax.figure) == st.estimate_source(est)
    assert ax.figure._supxlabel.get_gid() == "source-line"
    assert _source_line(plotting.plot_drift(est, source_line=False).figure) is None
    custom = plotting.plot_claims(est, source_line="Data: $ministry")
    assert _source_line(custom.figure) == r"Data: \$ministry"
    # plots sharing a figure write one line between them
    fig, axes = plt.subplots(1, 2)
    plotting.plot_sources(est, ax=axes[0])
    plotting.plot_ppc(est, ax=axes[1])
    assert len(fig.texts) == 1 and _source_line(fig) == st.estimate_source(est)
