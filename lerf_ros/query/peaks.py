"""Group high-relevancy points into peaks (clusters), best first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

CORE_FRACTION = 0.5
"""A cluster's core is its points above ``threshold + CORE_FRACTION * (top - threshold)``."""


@dataclass
class Peak:
    """One high-relevancy cluster."""

    position: np.ndarray
    """Relevancy-weighted centre of the cluster's core (3,), metres, in the query's frame."""
    relevancy: float
    """Score of the cluster: the mean relevancy of its most relevant points."""
    scale: float
    """Language-field scale (metres) the relevancy was evaluated at."""
    extent: np.ndarray
    """Axis-aligned size (3,) of the cluster, robust to a few outliers (2nd–98th percentile)."""
    support: int
    """Number of candidate points in the cluster."""
    indices: np.ndarray
    """Indices of the cluster's points in the candidate array."""


def voxel_graph(points: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Occupied voxels of ``size`` and their 26-neighbour pairs: ``(voxel_of_point, pairs)``."""
    keys = np.floor(points / max(size, 1e-6)).astype(np.int64)
    unique_keys, voxel_of_point = np.unique(keys, axis=0, return_inverse=True)
    # Neighbouring voxels (26-connectivity) are within sqrt(3) voxel sizes of each other.
    pairs = cKDTree(unique_keys.astype(np.float64)).query_pairs(r=1.75, output_type="ndarray")
    return voxel_of_point.reshape(-1), pairs.reshape(-1, 2)


def connected_labels(points: np.ndarray, distance: float) -> np.ndarray:
    """Single-linkage labels of ``points`` at about ``distance`` (on occupied voxels)."""
    voxel_of_point, pairs = voxel_graph(points, distance)
    count = int(voxel_of_point.max()) + 1 if len(voxel_of_point) else 0
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(count, count))
    _, labels = connected_components(graph, directed=False)
    return labels[voxel_of_point]


def persistence_labels(values: np.ndarray, pairs: np.ndarray, floor: float) -> np.ndarray:
    """Label the nodes of a graph by the relevancy hill they belong to (ToMATo-style).

    Nodes are visited from the most relevant down; each joins the hill of its best visited
    neighbour. Where two hills meet, the lower one survives as its own peak only if it rises
    above the meeting point by at least ``CORE_FRACTION`` of its height above ``floor``; smaller
    bumps (noise on one object) are merged into the higher hill. So a vase touching a box gives
    two peaks, and a speckled object gives one.
    """
    count = len(values)
    order = np.argsort(-values, kind="stable").tolist()
    ends = np.concatenate([pairs, pairs[:, ::-1]]) if len(pairs) else np.zeros((0, 2), int)
    ends = ends[np.argsort(ends[:, 0], kind="stable")]
    starts = np.searchsorted(ends[:, 0], np.arange(count + 1)).tolist()
    neighbours = ends[:, 1].tolist()
    value = values.tolist()
    parent = list(range(count))
    peak = list(value)
    visited = [False] * count

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for node in order:
        hills = {
            root(other) for other in neighbours[starts[node] : starts[node + 1]] if visited[other]
        }
        visited[node] = True
        if not hills:
            continue
        highest = max(hills, key=peak.__getitem__)
        parent[node] = highest
        for hill in hills - {highest}:
            if peak[hill] - value[node] < CORE_FRACTION * (peak[hill] - floor):
                parent[hill] = highest
    return np.array([root(node) for node in range(count)], dtype=np.int64)


def find_peaks(
    points: np.ndarray,
    relevancy: np.ndarray,
    threshold: float,
    scale: float,
    cluster_distance: float,
    min_support: int = 3,
    max_results: int = 5,
    top_points: int = 10,
) -> list[Peak]:
    """Cluster points with ``relevancy >= threshold`` into relevancy hills, best first.

    Points closer than ``cluster_distance`` are neighbours; a connected region with several
    distinct relevancy maxima is split between them (see :func:`persistence_labels`). To stay
    fast for large clouds the graph is built on occupied voxels of that size, not on points.
    """
    points = np.asarray(points, dtype=np.float64)
    relevancy = np.asarray(relevancy, dtype=np.float64)
    selected = np.flatnonzero(relevancy >= threshold)
    if selected.size == 0 or max_results <= 0:
        return []
    voxel_of_point, pairs = voxel_graph(points[selected], cluster_distance)
    voxel_value = np.full(int(voxel_of_point.max()) + 1, -np.inf)
    np.maximum.at(voxel_value, voxel_of_point, relevancy[selected])
    label = persistence_labels(voxel_value, pairs, threshold)[voxel_of_point]

    peaks: list[Peak] = []
    for cluster in np.unique(label):
        members = selected[label == cluster]
        if members.size < min_support:
            continue
        scores = relevancy[members]
        best = np.sort(scores)[::-1][:top_points]
        # The centre is taken over the hill's top part so a wide, barely relevant skirt (table
        # points around a vase) cannot drag it off the object.
        core = scores >= threshold + CORE_FRACTION * (best[0] - threshold)
        weights = scores[core] - threshold + 1e-6
        centre = (points[members[core]] * weights[:, None]).sum(axis=0) / weights.sum()
        low, high = np.percentile(points[members], [2.0, 98.0], axis=0)
        peaks.append(
            Peak(
                position=centre,
                relevancy=float(best.mean()),
                scale=float(scale),
                extent=high - low,
                support=int(members.size),
                indices=members,
            )
        )
    peaks.sort(key=lambda peak: peak.relevancy, reverse=True)
    return peaks[:max_results]
