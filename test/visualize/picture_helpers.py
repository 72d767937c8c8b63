"""Helpers of the picture tests: read pixels back from PNGs, compare them with viridis, make
grasps and goals, read object boxes from scene.json."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from matplotlib import colormaps
from PIL import Image

from lerf_ros.cameras.conventions import matrix_to_quaternion

BALL = np.array([-0.3, 0.2, 0.83])
"""Centre of the hand-made scene's relevant sphere (radius 0.08 on a table at z 0.75)."""
BOX = np.array([0.3, -0.2, 0.8])
"""Centre of its irrelevant box."""


def viridis_distance(pixels: np.ndarray, low: float = 0.6) -> np.ndarray:
    """Distance (0-255 RGB units) of each pixel to the bright end of viridis (colour-map
    positions ``low``..1, i.e. relevancy 0.8-1.0 on the fixed 0.5-1.0 range)."""
    ramp = colormaps["viridis"](np.linspace(low, 1.0, 64))[:, :3] * 255.0
    pixels = np.asarray(pixels, dtype=np.float64)[..., :3]
    return np.linalg.norm(pixels[..., None, :] - ramp, axis=-1).min(axis=-1)


def png_pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def near(image: np.ndarray, column: float, row: float, radius: int) -> np.ndarray:
    """[K, 3] pixels within ``radius`` of (column, row)."""
    rows, cols = np.mgrid[: image.shape[0], : image.shape[1]]
    mask = (rows - row) ** 2 + (cols - column) ** 2 <= radius**2
    return image[mask]


def top_down_grasp(position, closing=(1.0, 0.0, 0.0), width=0.1, score=0.8):
    approach = np.array([0.0, 0.0, -1.0])
    closing = np.asarray(closing, dtype=np.float64)
    rotation = np.column_stack([approach, closing, np.cross(approach, closing)])
    return SimpleNamespace(
        position=np.asarray(position, dtype=np.float64),
        quaternion=matrix_to_quaternion(rotation),
        score=score,
        width=width,
    )


def goal(position, yaw, score=0.7):
    return SimpleNamespace(
        position=np.asarray(position, dtype=np.float64),
        quaternion=np.array([0.0, 0.0, np.sin(yaw / 2), np.cos(yaw / 2)]),
        score=score,
    )


def object_box(scene: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) corners of a scene.json object's axis-aligned box."""
    obj = next(o for o in scene["objects"] if o["name"] == name)
    centre, size = np.asarray(obj["center"], float), np.asarray(obj["size"], float)
    return centre - size / 2, centre + size / 2
