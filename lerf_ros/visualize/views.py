"""Where a 3D snapshot looks from and which box of the scene it shows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lerf_ros.visualize.answer import Answer3D


@dataclass(frozen=True)
class Viewpoint:
    """Where a snapshot looks from."""

    name: str
    """``scene`` (whole scene), ``answer`` (the answer and its surroundings) or ``closeup``."""
    title: str
    elev: float
    """Degrees above the horizon (90: straight down)."""
    azim: float | None
    """Degrees from +x towards +y of the viewer's direction; None: from where the cameras
    saw the best peak."""

    @property
    def closeup(self) -> bool:
        return self.name == "closeup"


VIEWPOINTS: dict[str, Viewpoint] = {
    "top": Viewpoint("scene", "top-down", 90.0, -90.0),
    "oblique": Viewpoint("answer", "oblique", 45.0, -60.0),
    "closeup": Viewpoint("closeup", "close-up", 30.0, None),
}


def _robust_bounds(points: np.ndarray, pad: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    if len(points) == 0:
        return np.full(3, -1.0), np.full(3, 1.0)
    low, high = np.percentile(points, [0.5, 99.5], axis=0)
    return low - pad, high + pad


def view_region(answer: Answer3D, view: Viewpoint) -> tuple[np.ndarray, np.ndarray]:
    """The box a viewpoint shows: the whole scene (robust bounds of the surface points), the
    answer (the best peak, the other peaks near it, the best grasp and goal, with a margin) or
    a close-up of the best peak."""
    scene_low, scene_high = _robust_bounds(answer.points)
    near = [np.asarray(p.position, dtype=np.float64) for p in answer.peaks[1:3]]
    near += [np.asarray(t.position, dtype=np.float64) for t in answer.goals[:1]]
    near += [np.asarray(t.position, dtype=np.float64) for t in answer.grasps[:1]]
    drawn = near + [np.asarray(p.position, dtype=np.float64) for p in answer.peaks[:1]]
    if drawn:  # the answer is always in the picture, even off the observed surface
        scene_low = np.minimum(scene_low, np.min(drawn, axis=0) - 0.1)
        scene_high = np.maximum(scene_high, np.max(drawn, axis=0) + 0.1)
    if not answer.peaks or view.name == "scene":
        return scene_low, scene_high
    best = answer.peaks[0]
    centre = np.asarray(best.position, dtype=np.float64)
    extent = np.asarray(getattr(best, "extent", np.full(3, 0.2)), dtype=np.float64)
    if view.closeup:
        half = float(np.clip(0.6 * np.max(extent[:2]) + 0.12, 0.18, 0.4))
        return centre - half, centre + half
    reach = [float(np.max(np.abs(p - centre)[:2])) for p in near]
    half = max([0.45, *(r + 0.15 for r in reach if r < 1.2)])
    low = np.maximum(centre - half, scene_low)
    high = np.minimum(centre + half, scene_high)
    # Height: what the surface has in that footprint (and the answer's own heights).
    column = np.all((answer.points[:, :2] >= low[:2]) & (answer.points[:, :2] <= high[:2]), 1)
    heights = [answer.points[column, 2]] if column.any() else []
    heights.append(np.array([centre[2], *(p[2] for p in near)]))
    z = np.concatenate(heights)
    z_low, z_high = np.percentile(z, [1.0, 99.0]) if len(z) > 1 else (z[0] - 0.5, z[0] + 0.5)
    answer_z = [centre[2], *(p[2] for p in near)]
    low[2], high[2] = min(z_low, *answer_z) - 0.05, max(z_high, *answer_z) + 0.05
    return low, high


def closeup_azimuth(answer: Answer3D, centre: np.ndarray, default: float) -> float:
    """Azimuth (degrees) of the side the cameras saw ``centre`` from (the mean horizontal
    direction from it to them), or ``default`` when they stood all around it."""
    if len(answer.cameras) == 0:
        return default
    directions = answer.cameras[:, :2] - centre[:2]
    norms = np.linalg.norm(directions, axis=1, keepdims=True)
    mean = (directions / np.maximum(norms, 1e-9)).mean(axis=0)
    if np.linalg.norm(mean) < 0.2:  # cameras all around (an orbit): any side was seen
        return default
    return float(np.degrees(np.arctan2(mean[1], mean[0])))
