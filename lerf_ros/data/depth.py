"""Depth images registered to a colour camera: decoding to metres and the checks they pass.

A depth image is "registered" when it has the colour camera's intrinsics and size (RealSense's
``aligned_depth_to_color``, ZED's and OAK-D's depth aligned to the left/RGB camera). Its pixels
are z-depth along the optical axis. Readings that say "no reading" (0, NaN, +inf) or lie beyond
``depth_max`` become 0, which everything downstream reads as "no reading": those pixels train
colour only. A depth image that cannot be right as a whole (wrong size, negative or -inf
readings, no reading at all, a scale that puts most readings kilometres away) is refused with a
:class:`DepthError` naming the problem; its colour image still trains.
"""

from __future__ import annotations

import numpy as np

DEPTH_ENCODINGS = ("16UC1", "mono16", "32FC1")
"""``sensor_msgs/Image`` encodings of depth: 16-bit unsigned in ``depth_scale`` units
(``mono16`` is what some drivers call the same thing) or 32-bit float metres."""

DEFAULT_DEPTH_SCALE = 0.001
"""Metres per unit of a 16-bit depth image: millimetres, as RealSense, ZED, OAK-D and Azure
Kinect publish."""

DEFAULT_DEPTH_MAX = 6.0
"""Metres: readings beyond are ignored (structured-light and stereo noise grows with the
square of the distance; 6 m is about where consumer RGB-D cameras stop being centimetre-true)."""

ABSURD_FRACTION = 0.5
"""A depth image whose non-zero finite readings lie beyond ``depth_max`` more often than this
has the wrong scale or encoding (millimetres sent as 32FC1 metres, or a wrong depth_scale)."""


class DepthError(ValueError):
    """A depth image that cannot be used as a whole; the message says why."""


def depth_to_metres(
    raw: np.ndarray,
    encoding: str,
    depth_scale: float = DEFAULT_DEPTH_SCALE,
    depth_max: float = DEFAULT_DEPTH_MAX,
) -> np.ndarray:
    """float32 z-depth in metres [H, W], 0 = no reading, from a decoded depth image.

    ``raw`` is the image as its encoding stores it: uint16 units of ``depth_scale`` metres for
    ``16UC1``/``mono16``, float32 metres for ``32FC1``. Raises :class:`DepthError`.
    """
    if encoding not in DEPTH_ENCODINGS:
        raise DepthError(
            f"unsupported depth encoding {encoding!r} (supported: {', '.join(DEPTH_ENCODINGS)})"
        )
    raw = np.asarray(raw)
    if raw.ndim != 2 or raw.size == 0:
        raise DepthError(f"depth image must be one channel [H, W], got shape {raw.shape}")
    if not (np.isfinite(depth_scale) and depth_scale > 0):
        raise DepthError(f"depth_scale must be a positive number of metres, got {depth_scale}")
    if encoding == "32FC1":
        if raw.dtype != np.float32:
            raise DepthError(f"32FC1 depth must be float32, got {raw.dtype}")
        metres = raw.astype(np.float32, copy=True)
        if np.isneginf(metres).any() or (metres < 0).any():
            raise DepthError("depth has negative readings")
        metres[~np.isfinite(metres)] = 0.0  # NaN and +inf: no reading
    else:
        if raw.dtype != np.uint16:
            raise DepthError(f"{encoding} depth must be uint16, got {raw.dtype}")
        metres = raw.astype(np.float32) * np.float32(depth_scale)
    return clip_to_range(metres, depth_max)


def clip_to_range(metres: np.ndarray, depth_max: float) -> np.ndarray:
    """Zero the readings beyond ``depth_max``; refuse an image without a reading in range or
    with most readings beyond it (a wrong scale, not a far wall)."""
    readings = metres > 0
    count = int(readings.sum())
    if count == 0:
        raise DepthError("depth has no reading (every pixel 0, NaN or inf)")
    beyond = readings & (metres > depth_max)
    if beyond.sum() > ABSURD_FRACTION * count:
        median = float(np.median(metres[readings]))
        raise DepthError(
            f"depth readings are absurd: the median reading is {median:.3g} m, most beyond "
            f"depth_max {depth_max:g} m (check depth_scale and the encoding)"
        )
    metres[beyond] = 0.0
    return metres


def check_registered(depth: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """The depth as float32 metres [H, W] when it matches the colour image's size and holds
    only finite, non-negative readings (0 = no reading); raise :class:`DepthError` otherwise.
    The engine's last check on depth handed to it directly (datasets, the CLI, tests)."""
    if not isinstance(depth, np.ndarray) or depth.ndim != 2:
        shape = getattr(depth, "shape", type(depth).__name__)
        raise DepthError(f"depth must be a [H, W] array, got {shape}")
    if depth.shape != tuple(image_shape[:2]):
        raise DepthError(
            f"depth is {depth.shape[1]}x{depth.shape[0]} but the colour image is "
            f"{image_shape[1]}x{image_shape[0]} (depth must be registered to the colour camera)"
        )
    depth = np.asarray(depth, dtype=np.float32)
    if not np.isfinite(depth).all():
        raise DepthError("depth has NaN or infinite readings (use 0 for no reading)")
    if (depth < 0).any():
        raise DepthError("depth has negative readings")
    if not (depth > 0).any():
        raise DepthError("depth has no reading (every pixel 0)")
    return depth


def depth_drop_reason(error: DepthError) -> str:
    """The short, stable key a depth drop is counted under (``bad depth: <first words>``)."""
    text = str(error)
    # Most specific first: the absurd-values text names "the encoding" and the non-finite
    # text "no reading", so a looser key or order would count them under another reason.
    for key, reason in (
        ("unsupported depth encoding", "unsupported encoding"),
        ("registered", "size mismatch"),
        ("absurd", "absurd values"),
        ("NaN or infinite", "non-finite"),
        ("negative", "negative"),
        ("no reading", "no reading"),
    ):
        if key in text:
            return f"bad depth: {reason}"
    return "bad depth"
