"""Pixel rays: geometry, lens distortion against OpenCV, bundles and pixel sampling."""

import math

import cv2
import numpy as np
import torch

from lerf_ros.cameras import (
    Intrinsics,
    RayBundle,
    camera_directions,
    image_rays,
    look_at,
    pixel_rays,
    rays_for_pixels,
    sample_pixels,
)

DISTORTED = Intrinsics(320, 240, 250.0, 255.0, 161.3, 119.2, (-0.28, 0.09, 0.0012, -0.0015, -0.012))


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in radians between rows, robust near zero (unlike arccos of a dot product)."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), (a * b).sum(-1))


def project_with_opencv(intrinsics: Intrinsics, c2w: np.ndarray, points: np.ndarray):
    w2c = np.linalg.inv(c2w)
    rvec, _ = cv2.Rodrigues(w2c[:3, :3])
    pixels, _ = cv2.projectPoints(
        points, rvec, w2c[:3, 3], intrinsics.as_matrix(), np.array(intrinsics.distortion)
    )
    return pixels[:, 0]


def test_centre_pixel_ray_follows_optical_axis():
    camera = Intrinsics.from_fov(64, 48, math.radians(60))
    pose = look_at([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    origins, directions = pixel_rays(
        camera, torch.from_numpy(pose), torch.tensor([32.0]), torch.tensor([24.0])
    )
    np.testing.assert_allclose(origins[0].numpy(), [1.0, 2.0, 3.0], atol=1e-6)
    np.testing.assert_allclose(
        directions[0].numpy(), -np.array([1, 2, 3]) / math.sqrt(14), atol=1e-6
    )
    assert origins.dtype == torch.float32 and directions.dtype == torch.float32


def test_pixel_rays_pass_through_projected_points_with_distortion():
    rng = np.random.default_rng(0)
    pose = look_at([1.0, -2.0, 1.5], [0.0, 0.0, 0.5])
    # Points spread over the whole (wide, strongly distorted) field of view.
    in_camera = np.c_[rng.uniform(-0.55, 0.55, (300, 2)), np.ones(300)] * rng.uniform(
        0.5, 4, (300, 1)
    )
    points = in_camera @ pose[:3, :3].T + pose[:3, 3]
    pixels = project_with_opencv(DISTORTED, pose, points)
    origins, directions = pixel_rays(
        DISTORTED,
        torch.from_numpy(pose),
        torch.from_numpy(pixels[:, 0]),
        torch.from_numpy(pixels[:, 1]),
    )
    errors = angle_between(directions.double().numpy(), points - origins.double().numpy())
    assert errors.max() < 1e-3
    assert errors.max() < 1e-5  # OpenCV exact at pixel centres, bilinear in between


def test_camera_directions_agrees_between_numpy_and_torch():
    u = np.linspace(0.5, 319.5, 50)
    v = np.linspace(0.5, 239.5, 50)
    from_numpy = camera_directions(DISTORTED, u, v)
    from_torch = camera_directions(DISTORTED, torch.from_numpy(u), torch.from_numpy(v)).numpy()
    np.testing.assert_allclose(from_numpy, from_torch, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(from_numpy, axis=1), 1.0)


def test_per_ray_poses():
    camera = Intrinsics.from_fov(8, 8, math.radians(90))
    poses = np.stack([look_at([0, 0, 1], [0, 0, 0]), look_at([5, 0, 0], [0, 0, 0])])
    u = torch.tensor([4.0, 4.0])
    origins, directions = pixel_rays(camera, torch.from_numpy(poses), u, u)
    np.testing.assert_allclose(origins.numpy(), [[0, 0, 1], [5, 0, 0]], atol=1e-6)
    np.testing.assert_allclose(directions.numpy(), [[0, 0, -1], [-1, 0, 0]], atol=1e-6)


def test_image_rays_row_major_and_stride_matches_scaled_camera():
    camera = Intrinsics(8, 6, 10.0, 11.0, 4.2, 2.9)
    pose = look_at([0.0, -1.0, 0.5], [0.0, 0.0, 0.5])
    bundle = image_rays(camera, pose)
    assert len(bundle) == 48
    # Element (row 1, col 3) in row-major order is the ray through pixel centre (3.5, 1.5).
    _, expected = pixel_rays(camera, pose, torch.tensor([3.5]), torch.tensor([1.5]))
    np.testing.assert_allclose(bundle.directions[1 * 8 + 3].numpy(), expected[0].numpy(), atol=1e-7)
    coarse = image_rays(camera, pose, stride=2)
    scaled = image_rays(camera.scaled(0.5), pose)
    np.testing.assert_allclose(coarse.directions.numpy(), scaled.directions.numpy(), atol=1e-6)
    np.testing.assert_allclose(coarse.pixel_radius.numpy(), scaled.pixel_radius.numpy(), rtol=1e-6)


def test_rays_for_pixels_with_per_camera_intrinsics():
    cameras = [Intrinsics(16, 16, 20.0, 20.0, 8.0, 8.0), DISTORTED]
    poses = torch.from_numpy(np.stack([np.eye(4), look_at([1, 1, 1], [0, 0, 0])]))
    index = torch.tensor([0, 1, 1, 0])
    u = torch.tensor([3.5, 100.5, 7.5, 15.5])
    v = torch.tensor([2.5, 50.5, 200.5, 0.5])
    bundle = rays_for_pixels(cameras, poses, index, u, v)
    for i in range(4):
        _, single = pixel_rays(cameras[index[i]], poses[index[i]], u[i : i + 1], v[i : i + 1])
        np.testing.assert_allclose(bundle.directions[i].numpy(), single[0].numpy(), atol=1e-7)
    np.testing.assert_allclose(
        bundle.pixel_radius.numpy(),
        [1 / 20, 1 / (250 * 255) ** 0.5, 1 / (250 * 255) ** 0.5, 1 / 20],
        rtol=1e-4,
    )
    assert bundle.camera_index.tolist() == [0, 1, 1, 0]


def test_ray_bundle_indexing_cat_and_to():
    bundle = image_rays(Intrinsics(4, 2, 3.0, 3.0, 2.0, 1.0), np.eye(4), camera_index=5)
    first = bundle[:3]
    assert len(first) == 3 and first.nears is None
    joined = RayBundle.cat([first, bundle[3:]])
    assert torch.equal(joined.directions, bundle.directions)
    assert joined.to("cpu").camera_index.tolist() == [5] * 8


def test_sample_pixels_is_seeded_and_in_range():
    first = sample_pixels(3, 10, 20, 5000, torch.Generator().manual_seed(0))
    second = sample_pixels(3, 10, 20, 5000, torch.Generator().manual_seed(0))
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)
    assert first.image_index.min() == 0 and first.image_index.max() == 2
    assert first.row.max() == 9 and first.col.max() == 19 and first.row.min() == 0
    u, v = first.centres()
    assert float(u.min()) == 0.5 and float(v.max()) == 9.5
