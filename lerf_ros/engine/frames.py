"""The checks every frame passes before it can become a keyframe (live or from a checkpoint)."""

from __future__ import annotations

import numpy as np

from lerf_ros.cameras.conventions import validate_pose
from lerf_ros.cameras.intrinsics import Intrinsics

MAX_POSITION = 1e5
"""Metres: a camera farther than this from the fixed frame's origin is a corrupt pose (the
field computes in float32; a pose beyond float32's range made every later step fail)."""


def validate_frame(image: np.ndarray, intrinsics: Intrinsics, c2w: np.ndarray) -> np.ndarray:
    """Raise ValueError naming the problem; returns the pose as float64 4x4."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3:
        raise ValueError("image must be a uint8 [H, W, 3] array")
    if image.shape[2] != 3:
        raise ValueError(f"image must have 3 channels, got {image.shape[2]}")
    if not isinstance(intrinsics, Intrinsics):
        raise ValueError(f"intrinsics must be Intrinsics, got {type(intrinsics).__name__}")
    intrinsics.validate()
    if (image.shape[1], image.shape[0]) != (intrinsics.width, intrinsics.height):
        raise ValueError(
            f"image is {image.shape[1]}x{image.shape[0]} but camera info says "
            f"{intrinsics.width}x{intrinsics.height}"
        )
    try:
        pose = np.asarray(c2w, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("pose is not a numeric 4x4 matrix") from None
    pose = validate_pose(pose)
    distance = float(np.abs(pose[:3, 3]).max())
    if distance > MAX_POSITION:
        raise ValueError(
            f"camera position {distance:.3g} m from the origin is beyond {MAX_POSITION:g} m"
        )
    return pose
