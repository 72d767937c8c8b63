"""Write synthetic captures as nerfstudio datasets (transforms.json + scene.json)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lerf_ros.cameras.conventions import opencv_to_opengl
from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.image_io import write_depth, write_rgb, write_uint16
from lerf_ros.data.synthetic import trajectory as camera_paths
from lerf_ros.data.synthetic.presets import SCENES
from lerf_ros.data.synthetic.render import RenderedView, render_view
from lerf_ros.data.synthetic.scene import Scene

DEPTH_UNIT = 1e-3
"""Metres per step of the exported 16-bit depth PNGs (millimetres)."""

TRAJECTORIES: tuple[str, ...] = ("orbit", "robot", "walk")
"""Camera paths :func:`make_scene_dataset` can generate."""


def intrinsics_json(intrinsics: Intrinsics) -> dict:
    """nerfstudio's shared-camera keys for ``intrinsics``."""
    data = {
        "camera_model": "OPENCV",
        "fl_x": intrinsics.fx,
        "fl_y": intrinsics.fy,
        "cx": intrinsics.cx,
        "cy": intrinsics.cy,
        "w": intrinsics.width,
        "h": intrinsics.height,
    }
    data.update(zip(("k1", "k2", "p1", "p2", "k3"), intrinsics.distortion, strict=False))
    return data


def export_transforms(
    scene: Scene, views: Sequence[RenderedView], intrinsics: Intrinsics, out_dir: str | Path
) -> Path:
    """Write ``views`` of ``scene`` as a nerfstudio dataset in ``out_dir``.

    Layout: ``transforms.json`` (OpenGL camera-to-world, world = the scene's ``map``),
    ``images/0000.png``, ``depth/0000.png`` (16-bit, millimetres, 0 = no hit),
    ``instances/0000.png`` (16-bit, object index + 1, 0 = background) and ``scene.json``
    (object names, descriptions, shapes and boxes). Returns the transforms.json path.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = []
    for index, view in enumerate(views):
        stem = f"{index:04d}.png"
        write_rgb(out_dir / "images" / stem, view.rgb)
        write_depth(out_dir / "depth" / stem, view.depth, DEPTH_UNIT)
        write_uint16(out_dir / "instances" / stem, view.instance + 1)
        frames.append(
            {
                "file_path": f"images/{stem}",
                "depth_file_path": f"depth/{stem}",
                "instance_file_path": f"instances/{stem}",
                "transform_matrix": opencv_to_opengl(view.c2w).tolist(),
            }
        )
    transforms = intrinsics_json(intrinsics)
    transforms.update({"depth_unit_scale_factor": DEPTH_UNIT, "frames": frames})
    path = out_dir / "transforms.json"
    path.write_text(json.dumps(transforms, indent=2))
    (out_dir / "scene.json").write_text(json.dumps(scene.to_dict(), indent=2))
    return path


def scene_trajectory(scene: Scene, kind: str, count: int) -> list[np.ndarray]:
    """Camera poses of path ``kind`` (one of TRAJECTORIES) around ``scene.view``."""
    view = scene.view
    if kind == "orbit":
        return camera_paths.orbit(
            view.target, view.radius, view.height, count, None, view.start_angle, view.arc
        )
    if kind == "robot":
        # A head camera a little above the objects, a little further out than the orbit.
        camera_height = max(view.target[2] + 0.25, 0.6)
        return camera_paths.robot_height(
            view.target, 1.15 * view.radius, count, camera_height, view.start_angle, view.arc
        )
    if kind == "walk":
        corners = camera_paths.orbit(
            view.target, view.radius, view.height, 5, None, view.start_angle, view.arc
        )
        waypoints = [pose[:3, 3] for pose in corners]
        return camera_paths.walk_through(waypoints, count, target=view.target)
    raise ValueError(f"unknown trajectory {kind!r}; choose from {TRAJECTORIES}")


def make_scene_dataset(
    out_dir: str | Path,
    scene: str | Scene = "default",
    views: int = 30,
    width: int = 128,
    height: int = 96,
    trajectory: str = "orbit",
    seed: int = 0,
    fov_x_deg: float = 60.0,
    supersample: int = 2,
    jitter: bool = True,
) -> Path:
    """Render a synthetic scene along a camera path and export it (``lerf-ros make-scene``).

    Args:
        out_dir: output folder (created).
        scene: a name from ``presets.SCENES`` or a Scene.
        views: number of images.
        width, height: image size in pixels.
        trajectory: one of TRAJECTORIES.
        seed: seeds the pose jitter.
        fov_x_deg: horizontal field of view.
        supersample: colour samples per pixel side (anti-aliasing).
        jitter: perturb poses slightly (2 cm, 1°) like a handheld capture.

    Returns:
        The output folder.
    """
    if isinstance(scene, str):
        if scene not in SCENES:
            raise ValueError(f"unknown scene {scene!r}; choose from {sorted(SCENES)}")
        scene = SCENES[scene]()
    intrinsics = Intrinsics.from_fov(width, height, math.radians(fov_x_deg))
    poses = scene_trajectory(scene, trajectory, views)
    if jitter:
        poses = camera_paths.jitter_poses(poses, 0.02, math.radians(1.0), seed)
    rendered = [render_view(scene, intrinsics, pose, supersample) for pose in poses]
    export_transforms(scene, rendered, intrinsics, out_dir)
    return Path(out_dir)
