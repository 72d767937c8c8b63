"""Depth messages <-> float32 metres (0 = no reading), at the edge like every conversion.

``sensor_msgs/Image`` depth (16UC1/mono16 in ``depth_scale`` units, 32FC1 metres) and
compressed_depth_image_transport's ``sensor_msgs/CompressedImage`` (a 12-byte ConfigHeader,
then a 16-bit PNG). Every fault of a depth image raises :class:`DepthError`: it is a counted
depth drop, and its colour image still trains. Re-exported by :mod:`lerf_ros.ros.conversions`.
"""

from __future__ import annotations

import math
import struct

import cv2
import numpy as np
from sensor_msgs.msg import CompressedImage, Image

from lerf_ros.data import camera_stream
from lerf_ros.data.depth import (
    DEFAULT_DEPTH_MAX,
    DEFAULT_DEPTH_SCALE,
    DEPTH_ENCODINGS,
    DepthError,
    depth_to_metres,
)

MAX_IMAGE_SIDE = 8192
"""Largest depth image side accepted (the colour images' limit in :mod:`conversions`)."""


_DEPTH_DTYPES = {"16UC1": "u2", "MONO16": "u2", "32FC1": "f4"}
"""Depth encodings (upper-cased) -> numpy element type, without byte order."""


def depth_image_to_metres(
    msg: Image, depth_scale: float = DEFAULT_DEPTH_SCALE, depth_max: float = DEFAULT_DEPTH_MAX
) -> np.ndarray:
    """``sensor_msgs/Image`` depth (16UC1/mono16 in ``depth_scale`` units, 32FC1 metres) ->
    float32 metres [H, W], 0 = no reading. Raises :class:`DepthError` (every fault of a depth
    image is a depth drop: its colour image still trains)."""
    kind = _DEPTH_DTYPES.get(msg.encoding.upper())
    if kind is None:
        raise DepthError(
            f"unsupported depth encoding {msg.encoding!r} (supported: {', '.join(DEPTH_ENCODINGS)})"
        )
    encoding = "mono16" if msg.encoding.upper() == "MONO16" else msg.encoding.upper()
    item = int(kind[1])
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if not (0 < height <= MAX_IMAGE_SIDE and 0 < width <= MAX_IMAGE_SIDE):
        raise DepthError(f"depth image size {width}x{height} out of range")
    if step < width * item:
        raise DepthError(f"depth image step {step} is smaller than width x {item} bytes")
    data = bytes(msg.data)
    if len(data) != step * height:
        raise DepthError(
            f"depth image data has {len(data)} bytes, expected step x height = {step * height}"
        )
    # Rows may be padded (step > width x item): view bytes row by row, then the pixels.
    rows = np.frombuffer(data, dtype=np.uint8).reshape(height, step)[:, : width * item]
    dtype = np.dtype(kind).newbyteorder(">" if msg.is_bigendian else "<")
    raw = np.ascontiguousarray(rows).view(dtype).reshape(height, width)
    return depth_to_metres(raw.astype(dtype.newbyteorder("=")), encoding, depth_scale, depth_max)


COMPRESSED_DEPTH_HEADER = 12
"""Bytes of compressed_depth_image_transport's ConfigHeader before the PNG: int32 format,
float32 depthQuantA, float32 depthQuantB (little-endian, as every publisher's CPU writes it)."""
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def compressed_depth_to_metres(
    msg: CompressedImage,
    depth_scale: float = DEFAULT_DEPTH_SCALE,
    depth_max: float = DEFAULT_DEPTH_MAX,
) -> np.ndarray:
    """``sensor_msgs/CompressedImage`` from compressed_depth_image_transport (format
    ``"16UC1; compressedDepth png"`` or ``"32FC1; compressedDepth png"``) -> float32 metres
    [H, W], 0 = no reading. 16UC1 is the raw image as a 16-bit PNG; 32FC1 is quantised inverse
    depth, ``depth = depthQuantA / (value - depthQuantB)`` with value 0 = no reading. Raises
    :class:`DepthError`."""
    encoding, _, rest = (msg.format or "").partition(";")
    encoding = encoding.strip().upper()
    if encoding not in ("16UC1", "32FC1") or "compresseddepth" not in rest.lower():
        raise DepthError(
            f"unsupported depth encoding {msg.format!r} (supported: '16UC1; compressedDepth "
            "png', '32FC1; compressedDepth png')"
        )
    if "rvl" in rest.lower():
        raise DepthError(f"unsupported depth encoding {msg.format!r} (RVL; use png)")
    data = bytes(msg.data)
    if data[COMPRESSED_DEPTH_HEADER:][:8] != PNG_MAGIC:
        raise DepthError(f"compressed depth ({msg.format}) holds no PNG after its 12-byte header")
    _, quant_a, quant_b = struct.unpack("<iff", data[:COMPRESSED_DEPTH_HEADER])
    png = data[COMPRESSED_DEPTH_HEADER:]
    size = _png_size(png)  # refuses a decompression bomb before decoding
    if size is not None and not (0 < size[0] <= MAX_IMAGE_SIDE and 0 < size[1] <= MAX_IMAGE_SIDE):
        raise DepthError(f"compressed depth size {size[0]}x{size[1]} out of range")
    try:
        raw = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as error:
        raise DepthError(f"compressed depth cannot be decoded ({str(error)[:100]})") from None
    if raw is None or raw.ndim != 2 or raw.dtype != np.uint16:
        shape = None if raw is None else (raw.shape, str(raw.dtype))
        raise DepthError(f"compressed depth is not a one-channel 16-bit PNG ({shape})")
    if encoding == "16UC1":
        return depth_to_metres(raw, "16UC1", depth_scale, depth_max)
    if not (math.isfinite(quant_a) and math.isfinite(quant_b) and quant_a > 0):
        raise DepthError(
            f"compressed depth has a broken header (quantisation {quant_a}, {quant_b})"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        metres = (np.float32(quant_a) / (raw.astype(np.float32) - np.float32(quant_b))).astype(
            np.float32
        )
    metres[raw == 0] = np.nan  # no reading, as the transport's own decoder writes it
    return depth_to_metres(metres, "32FC1", depth_scale, depth_max)


def depth_to_image(
    metres: np.ndarray,
    frame_id: str,
    stamp,
    encoding: str = "16UC1",
    depth_scale: float = DEFAULT_DEPTH_SCALE,
) -> Image:
    """float32 metres [H, W] (0, NaN or inf = no reading) -> ``sensor_msgs/Image`` as 16UC1
    (units of ``depth_scale``, rounded; 0 = no reading) or 32FC1 (metres)."""
    if encoding == "16UC1":
        data = camera_stream.depth_to_units(metres, depth_scale)
        step = 2
    elif encoding == "32FC1":
        data = np.asarray(metres, dtype="<f4")
        step = 4
    else:
        raise ValueError(f"depth_to_image writes 16UC1 or 32FC1, not {encoding!r}")
    msg = Image()
    msg.header.frame_id = frame_id
    msg.header.stamp = stamp
    msg.height, msg.width = int(data.shape[0]), int(data.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = False
    msg.step = msg.width * step
    msg.data = np.ascontiguousarray(data).tobytes()
    return msg


def depth_to_compressed_depth(
    metres: np.ndarray,
    frame_id: str,
    stamp,
    encoding: str = "16UC1",
    depth_scale: float = DEFAULT_DEPTH_SCALE,
    quantization: float = 100.0,
    depth_max: float = 10.0,
) -> CompressedImage:
    """float32 metres [H, W] -> ``sensor_msgs/CompressedImage`` as compressed_depth_image_transport
    publishes it (its defaults: depth_quantization 100, depth_max 10 m): the 12-byte header,
    then a 16-bit PNG of 16UC1 units or of quantised inverse depth (32FC1)."""
    metres = np.asarray(metres, dtype=np.float32)
    quant_a, quant_b = 0.0, 0.0
    if encoding == "16UC1":
        raw = camera_stream.depth_to_units(metres, depth_scale)
        raw[raw > depth_max / depth_scale] = 0  # the transport drops readings beyond depth_max
    elif encoding == "32FC1":
        quant_a, quant_b = quantization, 1.0 - quantization / depth_max
        valid = np.isfinite(metres) & (metres > 0) & (metres < depth_max)
        inverse = np.zeros(metres.shape, np.float32)
        inverse[valid] = quant_a / metres[valid] + quant_b
        raw = inverse.astype(np.uint16)  # truncated, as the C++ encoder's cast does
    else:
        raise ValueError(f"compressedDepth carries 16UC1 or 32FC1, not {encoding!r}")
    ok, png = cv2.imencode(".png", raw)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {raw.shape} depth image as png")
    msg = CompressedImage()
    msg.header.frame_id = frame_id
    msg.header.stamp = stamp
    msg.format = f"{encoding}; compressedDepth png"
    msg.data = struct.pack("<iff", 0, quant_a, quant_b) + png.tobytes()
    return msg


def _png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, without decoding it (None: no IHDR)."""
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)
