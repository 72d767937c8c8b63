"""CameraInfo -> Intrinsics by the image_pipeline convention: raw images keep K and D in every
OpenCV model (rational_polynomial with all eight coefficients, equidistant); rectified ones
(image_rect topics, or D all zero) are pinhole cameras with P's intrinsics."""

import pytest
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CameraInfo

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.ros.conversions import (
    InputError,
    camera_info_to_intrinsics,
    intrinsics_to_camera_info,
    is_rectified_topic,
)

K = [400.0, 0.0, 321.0, 0.0, 402.0, 239.0, 0.0, 0.0, 1.0]
P = [380.0, 0.0, 318.0, 0.0, 0.0, 380.0, 244.0, 0.0, 0.0, 0.0, 1.0, 0.0]
RATIONAL = [0.35, -0.12, 0.0008, -0.0011, 0.02, 0.62, -0.08, 0.05]


def info(model: str = "plumb_bob", d=(), k=K, p=P) -> CameraInfo:
    msg = CameraInfo()
    msg.width, msg.height = 640, 480
    msg.distortion_model, msg.d, msg.k, msg.p = model, list(d), k, p
    return msg


@pytest.mark.parametrize(
    ("model", "d", "expected_model", "expected_d"),
    [
        ("plumb_bob", [-0.2, 0.05, 0.001, 0.002, -0.01], "plumb_bob", None),
        ("", [-0.2, 0.05, 0.001, 0.002], "plumb_bob", None),  # no name: plumb_bob
        ("plumb_bob", [-0.2, 0.05, 0.001, 0.002, -0.01, 0.0, 0.0, 0.0], "plumb_bob", 5),
        ("rational_polynomial", RATIONAL, "rational_polynomial", None),
        ("equidistant", [0.04, -0.012, 0.003, -0.0007], "equidistant", None),
        ("fisheye", [0.04, -0.012, 0.003, -0.0007, 0.0], "equidistant", 4),
    ],
)
def test_raw_images_keep_k_and_every_coefficient(model, d, expected_model, expected_d):
    intrinsics = camera_info_to_intrinsics(info(model, d))
    assert (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy) == (400, 402, 321, 239)
    assert intrinsics.distortion_model == expected_model
    assert intrinsics.distortion == tuple(d[:expected_d])
    assert intrinsics.has_distortion


def test_rectified_images_use_p_and_no_distortion():
    # D all zero: already rectified, P's intrinsics (P != K after rectification).
    for d in ([], [0.0] * 5):
        zero = camera_info_to_intrinsics(info(d=d))
        assert (zero.fx, zero.fy, zero.cx, zero.cy) == (380, 380, 318, 244)
        assert not zero.has_distortion
    # An image_rect stream next to its raw camera's CameraInfo (image_proc publishes no
    # CameraInfo of its own): D describes the raw image and must be ignored.
    rect = camera_info_to_intrinsics(info("rational_polynomial", RATIONAL), rectified=True)
    assert (rect.fx, rect.fy, rect.cx, rect.cy, rect.distortion) == (380, 380, 318, 244, ())
    # A stereo pair's right camera: P's fourth column carries the baseline (Tx = -fx' B),
    # which the camera's own pose already accounts for.
    right = P.copy()
    right[3] = -380.0 * 0.12
    assert camera_info_to_intrinsics(info(d=[0.0] * 5, p=right)) == rect
    # P unset (all zero, some drivers): K.
    unset = camera_info_to_intrinsics(info(d=[0.0] * 5, p=[0.0] * 12))
    assert (unset.fx, unset.fy, unset.cx, unset.cy) == (400, 402, 321, 239)
    # K[0] == 0 marks an uncalibrated camera (CameraInfo's definition), even with a P.
    with pytest.raises(InputError, match="uncalibrated"):
        camera_info_to_intrinsics(info(d=[0.0] * 5, k=[0.0] * 9))


@pytest.mark.parametrize(
    ("model", "d", "message"),
    [
        ("kannala_brandt", [0.1, 0.0, 0.0, 0.0], "unsupported distortion model"),
        ("plumb_bob", [0.1, 0.2, 0.0], "plumb_bob distortion takes 4 or 5"),
        ("plumb_bob", [0.1, 0.2, 0.0, 0.0, 0.0, 0.3], "at most 5 coefficients"),
        ("equidistant", [0.1, 0.2, 0.0, 0.0, 0.1], "at most 4 coefficients"),
        ("rational_polynomial", [*RATIONAL, 0.0, 0.0, 0.0, 0.1], "at most 8 coefficients"),
        ("plumb_bob", [0.1, float("nan"), 0.0, 0.0], "finite"),
    ],
)
def test_unusable_calibrations_are_input_errors(model, d, message):
    with pytest.raises(InputError, match=message):
        camera_info_to_intrinsics(info(model, d))


@pytest.mark.parametrize(
    "camera",
    [
        Intrinsics(64, 48, 50.0, 51.0, 32.0, 24.0, tuple(RATIONAL), "rational_polynomial"),
        Intrinsics(64, 48, 30.0, 31.0, 32.0, 24.0, (0.04, -0.012, 0.003, -0.0007), "equidistant"),
    ],
)
def test_every_model_round_trips(camera):
    msg = intrinsics_to_camera_info(camera, "optical", Time())
    assert msg.distortion_model == camera.distortion_model
    assert camera_info_to_intrinsics(msg) == camera


@pytest.mark.parametrize(
    ("topic", "rectified"),
    [
        ("/camera/image_rect", True),
        ("/camera/color/image_rect_color", True),
        ("/camera/image_rect_color/compressed", True),
        ("image_rect", True),
        ("/camera/image_raw", False),
        ("/camera/image_rect_raw", False),  # not an image_pipeline name: its D decides
        ("/image_rect/camera", False),
        ("/camera/image_raw/compressed", False),
    ],
)
def test_rectified_topics_are_recognised_by_image_pipeline_names(topic, rectified):
    assert is_rectified_topic(topic) is rectified
