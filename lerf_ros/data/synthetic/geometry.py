"""Vectorised ray intersections with axis-aligned primitives (numpy, float64).

Each function takes ray origins and unit directions [N, 3] and returns the distance to the
first hit in front of the origin (``inf`` for a miss) and the outward surface normal [N, 3].
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

EPSILON = 1e-9
"""Hits closer than this are ignored (avoids self-intersection at the origin)."""


class Primitive(Protocol):
    """What ``intersect`` reads of a scene object; a Protocol so that this module stays below
    ``scene.py`` (whose ``SceneObject`` satisfies it) instead of importing it."""

    shape: str
    center: np.ndarray
    size: np.ndarray

    def box(self) -> tuple[np.ndarray, np.ndarray]: ...


def intersect_sphere(origins, directions, center, radius) -> tuple[np.ndarray, np.ndarray]:
    """Ray-sphere intersection; a ray starting inside hits the far side."""
    offset = origins - center
    b = np.einsum("ij,ij->i", offset, directions)
    c = np.einsum("ij,ij->i", offset, offset) - radius * radius
    disc = b * b - c
    root = np.sqrt(np.maximum(disc, 0.0))
    t = np.where(-b - root > EPSILON, -b - root, -b + root)
    t = np.where((disc >= 0) & (t > EPSILON), t, np.inf)
    hit = np.isfinite(t)
    normals = np.zeros_like(origins)
    normals[hit] = (origins[hit] + t[hit, None] * directions[hit] - center) / radius
    return t, normals


def intersect_box(origins, directions, low, high) -> tuple[np.ndarray, np.ndarray]:
    """Ray / axis-aligned box intersection (slab method)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = 1.0 / directions
        t_low = (low - origins) * inverse
        t_high = (high - origins) * inverse
    # A ray parallel to a slab and outside it gives NaN (0 * inf); treat as a miss there.
    t_enter_axes = np.nan_to_num(np.minimum(t_low, t_high), nan=np.inf)
    t_exit_axes = np.nan_to_num(np.maximum(t_low, t_high), nan=-np.inf)
    t_enter = t_enter_axes.max(axis=1)
    t_exit = t_exit_axes.min(axis=1)
    inside = t_enter <= EPSILON
    t = np.where(inside, t_exit, t_enter)
    t = np.where((t_exit >= t_enter) & (t > EPSILON), t, np.inf)
    axis = np.where(inside, t_exit_axes.argmin(axis=1), t_enter_axes.argmax(axis=1))
    rows = np.arange(len(origins))
    normals = np.zeros_like(origins)
    # Entering through a face, the outward normal opposes the ray along that axis.
    normals[rows, axis] = -np.sign(directions[rows, axis]) * np.where(inside, -1.0, 1.0)
    return t, normals


def intersect_cylinder(origins, directions, center, radius, height):
    """Ray intersection with a closed cylinder whose axis is world z."""
    z_low, z_high = center[2] - 0.5 * height, center[2] + 0.5 * height
    ox, oy = origins[:, 0] - center[0], origins[:, 1] - center[1]
    dx, dy, dz = directions[:, 0], directions[:, 1], directions[:, 2]
    a = dx * dx + dy * dy
    b = ox * dx + oy * dy
    c = ox * ox + oy * oy - radius * radius
    disc = b * b - a * c
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(np.maximum(disc, 0.0))
        t_side = np.where(c > 0, (-b - root) / a, (-b + root) / a)  # inside: far wall
        z_side = origins[:, 2] + t_side * dz
        side_ok = (disc >= 0) & (a > 1e-18) & (t_side > EPSILON)
        side_ok &= (z_side >= z_low) & (z_side <= z_high)
        t_side = np.where(side_ok, t_side, np.inf)
        caps = []
        for z_cap in (z_low, z_high):
            t_cap = (z_cap - origins[:, 2]) / dz
            px, py = ox + t_cap * dx, oy + t_cap * dy
            ok = (t_cap > EPSILON) & (px * px + py * py <= radius * radius)
            caps.append(np.where(ok, t_cap, np.inf))
    t = np.minimum(t_side, np.minimum(*caps))
    normals = np.zeros_like(origins)
    on_side = np.isfinite(t) & (t == t_side)
    hit_points = origins[on_side] + t[on_side, None] * directions[on_side]
    normals[on_side, :2] = (hit_points[:, :2] - center[:2]) / radius
    normals[~on_side & (t == caps[0]), 2] = -1.0
    normals[~on_side & (t == caps[1]), 2] = 1.0
    return t, normals


def intersect(obj: Primitive, origins, directions) -> tuple[np.ndarray, np.ndarray]:
    """Dispatch on ``obj.shape``; returns (distance [N], normals [N, 3])."""
    if obj.shape == "sphere":
        return intersect_sphere(origins, directions, obj.center, 0.5 * obj.size[0])
    if obj.shape == "box":
        low, high = obj.box()
        return intersect_box(origins, directions, low, high)
    return intersect_cylinder(origins, directions, obj.center, 0.5 * obj.size[0], obj.size[2])
