"""Colour-mapped relevancy over an RGB render (for ~/relevancy_image and PNG heat maps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

RANGE = (0.5, 1.0)
"""Fixed relevancy range of the colour map, so colours mean the same across queries
(0.5 = as relevant as a canonical phrase)."""


def colormap(values: np.ndarray, low: float = RANGE[0], high: float = RANGE[1]) -> np.ndarray:
    """Perceptually uniform (viridis-like via matplotlib's turbo-free 'viridis') RGB in [0, 1]."""
    from matplotlib import colormaps

    normalised = np.clip((np.asarray(values, dtype=np.float32) - low) / (high - low), 0.0, 1.0)
    return colormaps["viridis"](normalised)[..., :3].astype(np.float32)


def overlay(rgb: np.ndarray, relevancy: np.ndarray, alpha: float = 0.65) -> np.ndarray:
    """uint8 [H, W, 3]: the render greyed, with relevant pixels (> 0.5) in the colour map."""
    rgb = np.clip(np.asarray(rgb, dtype=np.float32), 0.0, 1.0)
    grey = rgb.mean(axis=-1, keepdims=True) * 0.6
    base = np.concatenate([grey] * 3, axis=-1)
    relevant = (np.asarray(relevancy) > RANGE[0])[..., None]
    mixed = np.where(relevant, (1 - alpha) * base + alpha * colormap(relevancy), base)
    return (np.clip(mixed, 0.0, 1.0) * 255).round().astype(np.uint8)


def save_png(path: str | Path, image: np.ndarray) -> Path:
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(path)
    return path
