"""The rgbd benchmark's ground-truth measures (cheap: no training) and its registration."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks.rgbd import box_gap, footprint_gap, ray_distance
from benchmarks.run import GROUPS, ON_REQUEST
from lerf_ros.cameras import Intrinsics
from lerf_ros.data.synthetic import SceneObject, default_scene, orbit, render_view


def test_depth_image_becomes_the_distance_the_field_renders():
    scene = default_scene()
    intrinsics = Intrinsics.from_fov(40, 30, math.radians(60))
    view = render_view(scene, intrinsics, orbit(scene.view.target, 1.4, 1.45, 1)[0])
    depth = np.where(np.isfinite(view.depth), view.depth, 0.0)
    depth[0, 0] = 0.0  # no reading
    distance = ray_distance(SimpleNamespace(intrinsics=intrinsics, depth=depth))
    assert np.isnan(distance[0, 0])
    valid = np.isfinite(distance)
    assert valid.mean() > 0.9
    np.testing.assert_allclose(distance[valid], view.distance[valid], rtol=1e-5)


def test_ground_truth_gaps_of_grasps_and_goals():
    box = SceneObject("b", "b", "box", (0.0, 0.0, 0.5), (0.2, 0.4, 1.0), (0, 0, 1))
    can = SceneObject("c", "c", "cylinder", (1.0, 1.0, 0.5), (0.2, 0.2, 1.0), (0, 1, 0))
    assert box_gap(box, np.array([0.0, 0.1, 0.5])) == 0.0
    assert box_gap(box, np.array([0.0, 0.0, 1.3])) == pytest.approx(0.3)
    assert footprint_gap(box, np.array([0.9, 0.0, 0.0])) == pytest.approx(0.8)
    assert footprint_gap(box, np.array([0.4, 0.5, 0.0])) == pytest.approx(math.hypot(0.3, 0.3))
    assert footprint_gap(can, np.array([1.0, 1.9, 0.0])) == pytest.approx(0.8)


def test_rgbd_groups_are_on_request():
    assert {"rgbd", "rgbd_node"} <= set(GROUPS) & ON_REQUEST
