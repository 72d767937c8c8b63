"""Ready-made synthetic scenes used by tests, demos and the ``make-scene`` CLI."""

from __future__ import annotations

import math
from collections.abc import Callable

from lerf_ros.data.synthetic import palette
from lerf_ros.data.synthetic.scene import Room, Scene, SceneObject, ViewHint

TABLE_HEIGHT = 0.75
"""Height of the table top above the floor, metres."""


def make_table(center_xy=(0.0, 0.0), size_xy=(1.2, 0.8), height: float = TABLE_HEIGHT):
    """A solid table box standing on the floor."""
    item = palette.entry("table")
    center = (center_xy[0], center_xy[1], 0.5 * height)
    return SceneObject(item.key, item.description, "box", center, (*size_xy, height), item.albedo)


def default_scene() -> Scene:
    """Five distinct objects on a 1.2 m x 0.8 m table in a 4 m x 4 m room."""
    top = TABLE_HEIGHT
    objects = [
        # Sizes keep every object several pixels wide in 128 x 96 views from the orbit.
        SceneObject.resting_on("red ball", "sphere", -0.35, 0.18, top, (0.17, 0.17, 0.17)),
        SceneObject.resting_on("blue box", "box", 0.30, 0.18, top, (0.2, 0.16, 0.18)),
        SceneObject.resting_on("green can", "cylinder", 0.0, -0.16, top, (0.13, 0.13, 0.2)),
        SceneObject.resting_on("yellow book", "box", -0.33, -0.2, top, (0.24, 0.18, 0.05)),
        SceneObject.resting_on("purple vase", "cylinder", 0.36, -0.2, top, (0.14, 0.14, 0.27)),
    ]
    return Scene(objects, Room(), make_table(), view=ViewHint(target=(0.0, 0.0, top + 0.05)))


def mug_scene() -> Scene:
    """An orange mug whose cyan handle is a small box touching its side, plus the red ball."""
    top = TABLE_HEIGHT
    mug_diameter, mug_height = 0.09, 0.10
    handle = (0.03, 0.015, 0.06)
    handle_x = 0.5 * mug_diameter + 0.5 * handle[0]  # flush against the mug's +x side
    objects = [
        SceneObject.resting_on(
            "orange mug", "cylinder", 0.0, 0.0, top, (mug_diameter,) * 2 + (mug_height,)
        ),
        SceneObject.from_palette(
            "cyan handle", "box", (handle_x, 0.0, top + 0.5 * mug_height), handle
        ),
        SceneObject.resting_on("red ball", "sphere", -0.25, 0.12, top, (0.12, 0.12, 0.12)),
    ]
    view = ViewHint(target=(0.0, 0.0, top + 0.05), radius=1.0, height=1.3)
    return Scene(objects, Room(), make_table(size_xy=(0.9, 0.7)), view=view)


def wall_scene() -> Scene:
    """A blue box on the floor 1 cm from a wall (a grasp must not approach from the wall side),
    with a green can in the open for comparison. Cameras keep to the open side."""
    room = Room(size=(3.0, 3.0))
    wall_y = 0.5 * room.size[1]
    box_size = (0.2, 0.18, 0.2)
    box_y = wall_y - 0.01 - 0.5 * box_size[1]
    objects = [
        SceneObject.resting_on("blue box", "box", 0.0, box_y, 0.0, box_size),
        SceneObject.resting_on("green can", "cylinder", 0.45, box_y - 0.4, 0.0, (0.09, 0.09, 0.14)),
    ]
    # Views sweep the half-plane away from the wall (azimuths -170° to -10°).
    view = ViewHint(
        target=(0.2, box_y - 0.2, 0.1),
        radius=1.1,
        height=1.2,
        start_angle=-math.radians(170),
        arc=math.radians(160),
    )
    return Scene(objects, room, None, view=view)


def six_objects_scene() -> Scene:
    """Six objects on a wider 1.5 m x 0.9 m table: the default's five materials in other
    shapes and sizes, plus the orange mug and a lying cyan handle bar.

    A harder counterpart of the default scene for first-answer and RGB-D benchmarks: more
    objects, smaller ones (a 12 cm ball, a 7 cm high bar), a tall thin box that hides what
    stands behind it from some views, and the orange mug, whose hue lies nearest the wooden
    table's. Spacing keeps every object fully visible from most of the orbit.
    """
    top = TABLE_HEIGHT
    objects = [
        SceneObject.resting_on("orange mug", "cylinder", -0.5, 0.2, top, (0.13, 0.13, 0.15)),
        SceneObject.resting_on("cyan handle", "box", -0.05, 0.25, top, (0.24, 0.07, 0.07)),
        SceneObject.resting_on("red ball", "sphere", 0.5, 0.22, top, (0.12, 0.12, 0.12)),
        SceneObject.resting_on("blue box", "box", -0.1, -0.2, top, (0.12, 0.12, 0.26)),
        SceneObject.resting_on("green can", "cylinder", 0.45, -0.2, top, (0.17, 0.17, 0.12)),
        SceneObject.resting_on("yellow book", "box", -0.52, -0.2, top, (0.18, 0.25, 0.04)),
    ]
    view = ViewHint(target=(0.0, 0.0, top + 0.05), radius=1.5, height=1.5)
    return Scene(objects, Room(), make_table(size_xy=(1.5, 0.9)), view=view)


SCENES: dict[str, Callable[[], Scene]] = {
    "default": default_scene,
    "mug": mug_scene,
    "wall": wall_scene,
    "six_objects": six_objects_scene,
}
"""Scene builders by name (the ``--scene`` choices of ``lerf-ros make-scene``)."""
