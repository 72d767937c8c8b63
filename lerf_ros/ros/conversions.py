"""Message <-> core conversions. Conventions are converted here, at the edge, once.

ROS camera frames are optical frames (REP-103: x right, y down, z forward), which is also
the engine's internal camera convention, so a pose of the optical frame in ``fixed_frame``
is used as the camera-to-world matrix directly.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from geometry_msgs.msg import Point, Pose, Quaternion, Vector3
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2, PointField

from lerf_ros.cameras.conventions import matrix_to_quaternion, pose_from_translation_quaternion
from lerf_ros.cameras.intrinsics import DISTORTION_MODELS, Intrinsics
from lerf_ros.data import camera_stream
from lerf_ros.msg import RelevancyPeak
from lerf_ros.ros.depth_conversions import (  # noqa: F401 - conversions of every message here
    compressed_depth_to_metres,
    depth_image_to_metres,
    depth_to_compressed_depth,
    depth_to_image,
)

SUPPORTED_ENCODINGS = ("rgb8", "bgr8", "rgba8", "bgra8", "mono8")
MAX_IMAGE_SIDE = 8192


class InputError(ValueError):
    """A message that cannot be used; the message says why (it is logged and counted)."""


def stamp_to_seconds(stamp) -> float:
    return float(stamp.sec) + 1e-9 * float(stamp.nanosec)


def image_to_rgb(msg: Image) -> np.ndarray:
    """``sensor_msgs/Image`` -> uint8 RGB array [H, W, 3] (copy)."""
    encoding = msg.encoding.lower()
    if encoding not in SUPPORTED_ENCODINGS:
        raise InputError(
            f"unsupported image encoding {msg.encoding!r} "
            f"(supported: {', '.join(SUPPORTED_ENCODINGS)})"
        )
    channels = 1 if encoding == "mono8" else (4 if encoding in ("rgba8", "bgra8") else 3)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if not (0 < height <= MAX_IMAGE_SIDE and 0 < width <= MAX_IMAGE_SIDE):
        raise InputError(f"image size {width}x{height} out of range")
    if step < width * channels:
        raise InputError(f"image step {step} is smaller than width x channels {width * channels}")
    data = np.frombuffer(bytes(msg.data), dtype=np.uint8)
    if data.size != step * height:
        raise InputError(
            f"image data has {data.size} bytes, expected step x height = {step * height}"
        )
    rows = data.reshape(height, step)[:, : width * channels].reshape(height, width, channels)
    if encoding == "mono8":
        return np.repeat(rows, 3, axis=2)
    if encoding in ("bgr8", "bgra8"):
        return np.ascontiguousarray(rows[:, :, 2::-1])
    return np.ascontiguousarray(rows[:, :, :3])


def _compressed_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a compressed image's header, without decoding it (None: unknown)."""
    import io
    import warnings

    from PIL import Image as PilImage

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL's DecompressionBombWarning: judged below
            with PilImage.open(io.BytesIO(data)) as image:
                return int(image.size[0]), int(image.size[1])
    except PilImage.DecompressionBombError as error:
        raise InputError(f"compressed image is far too large ({error})") from None
    except Exception:  # not an image PIL knows, or a header PIL refuses: OpenCV decides
        return None


def compressed_to_rgb(msg: CompressedImage) -> np.ndarray:
    """``sensor_msgs/CompressedImage`` (jpeg/png) -> uint8 RGB array [H, W, 3].

    The size is read from the header first: a small message announcing a huge image (a
    decompression bomb) is refused before anything is allocated."""
    raw = bytes(msg.data)
    if not raw:
        raise InputError("compressed image is empty")
    what = f"compressed image ({msg.format or 'unknown format'})"
    size = _compressed_size(raw)
    if size is not None and not (0 < size[0] <= MAX_IMAGE_SIDE and 0 < size[1] <= MAX_IMAGE_SIDE):
        raise InputError(f"{what}: size {size[0]}x{size[1]} out of range")
    try:
        decoded = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as error:
        raise InputError(f"{what} cannot be decoded ({str(error).strip()[:100]})") from None
    if decoded is None or decoded.ndim != 3 or decoded.shape[2] != 3:
        raise InputError(f"{what} cannot be decoded")
    height, width = decoded.shape[:2]
    if not (0 < height <= MAX_IMAGE_SIDE and 0 < width <= MAX_IMAGE_SIDE):
        raise InputError(f"{what}: size {width}x{height} out of range")
    return np.ascontiguousarray(decoded[:, :, ::-1])


def rgb_to_image(rgb: np.ndarray, frame_id: str, stamp) -> Image:
    msg = Image()
    msg.header.frame_id = frame_id
    msg.header.stamp = stamp
    msg.height, msg.width = int(rgb.shape[0]), int(rgb.shape[1])
    msg.encoding = "rgb8"
    msg.step = msg.width * 3
    msg.data = np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()
    return msg


def rgb_to_compressed(rgb: np.ndarray, frame_id: str, stamp, fmt: str = "jpeg") -> CompressedImage:
    """uint8 RGB [H, W, 3] -> ``sensor_msgs/CompressedImage`` (jpeg or png, as
    image_transport's compressed plugin sends it)."""
    msg = CompressedImage()
    msg.header.frame_id = frame_id
    msg.header.stamp = stamp
    msg.format = camera_stream.compressed_format_string(fmt)
    msg.data = camera_stream.encode_image(rgb, fmt)
    return msg


def intrinsics_to_camera_info(intrinsics: Intrinsics, frame_id: str, stamp) -> CameraInfo:
    """:class:`Intrinsics` -> ``sensor_msgs/CameraInfo`` of a raw image (inverse of
    :func:`camera_info_to_intrinsics`)."""
    fields = camera_stream.camera_info_fields(intrinsics)
    msg = CameraInfo()
    msg.header.frame_id = frame_id
    msg.header.stamp = stamp
    msg.width, msg.height = fields["width"], fields["height"]
    msg.distortion_model = fields["distortion_model"]
    msg.d = [float(v) for v in fields["d"]]
    if intrinsics.distortion_model != "plumb_bob":  # camera_stream writes plumb_bob only
        msg.distortion_model = intrinsics.distortion_model
        msg.d = [float(v) for v in intrinsics.opencv_distortion]
    msg.k = fields["k"]
    msg.r = fields["r"]
    msg.p = fields["p"]
    return msg


RECTIFIED_IMAGE_NAMES = ("image_rect", "image_rect_color")
"""Image topic names image_pipeline (image_proc) publishes rectified images under."""
DISTORTION_MODEL_ALIASES = {"": "plumb_bob", "fisheye": "equidistant"}
"""CameraInfo model names read as another's (an empty name is plumb_bob, as in image_geometry)."""


def is_rectified_topic(topic: str) -> bool:
    """True for an image_pipeline rectified image topic: .../image_rect or .../image_rect_color,
    also with a transport suffix (/compressed)."""
    parts = [p for p in topic.split("/") if p]
    if parts and parts[-1] in ("compressed", "compressedDepth", "theora", "zstd"):
        parts = parts[:-1]
    return bool(parts) and parts[-1] in RECTIFIED_IMAGE_NAMES


def camera_info_to_intrinsics(msg: CameraInfo, rectified: bool = False) -> Intrinsics:
    """``sensor_msgs/CameraInfo`` -> validated :class:`Intrinsics` (raises InputError).

    The image_pipeline convention: a raw image has K and D (undone with OpenCV: plumb_bob,
    rational_polynomial, equidistant); a rectified one (``rectified``: the stream is an
    image_rect topic, or D is empty or all zero) is a pinhole camera with P's intrinsics
    (fx' = P[0,0], fy' = P[1,1], cx' = P[0,2], cy' = P[1,2]; K when P is unset). P's fourth
    column (a stereo baseline) and R are not used: each camera's pose places its own frame.
    """
    k = [float(v) for v in msg.k]
    p = [float(v) for v in msg.p]
    raw_model = msg.distortion_model or ""
    model = DISTORTION_MODEL_ALIASES.get(raw_model.lower(), raw_model.lower())
    coefficients = [float(v) for v in msg.d]
    if len(k) != 9:
        raise InputError(f"camera info: K has {len(k)} values, expected 9")
    if k[0] == 0.0:  # CameraInfo's own rule, whatever P says
        raise InputError("camera info: the camera is uncalibrated (K[0] is 0)")
    if not all(math.isfinite(c) for c in coefficients):
        raise InputError(f"camera info: distortion coefficients must be finite, got {coefficients}")
    distorted = not rectified and any(c != 0.0 for c in coefficients)
    if distorted:
        counts = DISTORTION_MODELS.get(model)
        if counts is None:
            raise InputError(
                f"unsupported distortion model {raw_model!r} "
                f"(supported: {', '.join(DISTORTION_MODELS)})"
            )
        # Drivers pad D with zeros (plumb_bob with 8 values): keep what the model uses.
        used = max(counts)
        if any(c != 0.0 for c in coefficients[used:]):
            raise InputError(
                f"{model} distortion takes at most {used} coefficients, got {len(coefficients)} "
                "with non-zero ones beyond"
            )
        coefficients = coefficients[:used]
        if len(coefficients) not in counts:
            raise InputError(
                f"{model} distortion takes {' or '.join(map(str, counts))} coefficients, "
                f"got {len(coefficients)}"
            )
        fx, fy, cx, cy = k[0], k[4], k[2], k[5]
    elif len(p) == 12 and p[0] > 0 and p[5] > 0:  # math.isfinite is checked by validate()
        fx, fy, cx, cy = p[0], p[5], p[2], p[6]
    else:
        fx, fy, cx, cy = k[0], k[4], k[2], k[5]
    try:
        return Intrinsics(
            width=int(msg.width),
            height=int(msg.height),
            fx=fx,
            fy=fy,
            cx=cx,
            cy=cy,
            distortion=tuple(coefficients) if distorted else (),
            distortion_model=model if distorted else "plumb_bob",
        ).validate()
    except ValueError as error:
        raise InputError(f"camera info: {error}") from error


def pose_to_matrix(pose: Pose) -> np.ndarray:
    """``geometry_msgs/Pose`` -> 4x4 float64 (raises InputError for NaN or zero quaternion)."""
    p, q = pose.position, pose.orientation
    values = [p.x, p.y, p.z, q.x, q.y, q.z, q.w]
    if not all(math.isfinite(v) for v in values):
        raise InputError("pose has NaN or infinite components")
    norm = math.hypot(q.x, q.y, q.z, q.w)  # inf, not OverflowError, for huge components
    if abs(norm - 1.0) > 1e-2:
        raise InputError(f"pose orientation is not a unit quaternion (norm {norm:.3f})")
    return pose_from_translation_quaternion((p.x, p.y, p.z), (q.x, q.y, q.z, q.w))


def matrix_to_pose(matrix: np.ndarray) -> Pose:
    x, y, z, w = matrix_to_quaternion(np.asarray(matrix)[:3, :3])
    t = np.asarray(matrix)[:3, 3]
    return Pose(
        position=Point(x=float(t[0]), y=float(t[1]), z=float(t[2])),
        orientation=Quaternion(x=float(x), y=float(y), z=float(z), w=float(w)),
    )


def make_cloud(points: np.ndarray, relevancy: np.ndarray, frame_id: str, stamp) -> PointCloud2:
    """PointCloud2 with float32 fields x, y, z, relevancy."""
    points = np.asarray(points, dtype=np.float32).reshape(-1, 3)
    data = np.empty(len(points), dtype=[(n, np.float32) for n in ("x", "y", "z", "relevancy")])
    data["x"], data["y"], data["z"] = points[:, 0], points[:, 1], points[:, 2]
    data["relevancy"] = np.asarray(relevancy, dtype=np.float32).reshape(-1)
    msg = PointCloud2()
    msg.header.frame_id = frame_id
    msg.header.stamp = stamp
    msg.height, msg.width = 1, len(points)
    msg.fields = [
        PointField(name=name, offset=4 * i, datatype=PointField.FLOAT32, count=1)
        for i, name in enumerate(("x", "y", "z", "relevancy"))
    ]
    msg.is_bigendian = False
    msg.point_step = 16
    msg.row_step = 16 * len(points)
    msg.is_dense = True
    msg.data = data.tobytes()
    return msg


def cloud_to_arrays(msg: PointCloud2) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`make_cloud` (for clients and tests)."""
    offsets = {f.name: f.offset for f in msg.fields}
    dtype = np.dtype(
        {
            "names": ["x", "y", "z", "relevancy"],
            "formats": [np.float32] * 4,
            "offsets": [offsets[n] for n in ("x", "y", "z", "relevancy")],
            "itemsize": msg.point_step,
        }
    )
    data = np.frombuffer(bytes(msg.data), dtype=dtype, count=msg.width * msg.height)
    points = np.stack([data["x"], data["y"], data["z"]], axis=1)
    return points, np.asarray(data["relevancy"])


def peak_to_msg(peak) -> RelevancyPeak:
    """A core ``Peak`` -> ``lerf_ros/RelevancyPeak``."""
    return RelevancyPeak(
        position=Point(
            x=float(peak.position[0]), y=float(peak.position[1]), z=float(peak.position[2])
        ),
        relevancy=float(peak.relevancy),
        scale=float(peak.scale),
        extent=Vector3(x=float(peak.extent[0]), y=float(peak.extent[1]), z=float(peak.extent[2])),
        support=int(peak.support),
    )
