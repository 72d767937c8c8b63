"""Group high-relevancy points into peaks (clusters), best first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree


@dataclass
class Peak:
    """One high-relevancy cluster."""

    position: np.ndarray
    """Relevancy-weighted centre of the cluster (3,), metres, in the query's frame."""
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
    """Cluster points with ``relevancy >= threshold`` into connected groups.

    Points closer than ``cluster_distance`` belong to the same cluster (single linkage). To stay
    fast for large clouds the linkage runs on occupied voxels of that size rather than on points.
    """
    points = np.asarray(points, dtype=np.float64)
    relevancy = np.asarray(relevancy, dtype=np.float64)
    selected = np.flatnonzero(relevancy >= threshold)
    if selected.size == 0 or max_results <= 0:
        return []
    voxel = max(cluster_distance, 1e-6)
    keys = np.floor(points[selected] / voxel).astype(np.int64)
    unique_keys, voxel_of_point = np.unique(keys, axis=0, return_inverse=True)
    voxel_of_point = voxel_of_point.reshape(-1)
    # Neighbouring voxels (26-connectivity) are within sqrt(3) voxel sizes of each other.
    pairs = cKDTree(unique_keys.astype(np.float64)).query_pairs(r=1.75, output_type="ndarray")
    graph = coo_matrix(
        (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])) if len(pairs) else ([], ([], [])),
        shape=(len(unique_keys), len(unique_keys)),
    )
    _, voxel_label = connected_components(graph, directed=False)
    label = voxel_label[voxel_of_point]

    peaks: list[Peak] = []
    for cluster in np.unique(label):
        members = selected[label == cluster]
        if members.size < min_support:
            continue
        scores = relevancy[members]
        best = np.sort(scores)[::-1][:top_points]
        weights = scores - threshold + 1e-6
        centre = (points[members] * weights[:, None]).sum(axis=0) / weights.sum()
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
