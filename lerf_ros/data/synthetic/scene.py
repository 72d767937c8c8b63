"""Analytic scene description: named primitives on a table in a room.

World frame: right-handed, metres, z up, floor at z = 0 (like a robot's ``map`` frame).
Every primitive is axis-aligned; a composite object (a mug with a handle) is several
objects side by side, each with its own name from :mod:`lerf_ros.data.synthetic.palette`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from lerf_ros.cameras.bounds import SceneBox
from lerf_ros.data.synthetic import palette

Shape = Literal["sphere", "box", "cylinder"]
SHAPES: tuple[str, ...] = ("sphere", "box", "cylinder")

WALL_THICKNESS = 0.05
"""Walls and floor are thin boxes just outside the room's interior (metres)."""


def _vec3(values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.shape != (3,):
        raise ValueError(f"expected 3 values, got {array.shape[0]}")
    return array


@dataclass
class SceneObject:
    """One axis-aligned primitive with a name, a description and a colour."""

    name: str
    """Identifier, e.g. ``"red ball"`` (a palette key for the standard objects)."""
    description: str
    """Natural-language description, e.g. ``"a red ball"``."""
    shape: Shape
    """``"sphere"``, ``"box"`` or ``"cylinder"`` (cylinder axis along world z)."""
    center: np.ndarray
    """Centre of the primitive's bounding box, metres [3]."""
    size: np.ndarray
    """Full extents [3]: a box's edges; a sphere's diameter is size[0]; a cylinder is
    (diameter, diameter, height)."""
    albedo: tuple[float, float, float]
    """Linear RGB albedo in [0, 1]."""

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"unknown shape {self.shape!r}; expected one of {SHAPES}")
        self.center = _vec3(self.center)
        self.size = _vec3(self.size)
        if self.shape == "sphere":
            self.size = np.full(3, self.size[0])
        elif self.shape == "cylinder":
            self.size = np.array([self.size[0], self.size[0], self.size[2]])
        if np.any(self.size <= 0):
            raise ValueError(f"object {self.name!r} needs positive size, got {self.size}")

    @classmethod
    def from_palette(cls, key: str, shape: Shape, center, size) -> SceneObject:
        """Object named and coloured after palette entry ``key``."""
        item = palette.entry(key)
        return cls(item.key, item.description, shape, center, size, item.albedo)

    @classmethod
    def resting_on(cls, key: str, shape: Shape, x: float, y: float, z_support: float, size):
        """Palette object whose bottom touches the horizontal surface at height ``z_support``."""
        size = _vec3(size)
        height = size[0] if shape == "sphere" else size[2]
        return cls.from_palette(key, shape, (x, y, z_support + 0.5 * height), size)

    def box(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounding box (minimum, maximum) corners."""
        return self.center - 0.5 * self.size, self.center + 0.5 * self.size

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Whether each of ``points`` [N, 3] lies inside (or on) this object's solid."""
        offset = np.asarray(points, dtype=np.float64) - self.center
        half = 0.5 * self.size
        if self.shape == "sphere":
            return np.linalg.norm(offset, axis=-1) <= half[0]
        within_height = np.abs(offset[..., 2]) <= half[2]
        if self.shape == "box":
            return np.all(np.abs(offset) <= half, axis=-1)
        return within_height & (np.hypot(offset[..., 0], offset[..., 1]) <= half[0])

    def to_dict(self) -> dict:
        """JSON-friendly description (the entry format of scene.json)."""
        low, high = self.box()
        return {
            "name": self.name,
            "description": self.description,
            "shape": self.shape,
            "center": self.center.tolist(),
            "size": self.size.tolist(),
            "box_min": low.tolist(),
            "box_max": high.tolist(),
            "albedo": list(self.albedo),
        }


@dataclass
class Room:
    """Floor (z = 0) and optional walls around a rectangular interior."""

    size: tuple[float, float] = (4.0, 4.0)
    """Interior extents along x and y, metres."""
    height: float = 2.5
    """Wall height, metres."""
    center: tuple[float, float] = (0.0, 0.0)
    """Interior centre (x, y)."""
    walls: bool = True
    """Whether to build the four walls (the floor is always there)."""

    def interior(self) -> SceneBox:
        """The empty volume inside the room."""
        half = 0.5 * np.asarray(self.size)
        cx, cy = self.center
        return SceneBox(
            [cx - half[0], cy - half[1], 0.0], [cx + half[0], cy + half[1], self.height]
        )


@dataclass
class ViewHint:
    """Suggested camera placement for generated trajectories around a scene."""

    target: tuple[float, float, float] = (0.0, 0.0, 0.8)
    """Point the cameras look at (and orbit around, in x and y)."""
    radius: float = 1.4
    """Horizontal orbit distance from the target, metres."""
    height: float = 1.45
    """Camera height above the floor for an overview orbit, metres."""
    start_angle: float = 0.0
    """Azimuth of the first view, radians from +x towards +y."""
    arc: float = 2.0 * math.pi
    """Azimuth span covered by the views (less than a full turn where a wall is in the way)."""


@dataclass
class Scene:
    """A room, an optional table and named objects, plus lighting."""

    objects: list[SceneObject]
    """Named objects; their list index is the instance id in rendered masks."""
    room: Room | None = field(default_factory=Room)
    """Floor and walls, or None for objects floating in empty space."""
    table: SceneObject | None = None
    """The table as a box (rendered with background label 'table')."""
    light_direction: np.ndarray = field(default_factory=lambda: np.array([0.4, 0.3, 1.0]))
    """Direction towards a distant light (normalised on construction)."""
    ambient: float = 0.55
    """Share of light that reaches every surface regardless of orientation. Keeps hues
    recognisable on faces turned from the light, and is high enough that the white wall in
    shade (0.92 x 0.55) stays brighter than the fully lit grey floor (0.45)."""
    view: ViewHint = field(default_factory=ViewHint)
    """Suggested camera placement for trajectories."""

    def __post_init__(self) -> None:
        light = np.asarray(self.light_direction, dtype=np.float64)
        self.light_direction = light / np.linalg.norm(light)
        names = [obj.name for obj in self.objects]
        if len(set(names)) != len(names):
            raise ValueError(f"object names must be unique, got {names}")

    def object_named(self, name: str) -> SceneObject:
        """The object called ``name`` (KeyError if absent)."""
        for obj in self.objects:
            if obj.name == name:
                return obj
        raise KeyError(f"no object named {name!r}; scene has {[o.name for o in self.objects]}")

    def content_bounds(self) -> SceneBox:
        """Tight box around the objects and the table."""
        boxes = [obj.box() for obj in self.objects]
        if self.table is not None:
            boxes.append(self.table.box())
        return SceneBox(
            np.min([b[0] for b in boxes], axis=0), np.max([b[1] for b in boxes], axis=0)
        )

    def bounds(self) -> SceneBox:
        """Box holding everything a camera inside the scene can see: the room's interior
        (when there is a room) together with the content."""
        content = self.content_bounds()
        return content if self.room is None else self.room.interior().union(content)

    def background_surfaces(self) -> list[tuple[str, SceneObject]]:
        """(background label, box) pairs for the floor, walls and table."""
        surfaces: list[tuple[str, SceneObject]] = []
        if self.room is not None:
            inside = self.room.interior()
            low, high, t = inside.minimum, inside.maximum, WALL_THICKNESS
            # Slabs start exactly at the interior boundary so the inside faces are flush.
            slabs = [("floor", [low[0] - t, low[1] - t, -t], [high[0] + t, high[1] + t, 0.0])]
            if self.room.walls:
                slabs += [
                    ("wall", [low[0] - t, low[1] - t, 0.0], [low[0], high[1] + t, high[2]]),
                    ("wall", [high[0], low[1] - t, 0.0], [high[0] + t, high[1] + t, high[2]]),
                    ("wall", [low[0], low[1] - t, 0.0], [high[0], low[1], high[2]]),
                    ("wall", [low[0], high[1], 0.0], [high[0], high[1] + t, high[2]]),
                ]
            for label, lo, hi in slabs:
                lo, hi = np.asarray(lo), np.asarray(hi)
                item = palette.entry(label)
                box = SceneObject(
                    label, item.description, "box", (lo + hi) / 2, hi - lo, item.albedo
                )
                surfaces.append((label, box))
        if self.table is not None:
            surfaces.append(("table", self.table))
        return surfaces

    def occupied(self, points: np.ndarray) -> np.ndarray:
        """Whether each of ``points`` [N, 3] is inside a solid: an object, the table, the floor
        or a wall. The ground truth that a field's density is checked against."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        solids = list(self.objects) + [box for _, box in self.background_surfaces()]
        inside = np.zeros(len(points), dtype=bool)
        for solid in solids:
            inside |= solid.contains(points)
        return inside

    def to_dict(self) -> dict:
        """The scene.json payload: objects, table, bounds and frame conventions."""
        data = {
            "objects": [obj.to_dict() for obj in self.objects],
            "world_frame": "map",
            "up": "z",
            "bounds": self.bounds().to_dict(),
        }
        if self.table is not None:
            data["table"] = self.table.to_dict()
        return data
