"""First-order grasp and navigation targets from a peak (ROS-free).

Grasp: top-down at the top of the peak's cluster, fingers closing across its narrower
horizontal extent. Navigation goal: on the ground, ``standoff`` from the target on the side
the cameras saw it from, facing it. The full geometry (surface normals, approach corridors
checked against the field's density, object;part queries) builds on these.

Gripper pose convention: the approach direction is the pose's +x axis, the fingers close
along +y, z = x × y.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lerf_ros.cameras.conventions import matrix_to_quaternion


@dataclass
class Target:
    """A pose in the query's frame with a score."""

    position: np.ndarray
    """(3,) metres."""
    quaternion: np.ndarray
    """(x, y, z, w)."""
    score: float


def ground_height(points: np.ndarray, percentile: float = 2.0) -> float:
    """Height of the floor: a low percentile of the surface points' z (z up)."""
    return float(np.percentile(points[:, 2], percentile)) if len(points) else 0.0


def top_down_grasp(
    cluster_points: np.ndarray, relevancy: float, max_width: float = 0.12
) -> Target | None:
    """Top-down grasp of a cluster; None when it is wider than the gripper both ways."""
    if len(cluster_points) == 0:
        return None
    low, high = np.percentile(cluster_points, [5.0, 95.0], axis=0)
    size = high - low
    centre = 0.5 * (low + high)
    close_along_x = size[0] <= size[1]
    width = size[0] if close_along_x else size[1]
    if width > max_width:
        return None
    approach = np.array([0.0, 0.0, -1.0])
    closing = np.array([1.0, 0.0, 0.0]) if close_along_x else np.array([0.0, 1.0, 0.0])
    rotation = np.column_stack([approach, closing, np.cross(approach, closing)])
    position = np.array([centre[0], centre[1], high[2]])
    quality = 1.0 - 0.5 * width / max_width
    return Target(position, matrix_to_quaternion(rotation), float(relevancy * quality))


def navigation_goal(
    target: np.ndarray,
    camera_positions: np.ndarray,
    floor_z: float,
    standoff: float = 0.8,
    score: float = 1.0,
) -> Target:
    """A ground pose ``standoff`` from ``target`` towards where the cameras were, facing it."""
    seen_from = (
        np.mean(camera_positions, axis=0) if len(camera_positions) else target + np.array([1, 0, 0])
    )
    direction = (seen_from - target)[:2]
    norm = float(np.linalg.norm(direction))
    direction = direction / norm if norm > 1e-6 else np.array([1.0, 0.0])
    position = np.array([*(target[:2] + standoff * direction), floor_z])
    yaw = float(np.arctan2(-direction[1], -direction[0]))
    quaternion = np.array([0.0, 0.0, np.sin(yaw / 2), np.cos(yaw / 2)])
    return Target(position, quaternion, score)
