"""Navigation goals next to a target for a mobile base (ROS-free, z up)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from lerf_ros.targets.config import NavigationConfig
from lerf_ros.targets.geometry import Occupancy, segment_samples

SEEN_SIDE_WEIGHT = 0.4
"""Share of a goal's quality that rewards standing where the cameras saw the target from."""


@dataclass
class NavigationGoal:
    """A base pose on the ground facing the target."""

    position: np.ndarray
    """(3,) on the ground, metres."""
    quaternion: np.ndarray
    """(x, y, z, w): yaw only, +x facing the target."""
    score: float
    """Relevancy x how well the goal's side was observed, in [0, 1]."""
    yaw: float
    """Heading (rad) from +x towards +y."""
    distance: float
    """Distance (m) from the goal to the target's footprint."""
    peak: int = 0
    """Index of the query peak it was planned for (0: the most relevant)."""
    visibility: float = 1.0
    """How well the goal's side of the target was observed, in [0, 1]: ``score`` is
    relevancy x visibility."""


def _standoff_point(
    centre: np.ndarray, direction: np.ndarray, footprint: cKDTree, standoff: float
) -> tuple[np.ndarray, float]:
    """The point along ``direction`` from ``centre`` whose distance to the footprint is
    ``standoff`` (bisection: that distance grows along the ray once outside the footprint)."""
    reach = np.max(footprint.data @ direction - centre @ direction)
    low, high = max(0.0, reach), max(0.0, reach) + standoff
    for _ in range(30):
        middle = 0.5 * (low + high)
        gap = footprint.query(centre + direction * middle)[0]
        low, high = (middle, high) if gap < standoff else (low, middle)
    point = centre + direction * high
    return point, float(footprint.query(point)[0])


def disc_points(centre_xy: np.ndarray, radius: float, z_low: float, z_high: float) -> np.ndarray:
    """Samples filling a vertical cylinder (the robot's body) at ~5 cm spacing."""
    rings = [np.zeros((1, 2))]
    for r in np.arange(0.05, radius + 1e-9, 0.05):
        count = max(6, int(2 * math.pi * r / 0.05))
        angle = np.arange(count) * 2 * math.pi / count
        rings.append(r * np.column_stack([np.cos(angle), np.sin(angle)]))
    xy = np.concatenate(rings) + centre_xy
    heights = np.arange(z_low, z_high + 1e-9, 0.1)
    return np.concatenate([np.column_stack([xy, np.full(len(xy), z)]) for z in heights])


def plan_navigation(
    target_points: np.ndarray,
    relevancy: float,
    camera_positions: np.ndarray,
    ground_z: float,
    occupied: Occupancy,
    observed: Occupancy,
    config: NavigationConfig,
) -> list[NavigationGoal]:
    """Goals on the ground ``standoff_distance`` from the target's footprint, best first.

    A goal needs a robot-sized column that the cameras saw (``observed``) and that is free
    (``occupied``), and a free line of sight to the target; among those, the sides the
    cameras saw the target from score best. An unknown ground (NaN) gives no goals.
    """
    target_points = np.asarray(target_points, dtype=np.float64)
    if len(target_points) == 0 or not math.isfinite(ground_z):
        return []  # no floor known (lerf_ros.targets.ground): no goal rather than a guess
    footprint = cKDTree(target_points[:, :2])
    centre = np.median(target_points[:, :2], axis=0)
    target_top = float(np.percentile(target_points[:, 2], 98.0))
    seen = np.zeros(2)
    if len(camera_positions):
        offsets = np.asarray(camera_positions)[:, :2] - centre
        lengths = np.linalg.norm(offsets, axis=1, keepdims=True)
        seen = np.mean(offsets / np.maximum(lengths, 1e-9), axis=0)
    goals = []
    for k in range(config.directions):
        angle = 2 * math.pi * k / config.directions
        direction = np.array([math.cos(angle), math.sin(angle)])
        xy, distance = _standoff_point(centre, direction, footprint, config.standoff_distance)
        body = disc_points(
            xy,
            config.robot_radius,
            ground_z + config.floor_clearance,
            ground_z + config.robot_height,
        )
        if np.mean(observed(body)) < config.min_observed:
            continue  # never seen: unknown space is not known to be free
        if np.any(occupied(body)):
            continue
        # Line of sight from the robot's eye height to the target's top, ignoring the last
        # few centimetres where the line meets the target itself.
        eye = np.array([*xy, ground_z + config.robot_height])
        sight = segment_samples(eye, np.array([*centre, target_top]), 0.02)
        sight = sight[footprint.query(sight[:, :2])[0] > 0.03]
        if np.any(occupied(sight)):
            continue
        towards = centre - xy
        yaw = math.atan2(towards[1], towards[0])
        quality = 1.0 - SEEN_SIDE_WEIGHT + SEEN_SIDE_WEIGHT * max(0.0, float(direction @ seen))
        goals.append(
            NavigationGoal(
                position=np.array([xy[0], xy[1], ground_z]),
                quaternion=np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]),
                score=float(relevancy * quality),
                visibility=float(quality),
                yaw=yaw,
                distance=distance,
            )
        )
    goals.sort(key=lambda g: g.score, reverse=True)
    return goals[: config.max_goals]
