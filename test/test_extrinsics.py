"""Per-camera extrinsics from one flat parameter list: 7 numbers for all cameras or 7 per
camera, with errors that name the expected length."""

import math

import pytest

from lerf_ros.configuration import ConfigError
from lerf_ros.extrinsics import camera_extrinsics, check_extrinsics
from lerf_ros.ros.node_config import NodeConfig

IDENTITY = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
TURNED = [0.1, -0.2, 0.3, 0.0, 0.0, math.sin(0.25), math.cos(0.25)]


def test_one_seven_vector_serves_every_camera():
    assert camera_extrinsics(TURNED, 3) == [(tuple(TURNED[:3]), tuple(TURNED[3:]))] * 3


def test_seven_per_camera_in_camera_order_with_quaternions_normalised():
    slightly_long = TURNED[:3] + [q * 1.005 for q in TURNED[3:]]
    (t0, q0), (t1, q1) = camera_extrinsics(IDENTITY + slightly_long, 2)
    assert (t0, q0) == (tuple(IDENTITY[:3]), tuple(IDENTITY[3:]))
    assert t1 == tuple(TURNED[:3])
    assert q1 == pytest.approx(TURNED[3:], abs=1e-12)


@pytest.mark.parametrize(
    ("values", "cameras", "message"),
    [
        (IDENTITY * 2, 3, r"must hold 7 or 21 numbers .* got 14"),
        (IDENTITY[:6], 1, r"must hold 7 numbers .* got 6"),
        (IDENTITY + TURNED[:3] + [0.0, 0.0, 0.0, 0.0], 2, "camera 1: quaternion .* unit length"),
        ([math.nan, *IDENTITY[1:]], 1, "camera 0 has non-finite"),
    ],
)
def test_bad_extrinsics_are_refused_with_the_expected_length(values, cameras, message):
    with pytest.raises(ValueError, match=message):
        check_extrinsics(values, cameras)


def test_the_node_setting_is_checked_against_its_camera_count():
    two = {"image_topics": ["/a/image_raw", "/b/image_raw"]}
    two["camera_info_topics"] = ["/a/camera_info", "/b/camera_info"]
    assert NodeConfig(**two, extrinsic=IDENTITY + TURNED).extrinsic == IDENTITY + TURNED
    assert NodeConfig(**two).extrinsic == IDENTITY
    with pytest.raises(ConfigError, match=r"extrinsic must hold 7 or 14 numbers .* got 21"):
        NodeConfig(**two, extrinsic=IDENTITY * 3)
