"""Observed surface points of a synthetic scene, as the field's candidates would be."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.cameras.rays import camera_directions
from lerf_ros.data.synthetic.export import scene_trajectory
from lerf_ros.data.synthetic.render import render_view
from lerf_ros.data.synthetic.scene import Scene
from lerf_ros.query.candidates import DepthView, count_views


@dataclass
class Surface:
    points: np.ndarray
    """[N, 3] surface points seen by the cameras."""
    instance: np.ndarray
    """[N] index into scene.objects, -1 for floor / walls / table."""
    cameras: np.ndarray
    """[V, 3] camera positions."""
    views: list
    """DepthView per camera: what was seen, for visibility checks."""

    def observed(self, points: np.ndarray) -> np.ndarray:
        """Whether any camera saw each point (in its frustum and not behind a surface)."""
        return count_views(points, self.views) >= 1

    def relevancy_of(self, scene: Scene, names: set[str], high=0.9, low=0.3) -> np.ndarray:
        """Ideal relevancy: ``high`` on the named objects, ``low`` elsewhere."""
        ids = [i for i, obj in enumerate(scene.objects) if obj.name in names]
        return np.where(np.isin(self.instance, ids), high, low)


def observed_surface(scene: Scene, views: int = 16, width: int = 96) -> Surface:
    intrinsics = Intrinsics.from_fov(width, width * 3 // 4, math.radians(60.0))
    points, instance, cameras, depth_views = [], [], [], []
    for pose in scene_trajectory(scene, "orbit", views):
        view = render_view(scene, intrinsics, pose)
        hit = np.isfinite(view.distance)
        rows, cols = np.nonzero(hit)
        directions = camera_directions(intrinsics, cols + 0.5, rows + 0.5) @ pose[:3, :3].T
        points.append(pose[:3, 3] + directions * view.distance[hit][:, None])
        instance.append(view.instance[hit])
        cameras.append(pose[:3, 3])
        depth_views.append(DepthView(intrinsics, pose, view.depth))
    return Surface(np.concatenate(points), np.concatenate(instance), np.array(cameras), depth_views)
