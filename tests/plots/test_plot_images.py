"""The main figures, pixel by pixel, against baselines in tests/baseline_images/.

The inputs are small and fixed (a made-up posterior, no MCMC), the style is
matplotlib's defaults with its test font settings (DejaVu Sans, no hinting) on the Agg
backend, and the version in the source line is pinned, so the images are the same on
every run. After an intended change of a figure, regenerate the baselines, look at
them, and commit them with the change::

    CASUALTY_MODELS_UPDATE_BASELINES=1 PYTHONPATH=. pytest tests/plots/test_plot_images.py

(the tests then write the baselines and report themselves skipped).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest
from matplotlib.testing import set_font_settings_for_testing, set_reproducibility_for_testing
from matplotlib.testing.compare import compare_images
from plot_helpers import fake_estimate, panels_claims

from casualty_models import plots as plotting
from casualty_models.plots import _style

BASELINES = Path(__file__).resolve().parents[1] / "baseline_images"
UPDATE = os.environ.get("CASUALTY_MODELS_UPDATE_BASELINES") == "1"
TOLERANCE = 2.0  # RMS difference of 0–255 pixel values; a moved mark or colour is ~5+
DPI = 60
VERSION = "0.0.0"


@pytest.fixture
def fixed_style(monkeypatch):
    monkeypatch.setattr(_style, "__version__", VERSION)
    with mpl.rc_context():
        mpl.rcdefaults()
        set_font_settings_for_testing()
        set_reproducibility_for_testing()
        yield
    plt.close("all")


@pytest.fixture(scope="module")
def est():
    return fake_estimate(
        panels_claims(),
        start=dt.date(2022, 2, 24),
        as_of=dt.date(2022, 4, 10),
        rates={("north", "killed"): 45.0, ("south", "killed"): 35.0},
        version=VERSION,
    )


def _check(fig, name: str, tmp_path: Path) -> None:
    actual = tmp_path / f"{name}.png"
    fig.savefig(actual, dpi=DPI, metadata={"Software": None})
    expected = BASELINES / f"{name}.png"
    if UPDATE:
        BASELINES.mkdir(exist_ok=True)
        shutil.copyfile(actual, expected)
        pytest.skip(f"wrote {expected}")
    if not expected.exists():
        pytest.fail(f"no baseline {expected}: see this module's docstring to make one")
    diff = compare_images(str(expected), str(actual), tol=TOLERANCE)
    assert diff is None, diff


def test_panels(fixed_style, est, tmp_path):
    axes = plotting.plot_panels(est)
    _check(axes[0].figure, "panels", tmp_path)


def test_panels_log(fixed_style, est, tmp_path):
    axes = plotting.plot_panels(est, log=True, level=0.5)
    _check(axes[0].figure, "panels_log", tmp_path)


def test_claims(fixed_style, est, tmp_path):
    ax = plotting.plot_claims(est)
    _check(ax.figure, "claims", tmp_path)


def test_sources(fixed_style, est, tmp_path):
    ax = plotting.plot_sources(est)
    _check(ax.figure, "sources", tmp_path)


def test_a_changed_figure_fails(fixed_style, est, tmp_path, monkeypatch):
    """The tolerance is tight enough to see one source type's colour change."""
    if UPDATE or not (BASELINES / "sources.png").exists():
        pytest.skip("needs the sources baseline")
    colours = {**_style.SOURCE_TYPE_COLORS, "own": "#e69f00"}
    monkeypatch.setattr(_style, "SOURCE_TYPE_COLORS", colours)
    ax = plotting.plot_sources(est)
    with pytest.raises(AssertionError, match="Image files did not match"):
        _check(ax.figure, "sources", tmp_path)
