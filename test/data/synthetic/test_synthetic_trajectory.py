"""Camera paths look where they should and keep their geometry."""

import math

import numpy as np
import pytest

from lerf_ros.cameras import Intrinsics, validate_pose
from lerf_ros.data.synthetic import orbit, robot_height, walk_through
from lerf_ros.data.synthetic.trajectory import jitter_poses

CAMERA = Intrinsics.from_fov(64, 48, math.radians(60))


def pixel_of(pose: np.ndarray, point) -> np.ndarray:
    local = np.linalg.inv(pose) @ np.append(point, 1.0)
    assert local[2] > 0, "point is behind the camera"
    return CAMERA.as_matrix()[:2] @ (local[:3] / local[2])


def test_orbit_positions_and_gaze():
    target = (0.2, -0.1, 0.8)
    poses = orbit((0.2, -0.1, 0.8), radius=1.5, height=1.4, count=12)
    assert len(poses) == 12
    for pose in poses:
        validate_pose(pose)
        offset = pose[:3, 3] - np.array(target)
        assert math.hypot(offset[0], offset[1]) == pytest.approx(1.5)
        assert pose[2, 3] == pytest.approx(1.4)
        np.testing.assert_allclose(pixel_of(pose, target), [32.0, 24.0], atol=1e-9)
    # A full turn spaces views evenly without repeating the first one.
    angles = [math.atan2(p[1, 3] + 0.1, p[0, 3] - 0.2) for p in poses]
    steps = np.diff(np.unwrap(angles))
    np.testing.assert_allclose(steps, 2 * math.pi / 12)


def test_partial_arc_includes_both_ends():
    poses = orbit((0, 0, 0), 1.0, 1.0, 5, start_angle=0.0, arc=math.pi)
    np.testing.assert_allclose(poses[0][:2, 3], [1, 0], atol=1e-12)
    np.testing.assert_allclose(poses[-1][:2, 3], [-1, 0], atol=1e-12)


def test_robot_height_keeps_camera_low_and_target_in_view():
    poses = robot_height((0, 0, 0.8), 1.6, 10, camera_height=1.0, sway=0.01, seed=3)
    for pose in poses:
        validate_pose(pose)
        assert abs(pose[2, 3] - 1.0) < 0.05
        u, v = pixel_of(pose, (0, 0, 0.8))
        assert 0 < u < 64 and 0 < v < 48


def test_walk_through_is_evenly_spaced_and_faces_travel():
    waypoints = [(0, 0, 1.5), (2, 0, 1.5), (2, 2, 1.5)]
    poses = walk_through(waypoints, 9, tilt_down=0.2)
    positions = np.array([p[:3, 3] for p in poses])
    np.testing.assert_allclose(np.linalg.norm(np.diff(positions, axis=0), axis=1), 0.5)
    np.testing.assert_allclose(poses[0][:3, 2], [math.cos(0.2), 0, -math.sin(0.2)], atol=1e-12)
    np.testing.assert_allclose(poses[-1][:3, 2], [0, math.cos(0.2), -math.sin(0.2)], atol=1e-12)
    looking = walk_through(waypoints, 4, target=(1, 1, 0))
    for pose in looking:
        np.testing.assert_allclose(pixel_of(pose, (1, 1, 0)), [32, 24], atol=1e-9)


def test_jitter_is_seeded_small_and_rigid():
    poses = orbit((0, 0, 0), 1.0, 1.0, 4)
    a = jitter_poses(poses, 0.02, math.radians(1), seed=7)
    b = jitter_poses(poses, 0.02, math.radians(1), seed=7)
    for original, first, second in zip(poses, a, b, strict=True):
        np.testing.assert_array_equal(first, second)
        validate_pose(first)
        assert 0 < np.linalg.norm(first[:3, 3] - original[:3, 3]) < 0.1
        assert not np.allclose(first[:3, :3], original[:3, :3])
