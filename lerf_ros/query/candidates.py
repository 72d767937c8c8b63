"""Candidate points for 3D queries: the field's surface as seen from the keyframes.

Each keyframe is rendered at a reduced resolution; the expected-depth point of every ray
that hit something (accumulation above a threshold) is a candidate. A candidate's
*support* is the number of keyframes that see it: inside the image, in front of the camera,
and not hidden behind that keyframe's own rendered surface. LERF's paper discards samples
seen by fewer than ~5 training views; here the threshold is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lerf_ros.cameras.intrinsics import Intrinsics


@dataclass
class DepthView:
    """A keyframe's rendered depth at reduced resolution, for visibility tests."""

    intrinsics: Intrinsics
    """Intrinsics of the reduced-resolution depth map."""
    c2w: np.ndarray
    """Camera-to-world (OpenCV optical)."""
    depth: np.ndarray
    """``[h, w]`` z-depth in metres; ``inf`` where the field is empty."""


@dataclass
class Candidates:
    """Surface points of the field with their colour and how many keyframes see them."""

    points: np.ndarray
    """``[N, 3]`` float32 world positions."""
    colors: np.ndarray
    """``[N, 3]`` float32 rendered RGB in [0, 1]."""
    views: np.ndarray
    """``[N]`` int32 number of keyframes that see each point."""
    step: int = -1
    """Training step the candidates were computed at."""

    def __len__(self) -> int:
        return len(self.points)

    def filtered(self, min_views: int) -> Candidates:
        keep = self.views >= min_views
        return Candidates(self.points[keep], self.colors[keep], self.views[keep], self.step)


def project(points: np.ndarray, intrinsics: Intrinsics, c2w: np.ndarray):
    """Pinhole projection (distortion ignored: depth maps are coarse) -> (u, v, z)."""
    w2c = np.linalg.inv(c2w)
    cam = points @ w2c[:3, :3].T + w2c[:3, 3]
    z = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = intrinsics.fx * cam[:, 0] / z + intrinsics.cx
        v = intrinsics.fy * cam[:, 1] / z + intrinsics.cy
    return u, v, z


def _count_in_views(points: np.ndarray, views: list[DepthView], test) -> np.ndarray:
    """For each point, the number of views whose frustum holds it and where
    ``test(z, surface)`` holds (z: the point's depth, surface: the view's depth at its pixel)."""
    counts = np.zeros(len(points), dtype=np.int32)
    for view in views:
        u, v, z = project(points, view.intrinsics, view.c2w)
        h, w = view.depth.shape
        inside = (z > 1e-3) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
        idx = np.flatnonzero(inside)
        surface = view.depth[v[idx].astype(np.int64), u[idx].astype(np.int64)]
        counts[idx[test(z[idx], surface)]] += 1
    return counts


def count_views(
    points: np.ndarray,
    views: list[DepthView],
    relative_tolerance: float = 0.05,
    absolute_tolerance: float = 0.03,
) -> np.ndarray:
    """Number of depth views in which each point is visible (not occluded)."""
    return _count_in_views(
        points,
        views,
        lambda z, surface: z <= surface * (1.0 + relative_tolerance) + absolute_tolerance,
    )


def count_free_views(
    points: np.ndarray, views: list[DepthView], margin: float = 0.05
) -> np.ndarray:
    """Number of depth views that see *through* each point: it lies in front of the rendered
    surface by more than ``margin`` (5 % of the depth at least), so that view's rays crossed it
    and found it empty. Space carving from the median depth ignores soft, semi-transparent
    density (fog) that a density threshold alone would call solid."""
    return _count_in_views(
        points, views, lambda z, surface: z < surface - np.maximum(margin, 0.05 * surface)
    )


def voxel_downsample(points: np.ndarray, voxel: float, *arrays: np.ndarray):
    """Keep the first point per voxel of side ``voxel`` (and the matching rows of ``arrays``)."""
    if voxel <= 0 or len(points) == 0:
        return (points, *arrays)
    keys = np.floor(points / voxel).astype(np.int64)
    _, first = np.unique(keys, axis=0, return_index=True)
    first.sort()
    return (points[first], *(a[first] for a in arrays))
