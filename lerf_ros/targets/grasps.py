"""Parallel-jaw grasps of one object's surface points (ROS-free).

Pose convention (also in the README): the gripper approaches along the pose's +x axis, its
fingers close along +y, z = x × y; the position is between the fingertips at the grasp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lerf_ros.cameras.conventions import matrix_to_quaternion, quaternion_to_matrix
from lerf_ros.targets.config import GraspConfig
from lerf_ros.targets.geometry import Occupancy, outward_normals, segment_samples

DOWN = np.array([0.0, 0.0, -1.0])
UP = np.array([0.0, 0.0, 1.0])
PREFERENCE = 0.7
"""Quality factor of the approach kind that ``approach: auto`` does not prefer."""


@dataclass
class Grasp:
    """One gripper pose with what it was planned from."""

    position: np.ndarray
    """(3,) point between the fingertips, metres."""
    quaternion: np.ndarray
    """(x, y, z, w) of the frame [approach, closing, approach × closing]."""
    score: float
    """Relevancy x geometric quality, in [0, 1]."""
    approach: np.ndarray
    """(3,) unit direction the gripper moves in (the pose's +x)."""
    closing: np.ndarray
    """(3,) unit direction the fingers close along (the pose's +y)."""
    width: float
    """Object extent across the fingers (m)."""
    kind: str
    """``top`` or ``side``."""
    pre_grasp: np.ndarray
    """(3,) where the approach corridor starts, ``pre_grasp_distance`` back along -approach."""
    peak: int = 0
    """Index of the query peak it was planned for (0: the most relevant)."""


def _robust_range(values: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(values, [2.0, 98.0])
    return float(low), float(high)


def _horizontal_axes(points: np.ndarray) -> list[np.ndarray]:
    """The two horizontal principal axes of the points (major first)."""
    xy = points[:, :2] - points[:, :2].mean(axis=0)
    _, vectors = np.linalg.eigh(xy.T @ xy)
    return [np.array([*vectors[:, i], 0.0]) for i in (1, 0)]


def approach_directions(points: np.ndarray, config: GraspConfig) -> list[tuple[str, np.ndarray]]:
    """Candidate approach directions: straight down and ``side_directions`` horizontal ones."""
    candidates = []
    if config.approach in ("auto", "top"):
        candidates.append(("top", DOWN))
    if config.approach in ("auto", "side"):
        angles = np.arange(config.side_directions) * 2 * math.pi / config.side_directions
        # Start the fan on the object's own axes so box faces are met square on.
        major = _horizontal_axes(points)[0]
        offset = math.atan2(major[1], major[0])
        for angle in angles + offset:
            candidates.append(("side", np.array([math.cos(angle), math.sin(angle), 0.0])))
    return candidates


def corridor_points(
    position: np.ndarray,
    approach: np.ndarray,
    closing: np.ndarray,
    opening: float,
    grip_depth: float,
    config: GraspConfig,
) -> np.ndarray:
    """Points swept by the fingers and the palm from the pre-grasp pose to the grasp.

    The fingers travel the whole way on either side of the object; the palm stops just
    before the object's near face.
    """
    across = np.cross(approach, closing)
    start = position - approach * config.pre_grasp_distance
    thickness = config.finger_thickness
    samples = []
    for side in (-1.0, 1.0):
        # Each finger is a slab from the opening outwards: sample its inner face, middle and
        # outer face, at both edges and the centre of its breadth.
        for outward in (0.0, 0.5, 1.0):
            for lateral in (-0.5, 0.0, 0.5):
                shift = closing * side * (0.5 * opening + outward * thickness)
                shift = shift + across * lateral * thickness
                samples.append(segment_samples(start + shift, position + shift))
    palm_end = position - approach * (grip_depth + 0.01)
    if np.dot(palm_end - start, approach) > 0:
        for offset in np.linspace(-0.5 * opening, 0.5 * opening, 5):
            samples.append(segment_samples(start + closing * offset, palm_end + closing * offset))
    return np.concatenate(samples)


def plan_grasps(
    points: np.ndarray,
    relevancy: float,
    occupied: Occupancy,
    config: GraspConfig,
    resting: bool,
) -> list[Grasp]:
    """Grasps of an object given its surface points, best first (at most ``max_per_peak``).

    Each approach direction needs an observed face whose outward normals oppose it; the
    fingers close across the object's extent along a perpendicular axis (horizontal ones,
    and vertical for side approaches), which must fit ``max_gripper_width`` with clearance;
    the approach corridor must be free according to ``occupied``.
    """
    points = np.asarray(points, dtype=np.float64)
    if len(points) < 10:
        return []
    normals = outward_normals(points)
    face_cos = math.cos(math.radians(config.face_angle_deg))
    grasps: list[Grasp] = []
    for kind, approach in approach_directions(points, config):
        face_share = float(np.mean(normals @ -approach >= face_cos))
        if face_share < config.min_face_share:
            continue  # no surface seen on that side: nothing to grasp, or a wall is there
        near, far = _robust_range(points @ approach)
        closings = _horizontal_axes(points) if kind == "top" else [np.cross(UP, approach), UP]
        for closing in closings:
            closing = closing / np.linalg.norm(closing)
            low, high = _robust_range(points @ closing)
            width = high - low
            opening = width + 2.0 * config.finger_clearance
            if opening > config.max_gripper_width:
                continue
            across = np.cross(approach, closing)
            across_low, across_high = _robust_range(points @ across)
            grip_depth = min(config.finger_depth, 0.5 * (far - near))
            position = (
                approach * (near + grip_depth)
                + closing * 0.5 * (low + high)
                + across * 0.5 * (across_low + across_high)
            )
            corridor = corridor_points(position, approach, closing, opening, grip_depth, config)
            if np.any(occupied(corridor)):
                continue
            preferred = (kind == "top") == resting or config.approach != "auto"
            quality = (
                (1.0 - 0.5 * opening / config.max_gripper_width)
                * min(1.0, face_share / 0.2) ** 0.5
                * (1.0 if preferred else PREFERENCE)
            )
            rotation = np.column_stack([approach, closing, across])
            grasp = Grasp(
                position=position,
                quaternion=matrix_to_quaternion(rotation),
                score=float(relevancy * quality),
                approach=approach.copy(),
                closing=closing,
                width=float(width),
                kind=kind,
                pre_grasp=position - approach * config.pre_grasp_distance,
            )
            grasps.append(grasp)
    grasps.sort(key=lambda g: g.score, reverse=True)
    return grasps[: config.max_per_peak]


def gripper_segments(grasp, finger_length: float = 0.05, clearance: float = 0.01) -> np.ndarray:
    """Line segments ``[4, 2, 3]`` drawing the open gripper at ``grasp``: two fingers, the
    palm joining them and the wrist behind it (for RViz markers and pictures). Takes anything
    with ``position``, ``quaternion`` (the pose convention above) and optionally ``width``, so
    it also draws grasps that came back over a service."""
    rotation = quaternion_to_matrix(*np.asarray(grasp.quaternion, dtype=np.float64))
    x, y = rotation[:, 0], rotation[:, 1]
    half = 0.5 * float(getattr(grasp, "width", 0.06)) + clearance
    tip = np.asarray(grasp.position, dtype=np.float64)
    palm = tip - x * finger_length
    wrist = palm - x * finger_length
    return np.array(
        [
            [tip + y * half, palm + y * half],
            [tip - y * half, palm - y * half],
            [palm + y * half, palm - y * half],
            [palm, wrist],
        ]
    )
