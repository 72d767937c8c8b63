"""Reading and writing images and depth maps for datasets (OpenCV-backed, RGB order)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image


class DatasetError(ValueError):
    """A dataset on disk is malformed; the message names the file and the problem."""


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file, from its header only."""
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, ValueError) as error:
        raise DatasetError(f"{path}: cannot read image header ({error})") from error


def read_rgb(path: Path) -> np.ndarray:
    """uint8 RGB [H, W, 3]; an alpha channel is composited onto white (Blender convention)."""
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise DatasetError(f"{path}: missing or unreadable image")
    if data.dtype == np.uint16:
        data = (data.astype(np.float32) / 257.0).round().astype(np.uint8)
    if data.ndim == 2:
        data = data[:, :, None]
    if data.shape[2] == 1:
        return np.repeat(data, 3, axis=2)
    if data.shape[2] == 4:
        alpha = data[:, :, 3:4].astype(np.float32) / 255.0
        blended = data[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        data = blended.round().astype(np.uint8)
    return np.ascontiguousarray(data[:, :, 2::-1])  # BGR -> RGB


def read_depth(path: Path, unit: float) -> np.ndarray:
    """float32 depth [H, W] in metres from a 16-bit PNG storing ``1 / unit`` steps per metre,
    or from a ``.npy`` array of values times ``unit`` (nerfstudio's ``depth_file_path`` may be
    either); 0 marks unknown depth."""
    if Path(path).suffix.lower() == ".npy":
        return _read_npy_depth(Path(path), unit)
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise DatasetError(f"{path}: missing or unreadable depth image")
    if data.ndim != 2:
        raise DatasetError(f"{path}: depth image must have one channel, got shape {data.shape}")
    return data.astype(np.float32) * np.float32(unit)


def _read_npy_depth(path: Path, unit: float) -> np.ndarray:
    try:
        data = np.load(path, allow_pickle=False)  # never unpickle: a .npy may come from anyone
    except (OSError, ValueError) as error:
        raise DatasetError(f"{path}: missing or unreadable depth array ({error})") from error
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[:, :, 0]
    if data.ndim != 2 or data.size == 0:
        raise DatasetError(f"{path}: depth array must be [H, W], got shape {data.shape}")
    if not (np.issubdtype(data.dtype, np.integer) or np.issubdtype(data.dtype, np.floating)):
        raise DatasetError(f"{path}: depth array must hold numbers, got {data.dtype}")
    metres = data.astype(np.float64) * unit
    # Non-finite or negative readings are "unknown", like a 0 in a depth PNG.
    metres[~np.isfinite(metres) | (metres < 0)] = 0.0
    return metres.astype(np.float32)


def resize(image: np.ndarray, width: int, height: int, nearest: bool = False) -> np.ndarray:
    """Resize to ``width`` x ``height``: area averaging for colour, nearest for depth / labels."""
    if image.shape[1] == width and image.shape[0] == height:
        return image
    interpolation = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
    return cv2.resize(image, (width, height), interpolation=interpolation)


def write_rgb(path: Path, rgb: np.ndarray) -> None:
    """Write an RGB image; float input in [0, 1] is quantised to 8 bits."""
    if rgb.dtype != np.uint8:
        rgb = (np.clip(rgb, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[:, :, ::-1])):
        raise OSError(f"could not write {path}")


def write_uint16(path: Path, values: np.ndarray) -> None:
    """Write a single-channel 16-bit PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), values.astype(np.uint16)):
        raise OSError(f"could not write {path}")


def write_depth(path: Path, depth: np.ndarray, unit: float = 1e-3) -> None:
    """Write metric depth as a 16-bit PNG in ``unit`` steps (millimetres by default);
    non-finite or out-of-range depth becomes 0 (unknown)."""
    steps = np.where(np.isfinite(depth), np.round(depth / unit), 0.0)
    write_uint16(path, np.where((steps > 0) & (steps <= 65535), steps, 0))
