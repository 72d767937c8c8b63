"""The camera topic contract shared by bags, the bag player and the live streamer (ROS-free).

One camera publishes, per frame and with one header stamp:

- ``{prefix}/image_raw`` (``sensor_msgs/Image``, rgb8) or ``{prefix}/image_raw/compressed``
  (``sensor_msgs/CompressedImage``, jpeg or png),
- ``{prefix}/camera_info`` (``sensor_msgs/CameraInfo``, plumb_bob with K, D, R, P),
- ``{prefix}/pose`` (``geometry_msgs/PoseStamped``: the optical frame's pose in the fixed frame),
- ``{prefix}/depth/image_raw`` (``sensor_msgs/Image``, 16UC1 millimetres, 0 = no reading), when
  the source has depth: registered to the colour image (its size, intrinsics and frame_id),

and bags also carry ``/tf`` (``tf2_msgs/TFMessage``, fixed frame -> optical frame).
Image and info use the optical frame as ``header.frame_id``, the pose the fixed frame.

Poses: the engine's camera-to-world matrices already use optical axes (x right, y down,
z forward, REP-103's ``*_optical`` frames), so a c2w is the optical frame's pose as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:  # lerf_ros.cameras pulls in torch: seconds of start-up the player avoids
    from lerf_ros.cameras.intrinsics import Intrinsics

TF_TOPIC = "/tf"
"""Topic of the transform tree (bags only: tf2_msgs is not importable without a ROS install)."""

COMPRESSED_FORMATS: tuple[str, ...] = ("jpeg", "png")
"""Encodings a CompressedImage may carry (what image_transport's compressed plugin sends)."""

NANOSECONDS = 1_000_000_000


@dataclass(frozen=True)
class CameraTopics:
    """Topic names of one camera under a common prefix."""

    prefix: str = "/camera"
    """Namespace of the camera's topics, e.g. ``/camera`` or ``/robot/head_camera``."""

    @property
    def image(self) -> str:
        return f"{self.prefix}/image_raw"

    @property
    def compressed(self) -> str:
        return f"{self.prefix}/image_raw/compressed"

    @property
    def info(self) -> str:
        return f"{self.prefix}/camera_info"

    @property
    def pose(self) -> str:
        return f"{self.prefix}/pose"

    @property
    def depth(self) -> str:
        """16UC1 depth in millimetres registered to the colour image (RealSense's
        ``aligned_depth_to_color`` in this contract's layout)."""
        return f"{self.prefix}/depth/image_raw"


DEPTH_ENCODING = "16UC1"
DEPTH_SCALE = 0.001
"""Metres per unit of the contract's depth topic: millimetres (the node's default depth_scale)."""


def depth_to_units(metres: np.ndarray, depth_scale: float = DEPTH_SCALE) -> np.ndarray:
    """float32 metres [H, W] -> uint16 units of ``depth_scale`` (rounded); no reading (0, NaN,
    inf, negative) and readings beyond 16 bits become 0."""
    metres = np.asarray(metres, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        units = np.where(np.isfinite(metres) & (metres > 0), np.round(metres / depth_scale), 0.0)
    units[units > np.iinfo(np.uint16).max] = 0
    return units.astype(np.uint16)


def split_stamp(stamp_ns: int) -> tuple[int, int]:
    """Nanoseconds since the epoch -> (sec, nanosec) as a header stamp stores them."""
    return int(stamp_ns // NANOSECONDS), int(stamp_ns % NANOSECONDS)


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] -> uint8, rounded as the dataset export writes its PNGs."""
    if rgb.dtype == np.uint8:
        return rgb
    return (np.clip(rgb, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def camera_info_fields(intrinsics: Intrinsics) -> dict:
    """Field values of a ``sensor_msgs/CameraInfo`` for ``intrinsics`` (no header).

    D holds the coefficients as OpenCV takes them (plumb_bob five, rational_polynomial eight,
    equidistant four). R is the identity (a monocular camera has no rectification) and P
    repeats K with a zero column.
    """
    i = intrinsics
    return {
        "width": i.width,
        "height": i.height,
        "distortion_model": i.distortion_model,
        "d": i.opencv_distortion,
        "k": np.array([i.fx, 0.0, i.cx, 0.0, i.fy, i.cy, 0.0, 0.0, 1.0]),
        "r": np.eye(3).reshape(-1),
        "p": np.array([i.fx, 0.0, i.cx, 0.0, 0.0, i.fy, i.cy, 0.0, 0.0, 0.0, 1.0, 0.0]),
    }


def compressed_format_string(fmt: str) -> str:
    """The ``CompressedImage.format`` value image_transport's compressed plugin writes."""
    return f"rgb8; {fmt} compressed bgr8"


def encode_image(rgb: np.ndarray, fmt: str = "jpeg", jpeg_quality: int = 95) -> bytes:
    """uint8 RGB [H, W, 3] -> jpeg or png bytes (OpenCV encodes BGR, hence the flip)."""
    if fmt not in COMPRESSED_FORMATS:
        raise ValueError(f"unknown image format {fmt!r}; choose from {COMPRESSED_FORMATS}")
    bgr = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8)[:, :, ::-1])
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if fmt == "jpeg" else []
    ok, data = cv2.imencode(".jpg" if fmt == "jpeg" else ".png", bgr, params)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {rgb.shape} image as {fmt}")
    return data.tobytes()


def decode_image(data: bytes | np.ndarray) -> np.ndarray:
    """jpeg or png bytes -> uint8 RGB [H, W, 3]."""
    decoded = cv2.imdecode(np.frombuffer(bytes(data), dtype=np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise ValueError("image bytes cannot be decoded")
    return np.ascontiguousarray(decoded[:, :, ::-1])
