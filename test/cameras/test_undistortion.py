"""Every CameraInfo lens model against OpenCV's own projection: 3D points projected with
cv2.projectPoints / cv2.fisheye.projectPoints must lie on the rays lerf_ros makes for those
pixels, on the query path (pixel_rays) and the training path (rays_for_pixels)."""

import cv2
import numpy as np
import pytest
import torch

from lerf_ros.cameras import Intrinsics, look_at, pixel_rays, rays_for_pixels
from lerf_ros.cameras.undistortion import direction_table, undistort_points

MODELS = {
    "plumb_bob": Intrinsics(
        320, 240, 250.0, 255.0, 161.3, 119.2, (-0.28, 0.09, 0.0012, -0.0015, -0.012)
    ),
    # Rational: k4..k6 matter (a camera cut to five coefficients would be ~10 px off).
    "rational_polynomial": Intrinsics(
        320,
        240,
        260.0,
        258.0,
        158.0,
        121.5,
        (0.35, -0.12, 0.0008, -0.0011, 0.02, 0.62, -0.08, 0.05),
        "rational_polynomial",
    ),
    # A wide fisheye: ~150 degrees across the diagonal.
    "equidistant": Intrinsics(
        320, 240, 120.0, 121.0, 160.5, 119.0, (0.04, -0.012, 0.003, -0.0007), "equidistant"
    ),
}
POSE = look_at([1.0, -2.0, 1.5], [0.0, 0.0, 0.5])


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), (a * b).sum(-1))


def project(camera: Intrinsics, c2w: np.ndarray, points: np.ndarray) -> np.ndarray:
    """OpenCV's projection of world points [N, 3] to pixels [N, 2] (pixel centres at +0.5:
    OpenCV puts them at integers, hence the shift)."""
    w2c = np.linalg.inv(c2w)
    rvec, _ = cv2.Rodrigues(w2c[:3, :3])
    k, d = camera.as_matrix(), camera.opencv_distortion
    k[:2, 2] -= 0.5
    if camera.distortion_model == "equidistant":
        pixels, _ = cv2.fisheye.projectPoints(points[:, None], rvec, w2c[:3, 3], k, d)
    else:
        pixels, _ = cv2.projectPoints(points, rvec, w2c[:3, 3], k, d)
    return pixels[:, 0] + 0.5


def points_in_view(camera: Intrinsics, count: int = 400, seed: int = 0):
    """World points spread over the whole image of ``camera`` and their pixels."""
    rng = np.random.default_rng(seed)
    half_angle = 1.15 if camera.distortion_model == "equidistant" else 0.62
    angles = rng.uniform(-half_angle, half_angle, (count, 2))
    in_camera = np.c_[np.tan(angles), np.ones(count)] * rng.uniform(0.5, 4, (count, 1))
    points = in_camera @ POSE[:3, :3].T + POSE[:3, 3]
    pixels = project(camera, POSE, points)
    inside = (
        (pixels[:, 0] > 0)
        & (pixels[:, 0] < camera.width)
        & (pixels[:, 1] > 0)
        & (pixels[:, 1] < camera.height)
    )
    assert inside.sum() > count // 3  # the points cover the image, corners included
    return points[inside], pixels[inside]


@pytest.mark.parametrize("model", MODELS)
def test_rays_pass_through_points_projected_by_opencv(model):
    camera = MODELS[model].validate()
    points, pixels = points_in_view(camera)
    u, v = torch.from_numpy(pixels[:, 0]), torch.from_numpy(pixels[:, 1])
    origins, directions = pixel_rays(camera, torch.from_numpy(POSE), u, v)
    errors = angle_between(directions.double().numpy(), points - origins.double().numpy())
    # Bilinear between exact pixel-centre directions: about a thousandth of a pixel.
    assert errors.max() * camera.fx < 2e-3  # pixels
    # The training path: the same pixels as part of a batch of cameras, one pinhole.
    pinhole = Intrinsics(320, 240, 250.0, 250.0, 160.0, 120.0)
    poses = torch.from_numpy(np.stack([np.eye(4), POSE]))
    index = torch.ones(len(u), dtype=torch.long)
    index[::5] = 0
    bundle = rays_for_pixels([pinhole, camera], poses, index, u.float(), v.float())
    mine = index == 1
    errors = angle_between(
        bundle.directions[mine].double().numpy(), points[mine.numpy()] - POSE[:3, 3]
    )
    assert errors.max() < 1e-5  # u, v in float32 (training pixels are exact in it)
    _, flat = pixel_rays(pinhole, np.eye(4), u[~mine], v[~mine])
    torch.testing.assert_close(bundle.directions[~mine], flat)


@pytest.mark.parametrize("model", MODELS)
def test_pixel_centres_are_exactly_opencvs_undistortion(model):
    camera = MODELS[model]
    table = direction_table(camera)
    assert table.shape == (camera.height + 2, camera.width + 2, 3)
    rows, cols = np.array([1, 7, 120, 240]), np.array([1, 300, 160, 320])
    xy = undistort_points(camera, cols - 0.5, rows - 0.5)
    expected = np.c_[xy, np.ones(len(xy))]
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(table[rows, cols], expected, atol=1e-15)
    # ... and OpenCV's undistortion inverts OpenCV's projection (its default stopping rule
    # would leave ~1e-3 here on these strong lenses).
    points, pixels = points_in_view(camera, 200, seed=1)
    xyz = (points - POSE[:3, 3]) @ POSE[:3, :3]
    np.testing.assert_allclose(
        undistort_points(camera, pixels[:, 0], pixels[:, 1]), xyz[:, :2] / xyz[:, 2:], atol=1e-9
    )


def test_truncating_the_rational_model_would_be_visible():
    """The eight rational coefficients are all used: the camera cut to five misses by pixels."""
    camera = MODELS["rational_polynomial"]
    points, pixels = points_in_view(camera)
    cut = Intrinsics(320, 240, 260.0, 258.0, 158.0, 121.5, camera.distortion[:5])
    u, v = torch.from_numpy(pixels[:, 0]), torch.from_numpy(pixels[:, 1])
    _, wrong = pixel_rays(cut, POSE, u, v)
    errors = angle_between(wrong.double().numpy(), points - POSE[:3, 3])
    assert errors.max() * camera.fx > 5  # pixels


def test_opencv_runs_once_per_camera_model_not_per_batch():
    """Training batches look directions up in a table built once per model (OpenCV takes
    ~0.3 s per VGA image: per batch it would stall training)."""
    camera = MODELS["rational_polynomial"]
    resized = camera.resized(160, 120)  # a new model: its own table
    generator = torch.Generator().manual_seed(0)
    u = torch.randint(0, 160, (512,), generator=generator).float() + 0.5
    v = torch.randint(0, 120, (512,), generator=generator).float() + 0.5
    index = torch.randint(0, 4, (512,), generator=generator)
    poses = torch.from_numpy(np.stack([POSE] * 4))
    before = direction_table.cache_info()
    for _ in range(3):
        # Equal models from different objects (every frame carries its own) share a table.
        cameras = [Intrinsics(**vars(resized)) for _ in range(4)]
        bundle = rays_for_pixels(cameras, poses, index, u, v)
    after = direction_table.cache_info()
    assert after.misses == before.misses + 1
    _, expected = pixel_rays(resized, POSE, u, v)
    torch.testing.assert_close(bundle.directions, expected)
