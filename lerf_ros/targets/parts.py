"""``object;part`` queries (as LERF-TOGO): the part's relevancy restricted to the object."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from lerf_ros.query.peaks import Peak, find_peaks
from lerf_ros.query.request import QueryError


def split_part_query(text: str) -> tuple[str, str]:
    """``"mug;handle"`` -> ``("mug", "handle")``; ``"mug"`` -> ``("mug", "")``.

    Raises QueryError when either side of the ``;`` is empty.
    """
    if ";" not in text:
        return text, ""
    object_text, _, part_text = text.partition(";")
    if not object_text.strip() or not part_text.strip():
        raise QueryError(
            f"'object;part' query {text[:80]!r} needs text on both sides of ';' (e.g. 'mug;handle')"
        )
    return object_text.strip(), part_text.strip()


def region_mask(points: np.ndarray, object_points: np.ndarray, margin: float) -> np.ndarray:
    """Which of ``points`` lie within ``margin`` of the object's points."""
    if len(object_points) == 0 or len(points) == 0:
        return np.zeros(len(points), dtype=bool)
    distance, _ = cKDTree(object_points).query(points, distance_upper_bound=margin)
    return np.isfinite(distance)


def part_peaks(
    points: np.ndarray,
    part_relevancy: np.ndarray,
    object_points: np.ndarray,
    threshold: float,
    scale: float,
    cluster_distance: float,
    margin: float,
    max_results: int,
) -> list[Peak]:
    """Peaks of the part's relevancy among the points of the object's region.

    The returned peaks index into ``points`` (the part query's candidates).
    """
    inside = np.flatnonzero(region_mask(points, object_points, margin))
    if inside.size == 0:
        return []
    peaks = find_peaks(
        points[inside],
        part_relevancy[inside],
        threshold,
        scale,
        cluster_distance,
        max_results=max_results,
    )
    for peak in peaks:
        peak.indices = inside[peak.indices]
    return peaks
