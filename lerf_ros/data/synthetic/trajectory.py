"""Camera paths for synthetic captures; every pose is an OpenCV camera-to-world 4x4."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lerf_ros.cameras.conventions import look_at as look_at_pose


def orbit(
    center: Sequence[float],
    radius: float,
    height: float,
    count: int,
    look_at: Sequence[float] | None = None,
    start_angle: float = 0.0,
    arc: float = 2.0 * math.pi,
) -> list[np.ndarray]:
    """``count`` cameras on a horizontal circle, all looking at one point.

    Args:
        center: circle centre; only its x and y are used for the camera positions.
        radius: circle radius, metres.
        height: camera height (world z), metres.
        count: number of views.
        look_at: point looked at; defaults to ``center``.
        start_angle: azimuth of the first view (radians from +x towards +y).
        arc: azimuth span; a full turn spaces views evenly without repeating the first.
    """
    center = np.asarray(center, dtype=np.float64)
    target = center if look_at is None else np.asarray(look_at, dtype=np.float64)
    full_turn = math.isclose(arc, 2.0 * math.pi)
    steps = count if full_turn or count == 1 else count - 1
    angles = start_angle + arc * np.arange(count) / max(steps, 1)
    eyes = [
        (center[0] + radius * math.cos(a), center[1] + radius * math.sin(a), height) for a in angles
    ]
    return [look_at_pose(eye, target) for eye in eyes]


def robot_height(
    center: Sequence[float],
    radius: float,
    count: int,
    camera_height: float = 1.0,
    start_angle: float = 0.0,
    arc: float = 2.0 * math.pi,
    sway: float = 0.0,
    seed: int = 0,
) -> list[np.ndarray]:
    """A mobile robot circling ``center`` with its head camera at ``camera_height``.

    Lower and flatter than an overview orbit (objects seen from the side, as a robot
    would); ``sway`` (metres) adds seeded random wobble to the path and the gaze.
    """
    rng = np.random.default_rng(seed)
    target = np.asarray(center, dtype=np.float64)
    poses = []
    for pose in orbit(center, radius, camera_height, count, target, start_angle, arc):
        eye = pose[:3, 3] + rng.normal(0.0, sway, 3) * (1.0, 1.0, 0.2)
        gaze = target + rng.normal(0.0, sway, 3)
        poses.append(look_at_pose(eye, gaze))
    return poses


def walk_through(
    waypoints: Sequence[Sequence[float]],
    count: int,
    target: Sequence[float] | None = None,
    tilt_down: float = 0.3,
) -> list[np.ndarray]:
    """``count`` cameras evenly spaced (by distance) along the polyline ``waypoints``.

    With a ``target`` every camera looks at it; otherwise cameras look along the direction
    of travel, pitched down by ``tilt_down`` radians (a walking person or a driving robot).
    """
    points = np.asarray(waypoints, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) < 2:
        raise ValueError("walk_through needs at least two 3D waypoints")
    segment_lengths = np.linalg.norm(np.diff(points, axis=0), axis=1)
    cumulative = np.concatenate([[0.0], np.cumsum(segment_lengths)])
    distances = np.linspace(0.0, cumulative[-1], count)
    eyes = np.stack([np.interp(distances, cumulative, points[:, i]) for i in range(3)], axis=1)
    poses = []
    for i, eye in enumerate(eyes):
        if target is not None:
            poses.append(look_at_pose(eye, target))
            continue
        segment = min(np.searchsorted(cumulative, distances[i], side="right") - 1, len(points) - 2)
        heading = points[segment + 1] - points[segment]
        heading[2] = 0.0
        heading /= np.linalg.norm(heading)
        gaze = eye + heading * math.cos(tilt_down) - np.array([0.0, 0.0, math.sin(tilt_down)])
        poses.append(look_at_pose(eye, gaze))
    return poses


def jitter_poses(
    poses: Sequence[np.ndarray], translation_std: float, rotation_std: float, seed: int = 0
) -> list[np.ndarray]:
    """Seeded random perturbation of poses: Gaussian translation (metres) and a rotation
    about a random axis (radians, applied in the camera frame), like a handheld capture."""
    rng = np.random.default_rng(seed)
    jittered = []
    for pose in poses:
        axis = rng.normal(size=3)
        axis /= np.linalg.norm(axis)
        angle = rng.normal(0.0, rotation_std)
        k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        rotation = np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k  # Rodrigues
        out = np.array(pose, dtype=np.float64, copy=True)
        out[:3, :3] = out[:3, :3] @ rotation
        out[:3, 3] += rng.normal(0.0, translation_std, 3)
        jittered.append(out)
    return jittered
