"""save_figure: PNG, SVG and PDF, atomically, the same bytes for the same figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from casualty_models import plots as plotting


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _figure():
    fig, axes = plt.subplots(1, 2, figsize=(4, 2), layout="constrained")
    axes[0].plot([1, 2, 3], [3, 1, 2], "o-")
    axes[1].set_title("ten × 1,000")
    return fig, axes


def test_writes_each_format_beside_the_path(tmp_path):
    fig, _ = _figure()
    written = plotting.save_figure(fig, tmp_path / "out" / "panels.png")
    assert written == [tmp_path / "out" / "panels.png", tmp_path / "out" / "panels.svg"]
    assert written[0].read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in written[1].read_bytes()[:500]
    pdf = plotting.save_figure(fig, tmp_path / "out" / "panels", formats=("pdf",))
    assert pdf[0].name == "panels.pdf" and pdf[0].read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "panels.pdf",
        "panels.png",
        "panels.svg",
    ]  # no temporary file left behind


def test_same_figure_same_bytes(tmp_path):
    fig, _ = _figure()
    for fmt in ("png", "svg", "pdf"):
        one = plotting.save_figure(fig, tmp_path / "one", formats=[fmt])[0].read_bytes()
        two = plotting.save_figure(fig, tmp_path / "two", formats=[fmt])[0].read_bytes()
        assert one == two, fmt


def test_size_and_resolution(tmp_path):
    from PIL import Image

    fig, axes = _figure()
    web = plotting.save_figure(fig, tmp_path / "web", formats="png")[0]
    assert Image.open(web).size == (4 * plotting.WEB_DPI, 2 * plotting.WEB_DPI)
    printed = plotting.save_figure(
        axes, tmp_path / "print", formats="png", dpi=plotting.PRINT_DPI, figsize=(7, 3)
    )[0]
    assert Image.open(printed).size == (7 * plotting.PRINT_DPI, 3 * plotting.PRINT_DPI)
    assert tuple(fig.get_size_inches()) == (4, 2)  # the figure itself is left as it was
    one_ax = plotting.save_figure(axes[1], tmp_path / "ax", formats="png", dpi=50)[0]
    assert Image.open(one_ax).size == (200, 100)


def test_bad_arguments_are_errors(tmp_path):
    fig, _ = _figure()
    with pytest.raises(ValueError, match="formats"):
        plotting.save_figure(fig, tmp_path / "x", formats=("png", "jpeg"))
    with pytest.raises(ValueError, match="formats"):
        plotting.save_figure(fig, tmp_path / "x", formats=())
    with pytest.raises(ValueError, match="dpi"):
        plotting.save_figure(fig, tmp_path / "x", dpi=0)
    with pytest.raises(TypeError, match="Figure or Axes"):
        plotting.save_figure(np.array([]), tmp_path / "x")
    assert not list(tmp_path.iterdir())


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    fig, _ = _figure()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        plotting.save_figure(fig, tmp_path / "x")
    assert not list(tmp_path.iterdir())
