"""Static camera extrinsics from a flat list of numbers (what a ROS parameter can hold).

ROS parameters have no nested lists, so N cameras' extrinsics are one list of 7 x N floats,
x y z qx qy qz qw per camera in camera order; a single 7-vector serves every camera.
Plain Python (no numpy, no torch): the node's settings check it at start-up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

EXTRINSIC_SIZE = 7
"""Numbers per camera: x y z qx qy qz qw."""


def check_extrinsics(values: Sequence[float], cameras: int, name: str = "extrinsic") -> None:
    """Raise ValueError naming ``name`` unless ``values`` holds 7 or 7 x ``cameras`` finite
    numbers, each quaternion of unit length (within 1 %)."""
    values = list(values)
    allowed = sorted({EXTRINSIC_SIZE, EXTRINSIC_SIZE * max(1, cameras)})
    if len(values) not in allowed:
        raise ValueError(
            f"{name} must hold {' or '.join(map(str, allowed))} numbers (x y z qx qy qz qw, "
            f"one 7-vector for all cameras or one per camera for {cameras} cameras), "
            f"got {len(values)}"
        )
    for camera in range(len(values) // EXTRINSIC_SIZE):
        part = [float(v) for v in values[camera * 7 : camera * 7 + 7]]
        if not all(math.isfinite(v) for v in part):
            raise ValueError(f"{name} of camera {camera} has non-finite numbers: {part}")
        norm = math.hypot(*part[3:])
        if abs(norm - 1.0) > 1e-2:
            raise ValueError(
                f"{name} of camera {camera}: quaternion {part[3:]} is not of unit length "
                f"(norm {norm:.3f})"
            )


def camera_extrinsics(
    values: Sequence[float], cameras: int
) -> list[tuple[tuple[float, ...], tuple[float, ...]]]:
    """(translation, unit quaternion x y z w) of each camera's optical frame in its posed
    frame, one per camera (checked first)."""
    check_extrinsics(values, cameras)
    values = [float(v) for v in values]
    extrinsics = []
    for camera in range(cameras):
        start = camera * EXTRINSIC_SIZE if len(values) > EXTRINSIC_SIZE else 0
        part = values[start : start + EXTRINSIC_SIZE]
        norm = math.hypot(*part[3:])
        extrinsics.append((tuple(part[:3]), tuple(q / norm for q in part[3:])))
    return extrinsics
