"""Side-by-side view: RGB render | relevancy over it | depth, of the keyframe that sees the
best peak most head-on; the peak's pixel is viridis-bright in the middle panel."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from picture_helpers import near, object_box, png_pixels, viridis_distance

from lerf_ros.cameras.conventions import look_at
from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.query.candidates import project
from lerf_ros.visualize.side_by_side import (
    DPI,
    FIGSIZE,
    best_view,
    render_side_by_side,
    side_by_side_figure,
)
from lerf_ros.visualize.snapshot import save_figure

WIDTH, HEIGHT = round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI)


def toy_view(height=48, width=64) -> dict[str, np.ndarray]:
    rows, cols = np.mgrid[:height, :width]
    blob = ((rows - 20) ** 2 + (cols - 40) ** 2) <= 36
    rgb = np.full((height, width, 3), 0.6, np.float32)
    rgb[blob] = [0.9, 0.1, 0.1]
    return {
        "rgb": rgb,
        "relevancy": np.where(blob, 0.97, 0.2).astype(np.float32),
        "depth": (1.0 + rows / height).astype(np.float32),
        "accumulation": np.where(rows < 4, 0.0, 1.0).astype(np.float32),
    }


def panel_pixel(fig, panel: int, column: float, row: float) -> tuple[float, float]:
    """PNG (column, row) of image pixel (column, row) of a panel (pixel centres at integers)."""
    x, y = fig.axes[panel].transData.transform((column, row))
    return float(x), float(HEIGHT - y)


def test_three_equal_panels_with_colour_bars_and_the_peak_marked(tmp_path):
    view = toy_view()
    fig = side_by_side_figure(view, "red ball", "keyframe 3 of 9", marks=[(40, 20, "#1 0.97")])
    assert fig._suptitle.get_text() == '"red ball"'
    assert "keyframe 3 of 9" in [t.get_text() for t in fig.texts]
    panels = fig.axes[:3]
    titles = [ax.get_title() for ax in panels]
    assert titles[0].startswith("RGB") and "relevancy" in titles[1] and "depth" in titles[2]
    sizes = {tuple(np.round(ax.get_position().size, 3)) for ax in panels}
    assert len(sizes) == 1, sizes  # the colour bars do not shrink one panel
    bar_labels = [ax.get_ylabel() for ax in fig.axes[3:]]
    assert "relevancy" in bar_labels and any("depth" in label for label in bar_labels)
    relevancy_bar = fig.axes[3 + bar_labels.index("relevancy")]
    assert relevancy_bar.get_ylim() == pytest.approx((0.5, 1.0))
    assert any(t.get_text() == "#1 0.97" for t in panels[1].texts)
    image = png_pixels(save_figure(fig, tmp_path / "side.png"))
    assert image.shape == (HEIGHT, WIDTH, 3)
    # The blob is viridis-bright in the heat map and red in the RGB panel.
    heat = near(image, *panel_pixel(fig, 1, 40, 20), radius=4)
    assert np.mean(viridis_distance(heat) < 60) > 0.5
    rgb = near(image, *panel_pixel(fig, 0, 40, 20), radius=4)
    assert np.mean((rgb[:, 0] > 150) & (rgb[:, 1] < 90)) > 0.5
    # Far from the blob the heat map is grey; empty pixels have no depth (white).
    grey = near(image, *panel_pixel(fig, 1, 10, 40), radius=3)
    assert np.all(np.ptp(grey.astype(int), axis=1) < 12)
    empty = near(image, *panel_pixel(fig, 2, 32, 1), radius=2)
    assert np.all(empty > 245)


def test_best_view_is_the_camera_that_looks_straight_at_the_point():
    intrinsics = Intrinsics(64, 48, 50.0, 50.0, 32.0, 24.0)
    target = np.array([0.0, 0.0, 0.8])
    head_on = look_at([0.0, -1.5, 1.2], target)
    off_centre = look_at([1.5, -1.0, 1.2], [0.35, 0.0, 0.8])
    behind = look_at([0.0, 1.5, 1.2], [0.0, 3.0, 1.2])
    frames = [
        SimpleNamespace(intrinsics=intrinsics, c2w=pose) for pose in (off_centre, behind, head_on)
    ]
    assert best_view(frames, target) == 2
    assert best_view(frames[:2], target) == 0
    assert best_view(frames[1:2], target) == 0  # nobody sees it: the last keyframe


@pytest.mark.slow
def test_trained_engine_side_by_side_shows_the_red_ball(red_ball_answer, tmp_path):
    engine, scene, answer = red_ball_answer
    fig, keyframe, view = render_side_by_side(engine, answer)
    frame = engine.keyframes.snapshot()[keyframe]
    assert f"keyframe {keyframe} of " in " ".join(t.get_text() for t in fig.texts)
    # The chosen view sees the ball, and renders it as relevant where the peak projects.
    u, v, z = project(np.asarray([answer.peaks[0].position]), frame.intrinsics, frame.c2w)
    assert z[0] > 0 and 0 <= u[0] < frame.intrinsics.width and 0 <= v[0] < frame.intrinsics.height
    row, column = int(v[0]), int(u[0])
    relevancy = view["relevancy"]
    window = relevancy[row - 2 : row + 3, column - 2 : column + 3]
    # Measured: window median 0.98; the view's median 0.24, 75th percentile 0.26 (the ball can
    # fill more than 1 % of the view, so its own pixels set the top percentiles); the brightest
    # pixel near the peak's projection (the peak is a 3D weighted centre).
    assert np.median(window) > 0.6, window
    assert np.median(window) > np.percentile(relevancy, 75) + 0.3, window
    brightest = np.unravel_index(np.argmax(relevancy), relevancy.shape)
    assert np.hypot(brightest[0] - v[0], brightest[1] - u[0]) < 10, (brightest, u, v)
    assert view["rgb"].shape == (frame.intrinsics.height, frame.intrinsics.width, 3)
    image = png_pixels(save_figure(fig, tmp_path / "side.png"))
    assert image.shape == (HEIGHT, WIDTH, 3)
    # The heat-map panel shows it: the most relevant pixel there is viridis-bright.
    dr, dc = np.unravel_index(np.argmax(window), window.shape)
    at = (column - 2 + dc, row - 2 + dr)
    heat = near(image, *panel_pixel(fig, 1, *at), radius=3).astype(np.float64)
    # overlay(): 65 % colour map over the render greyed to 60 % (the RGB panel beside it); a
    # dark object under a bright colour darkens the mix, so compare the colour map's part.
    under = near(image, *panel_pixel(fig, 0, *at), radius=3).astype(np.float64)
    colour = (heat - 0.35 * 0.6 * under.mean(axis=1, keepdims=True)) / 0.65
    assert np.mean(viridis_distance(colour, low=0.5) < 60) > 0.5
    # Another object's centre in that view is not lit up.
    low, high = object_box(scene, "blue box")
    bu, bv, bz = project(np.asarray([(low + high) / 2]), frame.intrinsics, frame.c2w)
    if bz[0] > 0 and 0 <= bu[0] < frame.intrinsics.width and 0 <= bv[0] < frame.intrinsics.height:
        assert view["relevancy"][int(bv[0]), int(bu[0])] < 0.6
