"""Pose conventions, pose validation and quaternion helpers."""

import math

import numpy as np
import pytest
import torch

from lerf_ros.cameras import (
    Intrinsics,
    interpolate_pose,
    llff_to_opencv,
    look_at,
    matrix_to_quaternion,
    opencv_to_opengl,
    opengl_to_opencv,
    pose_from_translation_quaternion,
    quaternion_to_matrix,
    slerp,
    validate_pose,
)


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def random_pose(rng: np.random.Generator) -> np.ndarray:
    pose = np.eye(4)
    pose[:3, :3] = random_rotation(rng)
    pose[:3, 3] = rng.normal(size=3)
    return pose


def project(intrinsics: Intrinsics, c2w: np.ndarray, point) -> np.ndarray:
    """Pinhole projection of a world point through an OpenCV camera-to-world pose."""
    camera = np.linalg.inv(c2w) @ np.append(point, 1.0)
    return intrinsics.as_matrix()[:2] @ (camera[:3] / camera[2])


def test_opengl_opencv_round_trip_and_axes():
    rng = np.random.default_rng(0)
    for _ in range(20):
        pose = random_pose(rng)
        converted = opengl_to_opencv(pose)
        np.testing.assert_allclose(opencv_to_opengl(converted), pose)
        # Same centre and x axis; y and z flip.
        np.testing.assert_allclose(converted[:3, 3], pose[:3, 3])
        np.testing.assert_allclose(converted[:3, 0], pose[:3, 0])
        np.testing.assert_allclose(converted[:3, 1:3], -pose[:3, 1:3])
        validate_pose(converted)


def test_opengl_to_opencv_keeps_torch_and_does_not_mutate():
    pose = torch.eye(4, dtype=torch.float64)
    converted = opengl_to_opencv(pose)
    assert isinstance(converted, torch.Tensor)
    assert converted[1, 1] == -1 and pose[1, 1] == 1


def test_llff_to_opencv_matches_opengl_path():
    # LLFF [down, right, back] is OpenGL [right, up, back] with the first two columns moved.
    rng = np.random.default_rng(1)
    for _ in range(20):
        opengl = random_pose(rng)
        llff = np.concatenate(
            [-opengl[:3, 1:2], opengl[:3, 0:1], opengl[:3, 2:4], [[480.0], [640.0], [500.0]]],
            axis=1,
        )
        np.testing.assert_allclose(llff_to_opencv(llff), opengl_to_opencv(opengl), atol=1e-12)


def test_llff_to_opencv_batches():
    poses = np.tile(np.eye(3, 5), (7, 1, 1))
    assert llff_to_opencv(poses).shape == (7, 4, 4)


def test_camera_looking_at_point_sees_it_at_image_centre():
    camera = Intrinsics.from_fov(640, 480, math.radians(60))
    target = np.array([0.3, -0.2, 0.8])
    pose = look_at([2.0, 1.0, 1.6], target)
    np.testing.assert_allclose(project(camera, pose, target), [320.0, 240.0], atol=1e-9)
    # World 'up' appears towards the top of the image (smaller v).
    above = project(camera, pose, target + np.array([0.0, 0.0, 0.1]))
    assert above[1] < 240.0
    # The same camera in OpenGL convention looks along its -z axis.
    forward = -opencv_to_opengl(pose)[:3, 2]
    np.testing.assert_allclose(
        forward, (target - pose[:3, 3]) / np.linalg.norm(target - pose[:3, 3])
    )


def test_look_at_straight_down_is_valid():
    pose = look_at([0.0, 0.0, 2.0], [0.0, 0.0, 0.0])
    validate_pose(pose)
    np.testing.assert_allclose(pose[:3, 2], [0.0, 0.0, -1.0])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.__setitem__((0, 3), np.nan), "NaN or inf"),
        (lambda p: p.__setitem__((1, 1), np.inf), "NaN or inf"),
        (lambda p: p.__setitem__((0, 0), 1.1), "orthonormal"),
        (lambda p: p.__setitem__((slice(None, 3), 0), -p[:3, 0]), "determinant"),
        (lambda p: p.__setitem__((3, 0), 0.5), "last row"),
    ],
)
def test_validate_pose_rejects(mutate, message):
    pose = look_at([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    mutate(pose)
    with pytest.raises(ValueError, match=message):
        validate_pose(pose)


def test_validate_pose_rejects_wrong_shape():
    with pytest.raises(ValueError, match="4x4"):
        validate_pose(np.eye(3))


def test_quaternion_round_trip():
    rng = np.random.default_rng(2)
    for _ in range(50):
        rotation = random_rotation(rng)
        q = matrix_to_quaternion(rotation)
        assert q[3] >= 0 and np.linalg.norm(q) == pytest.approx(1.0)
        np.testing.assert_allclose(quaternion_to_matrix(*q), rotation, atol=1e-12)


def test_quaternion_known_values():
    # 90 degrees about z in ROS (x, y, z, w) order.
    s = math.sqrt(0.5)
    np.testing.assert_allclose(
        quaternion_to_matrix(0.0, 0.0, s, s), [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12
    )
    np.testing.assert_allclose(matrix_to_quaternion(np.diag([1.0, -1.0, -1.0])), [1, 0, 0, 0])
    with pytest.raises(ValueError):
        quaternion_to_matrix(0.0, 0.0, 0.0, 0.0)


def test_pose_from_translation_quaternion():
    pose = pose_from_translation_quaternion([1.0, 2.0, 3.0], [0.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(pose, [[1, 0, 0, 1], [0, 1, 0, 2], [0, 0, 1, 3], [0, 0, 0, 1]])


def test_slerp_endpoints_midpoint_and_short_arc():
    rng = np.random.default_rng(3)
    q0 = matrix_to_quaternion(random_rotation(rng))
    q1 = matrix_to_quaternion(random_rotation(rng))
    np.testing.assert_allclose(slerp(q0, q1, 0.0), q0, atol=1e-12)
    assert abs(np.dot(slerp(q0, q1, 1.0), q1)) == pytest.approx(1.0)
    # 0 -> 90 degrees about x: half way is 45 degrees; -q1 (same rotation) gives the same.
    a, b = [0.0, 0.0, 0.0, 1.0], [math.sin(math.pi / 4), 0.0, 0.0, math.cos(math.pi / 4)]
    expected = [math.sin(math.pi / 8), 0.0, 0.0, math.cos(math.pi / 8)]
    np.testing.assert_allclose(slerp(a, b, 0.5), expected, atol=1e-12)
    np.testing.assert_allclose(slerp(a, -np.array(b), 0.5), expected, atol=1e-12)


def test_interpolate_pose_between_timestamps():
    pose_a = pose_from_translation_quaternion([0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0])
    s = math.sin(math.pi / 4)
    pose_b = pose_from_translation_quaternion([2.0, 0.0, 0.0], [0.0, 0.0, s, s])
    np.testing.assert_allclose(interpolate_pose(pose_a, 10.0, pose_b, 12.0, 10.0), pose_a)
    np.testing.assert_allclose(
        interpolate_pose(pose_a, 10.0, pose_b, 12.0, 12.0), pose_b, atol=1e-12
    )
    middle = interpolate_pose(pose_a, 10.0, pose_b, 12.0, 11.0)
    np.testing.assert_allclose(middle[:3, 3], [1.0, 0.0, 0.0])
    yaw = math.atan2(middle[1, 0], middle[0, 0])
    assert yaw == pytest.approx(math.pi / 4)
    validate_pose(middle)
