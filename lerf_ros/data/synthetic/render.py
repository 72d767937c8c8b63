"""Ray-traced views of a synthetic scene with exact depth and instance masks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.cameras.rays import camera_directions
from lerf_ros.data.synthetic import palette
from lerf_ros.data.synthetic.geometry import intersect
from lerf_ros.data.synthetic.scene import Scene

MISS_RGB = np.zeros(3)
"""Colour of rays that leave the scene (only possible through gaps or without a room)."""

BACKGROUND_LABELS: tuple[str, ...] = tuple(item.key for item in palette.BACKGROUND)
"""Names of background label values: ``background[v, u] == i`` means BACKGROUND_LABELS[i]."""


@dataclass
class RenderedView:
    """One rendered camera view with per-pixel ground truth."""

    rgb: np.ndarray
    """Colour, float32 [H, W, 3] in [0, 1] (linear, as the palette albedos)."""
    depth: np.ndarray
    """Z-depth along the optical axis, float32 [H, W], metres; inf where nothing is hit."""
    distance: np.ndarray
    """Distance along the pixel-centre ray, float32 [H, W]; inf where nothing is hit."""
    instance: np.ndarray
    """Index into ``scene.objects`` of the visible object, int32 [H, W]; -1 elsewhere."""
    background: np.ndarray
    """Index into BACKGROUND_LABELS (floor / wall / table) of the visible surface, int32
    [H, W]; -1 on objects and misses."""
    c2w: np.ndarray
    """Camera-to-world pose of the view (OpenCV axes), float64 [4, 4]."""
    intrinsics: Intrinsics
    """Camera the view was rendered with."""


def trace(scene: Scene, origins: np.ndarray, directions: np.ndarray):
    """First hit of every ray: (distance, normals, albedo, instance, background label)."""
    count = len(origins)
    best = np.full(count, np.inf)
    normals = np.zeros((count, 3))
    albedo = np.tile(MISS_RGB, (count, 1))
    instance = np.full(count, -1, dtype=np.int32)
    background = np.full(count, -1, dtype=np.int32)
    surfaces = [(i, -1, obj) for i, obj in enumerate(scene.objects)]
    surfaces += [
        (-1, BACKGROUND_LABELS.index(label), obj) for label, obj in scene.background_surfaces()
    ]
    for instance_id, label, obj in surfaces:
        t, n = intersect(obj, origins, directions)
        closer = t < best
        best[closer] = t[closer]
        normals[closer] = n[closer]
        albedo[closer] = obj.albedo
        instance[closer] = instance_id
        background[closer] = label
    return best, normals, albedo, instance, background


def shade(scene: Scene, normals: np.ndarray, directions: np.ndarray, albedo: np.ndarray):
    """Lambertian shading with an ambient floor; surfaces are lit from the side seen."""
    facing = -np.sign(np.einsum("ij,ij->i", normals, directions))
    diffuse = np.clip((normals * facing[:, None]) @ scene.light_direction, 0.0, 1.0)
    return albedo * (scene.ambient + (1.0 - scene.ambient) * diffuse)[:, None]


def _trace_pixels(scene, intrinsics, c2w, u, v):
    # numpy throughout: the same camera model as lerf_ros.cameras.rays, without torch's
    # per-op overhead on small CPU arrays.
    directions = camera_directions(intrinsics, u, v) @ c2w[:3, :3].T
    origins = np.broadcast_to(c2w[:3, 3], directions.shape)
    distance, normals, albedo, instance, background = trace(scene, origins, directions)
    rgb = np.where(
        np.isfinite(distance)[:, None], shade(scene, normals, directions, albedo), MISS_RGB
    )
    return rgb, distance, directions, instance, background


def render_view(
    scene: Scene, intrinsics: Intrinsics, c2w: np.ndarray, supersample: int = 1
) -> RenderedView:
    """Render ``scene`` from ``c2w`` (OpenCV camera-to-world) with ``intrinsics``.

    ``supersample`` s > 1 averages s x s colour samples per pixel (anti-aliasing); depth,
    instance and background labels always come from the exact pixel centre.
    """
    c2w = np.asarray(c2w, dtype=np.float64)
    height, width = intrinsics.height, intrinsics.width
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    u = cols.reshape(-1) + 0.5
    v = rows.reshape(-1) + 0.5
    rgb, distance, directions, instance, background = _trace_pixels(scene, intrinsics, c2w, u, v)
    if supersample > 1:
        offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
        du, dv = np.meshgrid(offsets, offsets, indexing="xy")
        su = (u[:, None] + du.reshape(1, -1)).reshape(-1)
        sv = (v[:, None] + dv.reshape(1, -1)).reshape(-1)
        samples = _trace_pixels(scene, intrinsics, c2w, su, sv)
        rgb = samples[0].reshape(-1, supersample * supersample, 3).mean(axis=1)
    depth = distance * (directions @ c2w[:3, 2])  # projection onto the optical axis
    shape = (height, width)
    return RenderedView(
        rgb=np.clip(rgb, 0.0, 1.0).reshape(height, width, 3).astype(np.float32),
        depth=depth.reshape(shape).astype(np.float32),
        distance=distance.reshape(shape).astype(np.float32),
        instance=instance.reshape(shape),
        background=background.reshape(shape),
        c2w=c2w.copy(),
        intrinsics=intrinsics,
    )
