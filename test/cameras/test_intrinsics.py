"""Intrinsics: validation, resizing and construction from a field of view."""

import math

import numpy as np
import pytest

from lerf_ros.cameras import Intrinsics


def test_from_fov_centres_principal_point_and_matches_fov():
    camera = Intrinsics.from_fov(640, 480, math.radians(90))
    assert camera.fx == pytest.approx(320.0)
    assert camera.fy == camera.fx
    assert (camera.cx, camera.cy) == (320.0, 240.0)
    assert camera.fov_x == pytest.approx(math.radians(90))


def test_scaled_keeps_pixel_edges_aligned():
    camera = Intrinsics(800, 600, 500.0, 510.0, 401.0, 299.0, (0.1, -0.05, 0.001, 0.002))
    half = camera.scaled(0.5)
    assert (half.width, half.height) == (400, 300)
    assert (half.fx, half.fy, half.cx, half.cy) == pytest.approx((250.0, 255.0, 200.5, 149.5))
    assert half.distortion == camera.distortion  # acts on normalised coordinates


def test_as_matrix():
    matrix = Intrinsics(10, 8, 5.0, 6.0, 4.5, 3.5).as_matrix()
    np.testing.assert_array_equal(matrix, [[5, 0, 4.5], [0, 6, 3.5], [0, 0, 1]])


def test_numpy_scalars_are_stored_as_python_numbers():
    camera = Intrinsics(np.int64(4), np.int64(3), np.float64(2.0), 2.0, 2.0, 1.5)
    assert type(camera.fx) is float and type(camera.width) is int
    assert camera == Intrinsics(4, 3, 2.0, 2.0, 2.0, 1.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fx": 0.0}, "focal"),
        ({"fy": -3.0}, "focal"),
        ({"fx": float("nan")}, "finite"),
        ({"fy": float("inf")}, "finite"),
        ({"width": 0}, "size"),
        ({"height": -1}, "size"),
        ({"cx": 5000.0}, "principal point"),
        ({"cy": -900.0}, "principal point"),
        ({"distortion": (0.1, 0.2)}, "distortion"),
        ({"distortion": (0.1, 0.2, 0.0, float("nan"))}, "finite"),
        ({"distortion": (0.1,) * 8}, "plumb_bob distortion takes 4 or 5"),
        ({"distortion": (0.1,) * 6, "distortion_model": "rational_polynomial"}, "4 or 5 or 8"),
        ({"distortion": (0.1,) * 5, "distortion_model": "equidistant"}, "takes 4 coeff"),
        ({"distortion_model": "kannala_brandt"}, "unknown distortion model"),
    ],
)
def test_validate_rejects_bad_values(kwargs, message):
    values = {"width": 640, "height": 480, "fx": 500.0, "fy": 500.0, "cx": 320.0, "cy": 240.0}
    values.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Intrinsics(**values).validate()


def test_validate_accepts_good_camera():
    camera = Intrinsics(640, 480, 500.0, 500.0, 320.0, 240.0, (0.1, 0.01, 0.0, 0.0, 0.001))
    assert camera.validate() is camera


def test_opencv_distortion_pads_each_model_to_what_opencv_takes():
    radtan = Intrinsics(64, 48, 50.0, 50.0, 32.0, 24.0, (0.1, 0.2, 0.0, 0.0))
    np.testing.assert_array_equal(radtan.opencv_distortion, [0.1, 0.2, 0.0, 0.0, 0.0])
    rational = Intrinsics(64, 48, 50.0, 50.0, 32.0, 24.0, (0.1,) * 5, "rational_polynomial")
    np.testing.assert_array_equal(rational.opencv_distortion, [0.1] * 5 + [0.0] * 3)
    fisheye = Intrinsics(64, 48, 50.0, 50.0, 32.0, 24.0, (0.1, 0.0, 0.0, 0.0), "equidistant")
    assert fisheye.validate().opencv_distortion.shape == (4,)
    # Scaling a camera keeps its lens model.
    assert fisheye.scaled(0.5).distortion_model == "equidistant"
