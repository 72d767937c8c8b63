"""3D snapshots: the right object lights up in viridis, labels are legible and apart, the
gripper and the goal arrow are where the answer says, the colour bar has the fixed range."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from matplotlib import colors as mcolors
from matplotlib.text import Annotation
from picture_helpers import BALL, BOX, object_box, png_pixels, viridis_distance
from picture_helpers import near as pixels_near

from lerf_ros.targets.grasps import gripper_segments
from lerf_ros.visualize.labels import project
from lerf_ros.visualize.snapshot import (
    DPI,
    FIGSIZE,
    GOAL_COLOUR,
    GRIPPER_COLOUR,
    goal_heading,
    save_figure,
    save_snapshots,
    snapshot_figure,
)
from lerf_ros.visualize.views import VIEWPOINTS, view_region

WIDTH, HEIGHT = round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI)


def pixel(fig, point) -> tuple[float, float]:
    """(column, row) of a 3D point in the PNG of ``fig`` (whose 3D axes is the first)."""
    x, y = project(fig.axes[0], np.asarray(point))[0]
    return float(x), float(HEIGHT - y)


def colour_distance(pixels: np.ndarray, colour: str) -> np.ndarray:
    rgb = np.asarray(mcolors.to_rgb(colour)) * 255.0
    return np.linalg.norm(pixels.astype(np.float64) - rgb, axis=-1)


def labels(fig) -> list[Annotation]:
    return [t for t in fig.axes[0].texts if isinstance(t, Annotation)]


@pytest.mark.parametrize("viewpoint", list(VIEWPOINTS))
def test_snapshot_lights_up_the_peak_not_the_other_object(toy_answer, viewpoint, tmp_path):
    toy_answer.grasps = []  # seen from above, the gripper would cover the peak's centre
    fig = snapshot_figure(toy_answer, viewpoint)
    assert fig._suptitle.get_text() == '"red ball"'
    subtitle = " ".join(t.get_text() for t in fig.texts)
    assert "best peak (-0.30, +0.20, +0.83) m in frame 'map', 0.95" in subtitle
    path = save_figure(fig, tmp_path / f"{viewpoint}.png")
    image = png_pixels(path)
    assert image.shape == (HEIGHT, WIDTH, 3)
    # Inside the peak's ring: the sphere's points, viridis-bright (relevancy ~0.95).
    column, row = pixel(fig, BALL)
    assert 0 < column < WIDTH and 0 < row < HEIGHT
    inner = pixels_near(image, column, row, radius=8)
    assert np.mean(viridis_distance(inner) < 40) > 0.5, viridis_distance(inner).mean()
    if viewpoint != "closeup":  # the irrelevant box is in the picture, in its own colour
        column, row = pixel(fig, BOX + np.array([0, 0, 0.08]))
        box_pixels = pixels_near(image, column, row, radius=6)
        assert np.mean(viridis_distance(box_pixels) < 40) < 0.1
        assert np.mean(box_pixels[:, 2] > box_pixels[:, 0] + 30) > 0.5  # blueish


def test_labels_name_the_query_and_score_and_do_not_overlap(toy_answer):
    toy_answer.peaks += [
        type(toy_answer.peaks[0])(
            position=BALL + np.array([0.05, 0.02, 0.0]), relevancy=0.7, extent=0.05
        ),
        type(toy_answer.peaks[0])(
            position=BALL + np.array([-0.04, 0.05, 0.0]), relevancy=0.6, extent=0.05
        ),
    ]
    for viewpoint in VIEWPOINTS:
        fig = snapshot_figure(toy_answer, viewpoint)
        texts = labels(fig)
        assert [t.get_text() for t in texts] == ["#1 red ball: 0.95", "#2: 0.70", "#3: 0.60"]
        assert texts[0].get_fontsize() >= 12 and texts[1].get_fontsize() >= 10
        renderer = fig.canvas.get_renderer()
        fig.canvas.draw()
        boxes = [t.get_bbox_patch().get_window_extent(renderer) for t in texts]
        for i, box in enumerate(boxes):
            assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1)
            for other in boxes[i + 1 :]:
                assert not box.overlaps(other), (viewpoint, box, other)
        legend = fig.axes[0].get_legend().get_window_extent(renderer)
        assert not any(box.overlaps(legend) for box in boxes), viewpoint


def test_legend_and_colour_bar_explain_the_colours(toy_answer):
    fig = snapshot_figure(toy_answer, "oblique")
    entries = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(e.startswith("surface (RGB") for e in entries)
    assert any(e.startswith("relevancy") for e in entries)
    assert any(e.startswith("grasp 0.80") and "+x" in e and "+y" in e for e in entries)
    assert any(e.startswith("navigation goal 0.70") for e in entries)
    assert any(e.startswith("peak") for e in entries)
    colour_bar = fig.axes[-1]
    assert colour_bar.get_ylim() == pytest.approx((0.5, 1.0))
    assert "relevancy" in colour_bar.get_ylabel()


def test_gripper_and_goal_arrow_are_drawn_where_the_targets_are(toy_answer, tmp_path):
    fig = snapshot_figure(toy_answer, "oblique")
    image = png_pixels(save_figure(fig, tmp_path / "oblique.png"))
    grasp = toy_answer.grasps[0]
    segments = gripper_segments(grasp)
    palm_centre = segments[2].mean(axis=0)
    gripper = pixels_near(image, *pixel(fig, palm_centre), radius=4)
    assert colour_distance(gripper, GRIPPER_COLOUR).min() < 40
    target = toy_answer.goals[0]
    shaft_middle = np.asarray(target.position) + goal_heading(target) * 0.15
    arrow = pixels_near(image, *pixel(fig, shaft_middle), radius=4)
    assert colour_distance(arrow, GOAL_COLOUR).min() < 40


def test_gripper_geometry_follows_the_pose_convention(toy_answer):
    grasp = toy_answer.grasps[0]  # approach straight down (+x = -z), fingers close along +x
    finger_a, finger_b, palm, wrist = gripper_segments(grasp, finger_length=0.05, clearance=0.01)
    np.testing.assert_allclose(finger_a[0], grasp.position + np.array([0.06, 0, 0]), atol=1e-9)
    np.testing.assert_allclose(finger_b[0], grasp.position - np.array([0.06, 0, 0]), atol=1e-9)
    np.testing.assert_allclose(finger_a[1] - finger_a[0], [0, 0, 0.05], atol=1e-9)
    np.testing.assert_allclose(palm[0] - palm[1], [0.12, 0, 0], atol=1e-9)
    np.testing.assert_allclose(wrist[1], grasp.position + np.array([0, 0, 0.1]), atol=1e-9)
    heading = goal_heading(toy_answer.goals[0])  # yaw 90°: facing +y, towards the ball
    np.testing.assert_allclose(heading, [0, 1, 0], atol=1e-9)


def test_regions_show_the_scene_the_answer_and_a_close_up(toy_answer):
    scene = view_region(toy_answer, VIEWPOINTS["top"])
    answer = view_region(toy_answer, VIEWPOINTS["oblique"])
    close = view_region(toy_answer, VIEWPOINTS["closeup"])
    for low, high in (scene, answer, close):
        assert np.all(low <= BALL) and np.all(high >= BALL)
    assert np.all(scene[0] <= answer[0] + 1e-9) and np.all(answer[1] <= scene[1] + 1e-9)
    assert np.max(close[1] - close[0]) < 0.9
    goal_position = toy_answer.goals[0].position
    assert np.all(answer[0] <= goal_position) and np.all(goal_position <= answer[1])
    # A goal off the observed surface still lies inside the whole-scene picture.
    toy_answer.goals[0].position = np.array([-0.3, -1.5, 0.0])
    low, high = view_region(toy_answer, VIEWPOINTS["top"])
    assert np.all(low <= toy_answer.goals[0].position)


def test_without_peaks_the_scene_is_still_drawn_and_says_so(toy_answer, tmp_path):
    toy_answer.peaks, toy_answer.grasps, toy_answer.goals = [], [], []
    toy_answer.relevancy[:] = 0.3
    paths = save_snapshots(toy_answer, tmp_path)
    assert [p.name for p in paths] == ["red_ball_snapshot_top.png", "red_ball_snapshot_oblique.png"]
    fig = snapshot_figure(toy_answer, "top")
    assert "no peak above relevancy 0.55" in " ".join(t.get_text() for t in fig.texts)
    assert labels(fig) == []


@pytest.mark.slow
def test_trained_engine_snapshots_light_up_the_red_ball(red_ball_answer, tmp_path):
    """The shared synthetic LERF: the best peak of "red ball" is the ball, its pixels are
    viridis-bright in every view, and the other objects stay in their own colours."""
    _, scene, answer = red_ball_answer
    low, high = object_box(scene, "red ball")
    best = np.asarray(answer.peaks[0].position)
    assert np.all(best >= low - 0.05) and np.all(best <= high + 0.05), best
    assert answer.frame_id and np.isfinite(answer.selected_scale)
    assert len(answer.points) == len(answer.colors) == len(answer.relevancy) > 1000
    paths = save_snapshots(answer, tmp_path)
    assert [p.name.rsplit("_", 1)[1] for p in paths] == ["top.png", "oblique.png", "closeup.png"]
    answer = replace(answer, grasps=[])  # a top-down gripper would cover the peak's centre
    for name in ("top", "oblique", "closeup"):
        fig = snapshot_figure(answer, name)
        assert fig._suptitle.get_text() == '"red ball"'
        assert labels(fig)[0].get_text().startswith("#1 red ball: ")
        image = png_pixels(save_figure(fig, tmp_path / f"check_{name}.png"))
        assert image.shape == (HEIGHT, WIDTH, 3)
        ball = pixels_near(image, *pixel(fig, best), radius=8)
        assert np.mean(viridis_distance(ball, low=0.5) < 45) > 0.3, (name, ball.mean(axis=0))
        if name == "top":  # seen from above, the other objects do not light up
            for other in ("blue box", "green can", "purple vase"):
                o_low, o_high = object_box(scene, other)
                top_centre = np.array([*(o_low[:2] + o_high[:2]) / 2, o_high[2]])
                around = pixels_near(image, *pixel(fig, top_centre), radius=5)
                assert np.mean(viridis_distance(around, low=0.5) < 45) < 0.3, other
