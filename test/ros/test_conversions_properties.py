"""Property-based tests of the message -> numpy conversions with real ``sensor_msgs`` objects
(no node): every encoding string of sensor_msgs/image_encodings.hpp, random and truncated
data, random compressed bytes, decompression bombs, broken calibrations and poses. Each
message gives a clean :class:`InputError` (a counted drop in the node) or a sane array."""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Pose, Quaternion
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.ros.conversions import (
    MAX_IMAGE_SIDE,
    SUPPORTED_ENCODINGS,
    InputError,
    camera_info_to_intrinsics,
    compressed_to_rgb,
    image_to_rgb,
    intrinsics_to_camera_info,
    pose_to_matrix,
    rgb_to_compressed,
    rgb_to_image,
)

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

STAMP = Time(sec=1, nanosec=0)

# Every constant of sensor_msgs/image_encodings.hpp (ROS 2 Kilted).
IMAGE_ENCODINGS = (
    ["rgb8", "rgba8", "rgb16", "rgba16", "bgr8", "bgra8", "bgr16", "bgra16", "mono8", "mono16"]
    + [f"{bits}{kind}C{n}" for bits, kind in [(8, "U"), (8, "S"), (16, "U"), (16, "S"),
                                              (32, "S"), (32, "F"), (64, "F")]
       for n in (1, 2, 3, 4)]
    + [f"bayer_{p}{b}" for b in (8, 16) for p in ("rggb", "bggr", "gbrg", "grbg")]
    + ["uyvy", "yuv422", "yuyv", "yuv422_yuy2", "nv12", "nv21", "nv24"]
)  # fmt: skip
CHANNELS = {"rgb8": 3, "bgr8": 3, "rgba8": 4, "bgra8": 4, "mono8": 1}


def reference_rgb(encoding: str, pixels: np.ndarray) -> np.ndarray:
    """What an [H, W, C] array of ``encoding`` pixels is in RGB."""
    if encoding == "mono8":
        return np.repeat(pixels, 3, axis=2)
    if encoding.startswith("bgr"):
        return pixels[:, :, [2, 1, 0]]
    return pixels[:, :, :3]


def image_message(encoding, width, height, step, data) -> Image:
    msg = Image()
    msg.encoding, msg.width, msg.height, msg.step = encoding, width, height, step
    msg.data = data
    return msg


def check_rgb(rgb: np.ndarray, width: int, height: int) -> None:
    assert rgb.dtype == np.uint8 and rgb.shape == (height, width, 3)
    assert rgb.flags.c_contiguous


@SETTINGS
@given(
    encoding=st.one_of(
        st.sampled_from(IMAGE_ENCODINGS),
        st.sampled_from(IMAGE_ENCODINGS).map(str.upper),
        st.text(max_size=12),
    ),
    width=st.one_of(st.integers(0, 12), st.sampled_from([2**32 - 1, MAX_IMAGE_SIDE + 1])),
    height=st.one_of(st.integers(0, 12), st.sampled_from([2**32 - 1, MAX_IMAGE_SIDE + 1])),
    step=st.one_of(st.integers(0, 60), st.just(2**32 - 1)),
    data=st.binary(max_size=800),
)
@example("32FC1", 4, 4, 16, b"\x00" * 64)
@example("rgb8", 4, 4, 12, b"\x00" * 47)
@example("rgb8", 0, 0, 0, b"")
@example("mono8", 2**32 - 1, 2**32 - 1, 2**32 - 1, b"")
def test_raw_images_decode_or_raise_input_error(encoding, width, height, step, data):
    msg = image_message(encoding, width, height, step, data)
    try:
        rgb = image_to_rgb(msg)
    except InputError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert encoding.lower() in SUPPORTED_ENCODINGS
    check_rgb(rgb, width, height)


@SETTINGS
@given(
    encoding=st.sampled_from(SUPPORTED_ENCODINGS),
    width=st.integers(1, 9),
    height=st.integers(1, 9),
    padding=st.integers(0, 5),
    seed=st.integers(0, 2**32 - 1),
    cut=st.integers(-3, 3),
)
def test_supported_encodings_convert_exactly_and_wrong_sizes_are_refused(
    encoding, width, height, padding, seed, cut
):
    channels = CHANNELS[encoding]
    step = width * channels + padding
    rows = np.random.default_rng(seed).integers(0, 256, (height, step), dtype=np.uint8)
    data = rows.tobytes()
    data = data[: len(data) + cut] if cut < 0 else data + b"\x01" * cut
    msg = image_message(encoding, width, height, step, data)
    if cut != 0:
        with pytest.raises(InputError, match="bytes, expected step x height"):
            image_to_rgb(msg)
        return
    pixels = rows[:, : width * channels].reshape(height, width, channels)
    rgb = image_to_rgb(msg)
    check_rgb(rgb, width, height)
    np.testing.assert_array_equal(rgb, reference_rgb(encoding, pixels))


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR announcing ``width`` x ``height``, and almost no data:
    a tiny message that would make a naive decoder allocate the announced image."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def sample_rgb(seed: int = 0, width: int = 24, height: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


VALID = {
    fmt: bytes(rgb_to_compressed(sample_rgb(), "cam", STAMP, fmt).data) for fmt in ("jpeg", "png")
}


def _corrupt(valid: bytes, position: int, garbage: bytes) -> bytes:
    position %= len(valid)
    return valid[:position] + garbage + valid[position + len(garbage) :]


def compressed_message(data: bytes, fmt: str = "jpeg") -> CompressedImage:
    msg = CompressedImage()
    msg.format = fmt
    msg.data = data
    return msg


@SETTINGS
@given(
    data=st.one_of(
        st.binary(max_size=600),
        st.sampled_from(["jpeg", "png"]).flatmap(
            lambda fmt: st.integers(0, len(VALID[fmt])).map(lambda n: VALID[fmt][:n])
        ),
        st.tuples(
            st.sampled_from(["jpeg", "png"]), st.integers(0, 10_000), st.binary(max_size=8)
        ).map(lambda t: _corrupt(VALID[t[0]], t[1], t[2])),
    ),
    fmt=st.sampled_from(["jpeg", "png", "rgb8; jpeg compressed bgr8", "", "\x00"]),
)
@example(b"", "jpeg")
@example(b"\xff\xd8\xff", "jpeg")
@example(png_header_only(MAX_IMAGE_SIDE + 1, 4), "png")
@example(png_header_only(20_000, 20_000), "png")
@example(png_header_only(100_000, 100_000), "png")
@example(png_header_only(0, 0), "png")
def test_compressed_images_decode_or_raise_input_error(data, fmt):
    try:
        rgb = compressed_to_rgb(compressed_message(data, fmt))
    except InputError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    assert 0 < rgb.shape[0] <= MAX_IMAGE_SIDE and 0 < rgb.shape[1] <= MAX_IMAGE_SIDE


@pytest.mark.parametrize("side", [20_000, 100_000])
def test_decompression_bombs_are_refused_by_their_header(side):
    """Before the header check a 100000 x 100000 PNG header made OpenCV raise cv2.error (which
    escaped the image callback and would stop the node), and 20000 x 20000 was allocated."""
    with pytest.raises(InputError, match=r"out of range|far too large"):
        compressed_to_rgb(compressed_message(png_header_only(side, side), "png"))


def test_valid_compressed_images_round_trip():
    assert np.array_equal(compressed_to_rgb(compressed_message(VALID["png"], "png")), sample_rgb())
    x, y = np.meshgrid(np.arange(32), np.arange(24))
    smooth = np.stack([x * 8, y * 10, np.full_like(x, 128)], axis=-1).astype(np.uint8)
    jpeg = compressed_to_rgb(rgb_to_compressed(smooth, "cam", STAMP, "jpeg"))
    assert jpeg.shape == smooth.shape
    assert np.abs(jpeg.astype(int) - smooth).mean() < 8  # lossy, but the same picture (RGB)


wild = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -1.0, 1e-300, 1e300, math.nan]),
)


@SETTINGS
@given(
    width=st.integers(0, 2**32 - 1),
    height=st.sampled_from([0, 1, 48, 2**32 - 1]),
    k=st.one_of(st.lists(wild, min_size=9, max_size=9), st.just([0.0] * 9)),
    d=st.lists(wild, max_size=14),
    model=st.sampled_from(["plumb_bob", "rational_polynomial", "equidistant", "", "fisheye"]),
)
def test_camera_info_gives_valid_intrinsics_or_input_error(width, height, k, d, model):
    msg = CameraInfo()
    msg.width, msg.height, msg.k, msg.d, msg.distortion_model = width, height, k, d, model
    try:
        intrinsics = camera_info_to_intrinsics(msg)
    except InputError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert isinstance(intrinsics, Intrinsics) and intrinsics.validate() is intrinsics


def test_camera_info_round_trips():
    intrinsics = Intrinsics(64, 48, 50.0, 51.0, 32.0, 24.0, (0.1, -0.01, 0.001, 0.002, 0.0001))
    assert camera_info_to_intrinsics(intrinsics_to_camera_info(intrinsics, "c", STAMP)) == (
        intrinsics
    )


@SETTINGS
@given(position=st.lists(wild, min_size=3, max_size=3), q=st.lists(wild, min_size=4, max_size=4))
@example([0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0])
@example([0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0])
@example([math.nan, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0])
def test_poses_give_rigid_matrices_or_input_error(position, q):
    pose = Pose(
        position=Point(x=position[0], y=position[1], z=position[2]),
        orientation=Quaternion(x=q[0], y=q[1], z=q[2], w=q[3]),
    )
    try:
        matrix = pose_to_matrix(pose)
    except InputError as error:
        assert str(error)
        return
    assert matrix.shape == (4, 4) and np.isfinite(matrix).all()
    rotation = matrix[:3, :3]
    assert np.allclose(rotation.T @ rotation, np.eye(3), atol=1e-6)
    assert np.linalg.det(rotation) == pytest.approx(1.0, abs=1e-6)


def test_a_published_image_converts_back():
    rgb = sample_rgb(5)
    assert np.array_equal(image_to_rgb(rgb_to_image(rgb, "cam", STAMP)), rgb)
