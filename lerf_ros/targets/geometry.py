"""Surface geometry the planners need: normals, support planes (z is up; the ground is in
:mod:`lerf_ros.targets.ground`)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Occupancy = Callable[[np.ndarray], np.ndarray]
"""``occupied(points [N, 3]) -> bool [N]``: whether each point is inside something solid."""


def outward_normals(points: np.ndarray, neighbours: int = 16) -> np.ndarray:
    """Unit normals of a surface patch, oriented away from its centroid.

    Fitted by open3d on the ``neighbours`` nearest points. Orienting away from the centroid
    is right for the convex-ish objects a gripper picks up.
    """
    import open3d as o3d

    points = np.asarray(points, dtype=np.float64)
    if len(points) < 3:
        return np.zeros_like(points)
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    cloud.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(min(neighbours, len(points))))
    normals = np.asarray(cloud.normals)
    outward = points - points.mean(axis=0)
    flip = np.einsum("ij,ij->i", normals, outward) < 0
    normals[flip] *= -1.0
    return normals


def support_height(
    object_points: np.ndarray, surface_points: np.ndarray, tolerance: float
) -> float | None:
    """Height of the horizontal surface the object rests on, or None when it rests on nothing.

    Looks at surface points around the object's footprint (not on it) that lie within
    ``tolerance`` of the object's bottom, and asks that they form a flat band there.
    """
    low, high = np.percentile(object_points, [2.0, 98.0], axis=0)
    bottom = low[2]
    margin = max(0.05, 0.5 * float(np.max(high[:2] - low[:2])))
    near = np.all(
        (surface_points[:, :2] >= low[:2] - margin) & (surface_points[:, :2] <= high[:2] + margin),
        axis=1,
    )
    band = near & (np.abs(surface_points[:, 2] - bottom) <= tolerance)
    heights = surface_points[band, 2]
    if len(heights) < 10 or np.std(heights) > tolerance:
        return None
    return float(np.median(heights))


def segment_samples(start: np.ndarray, end: np.ndarray, spacing: float = 0.01) -> np.ndarray:
    """Points every ``spacing`` metres from ``start`` to ``end`` (both included)."""
    length = float(np.linalg.norm(end - start))
    count = max(2, math.ceil(length / spacing) + 1)
    return start + np.linspace(0.0, 1.0, count)[:, None] * (end - start)


def segment_object(
    points: np.ndarray,
    relevancy: np.ndarray,
    members: np.ndarray,
    threshold: float,
    top: float,
    distance: float,
    level: float = 0.75,
) -> np.ndarray:
    """Indices (into ``points``) of the object around a peak.

    A peak's cluster is grown at the query's low threshold and can take in a relevant-looking
    surrounding (the table round a box, a neighbour). The object is the connected part of the
    cluster above ``threshold + level * (top - threshold)`` that holds the most relevancy.
    """
    from lerf_ros.query.peaks import connected_labels

    cut = threshold + level * (top - threshold)
    strong = members[relevancy[members] >= cut]
    if strong.size < 10:
        return members
    labels = connected_labels(points[strong], distance)
    weight = np.bincount(labels, weights=relevancy[strong] - cut)
    return strong[labels == int(np.argmax(weight))]
