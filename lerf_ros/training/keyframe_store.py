"""The keyframes the trainer learns from: images, cameras and (once computed) feature targets."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.features.dense import DenseFeatures
from lerf_ros.features.pyramid import PyramidFeatures


@dataclass
class Keyframe:
    """One training view."""

    id: int
    """Unique, increasing id (never reused, also across evictions)."""
    image: torch.Tensor
    """uint8 ``[H, W, 3]`` RGB on the training device."""
    intrinsics: Intrinsics
    c2w: np.ndarray
    """4x4 float64 camera-to-world, OpenCV optical convention, in the fixed frame."""
    stamp: float = 0.0
    """Seconds (message stamp, or frame index for datasets)."""
    camera: str = "camera"
    """Which camera it came from."""
    pyramid: PyramidFeatures | None = None
    """CLIP crop pyramid; None until the feature worker has computed it."""
    dense: DenseFeatures | None = None
    """DINO map; None until computed or when the DINO head is disabled."""

    @property
    def has_features(self) -> bool:
        return self.pyramid is not None


class KeyframeStore:
    """Thread-safe, ordered collection of keyframes (capacity is enforced by the selector)."""

    def __init__(self) -> None:
        self._frames: dict[int, Keyframe] = {}
        self._lock = threading.Lock()
        self._next_id = 0
        self.version = 0
        """Incremented on every change: caches built from keyframes compare it."""

    def new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id - 1

    def add(self, keyframe: Keyframe) -> None:
        with self._lock:
            self._frames[keyframe.id] = keyframe
            self._next_id = max(self._next_id, keyframe.id + 1)
            self.version += 1

    def remove(self, keyframe_id: int) -> Keyframe | None:
        with self._lock:
            self.version += 1
            return self._frames.pop(keyframe_id, None)

    def set_features(
        self, keyframe_id: int, pyramid: PyramidFeatures, dense: DenseFeatures | None
    ) -> bool:
        """Attach targets; False when the keyframe was evicted meanwhile."""
        with self._lock:
            frame = self._frames.get(keyframe_id)
            if frame is None:
                return False
            frame.pyramid, frame.dense = pyramid, dense
            self.version += 1
            return True

    def get(self, keyframe_id: int) -> Keyframe | None:
        with self._lock:
            return self._frames.get(keyframe_id)

    def snapshot(self) -> list[Keyframe]:
        """The keyframes now, oldest first (a list copy: safe to iterate while others add)."""
        with self._lock:
            return list(self._frames.values())

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()
            self.version += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)
