"""Analytic, ray-traced synthetic scenes with exact ground truth.

Named primitives (from :mod:`.palette`) on a table in a room, rendered with exact depth
and instance masks, exported as nerfstudio datasets. World frame ``map``: z up, metres.
"""

from lerf_ros.data.synthetic.export import export_transforms, make_scene_dataset
from lerf_ros.data.synthetic.presets import SCENES, default_scene, mug_scene, wall_scene
from lerf_ros.data.synthetic.render import RenderedView, render_view
from lerf_ros.data.synthetic.scene import Room, Scene, SceneObject, ViewHint
from lerf_ros.data.synthetic.trajectory import orbit, robot_height, walk_through

__all__ = [
    "SCENES",
    "RenderedView",
    "Room",
    "Scene",
    "SceneObject",
    "ViewHint",
    "default_scene",
    "export_transforms",
    "make_scene_dataset",
    "mug_scene",
    "orbit",
    "render_view",
    "robot_height",
    "walk_through",
    "wall_scene",
]
