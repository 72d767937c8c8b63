"""The keyframes the trainer learns from, and their one bookkeeper.

:class:`KeyframeStore` decides which frames become keyframes (the selection policy of
:mod:`lerf_ros.data.keyframes`), stores them, evicts the most redundant one when full, and
knows which still wait for their language features, all under one lock: the caller's thread
offers frames while the feature worker attaches targets and the trainer takes snapshots.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.keyframes import Decision, KeyframeConfig, KeyframeSelector
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
    depth: torch.Tensor | None = None
    """float32 ``[H, W]`` z-depth in metres on the training device, 0 = no reading; None for
    a colour-only keyframe."""

    @property
    def has_features(self) -> bool:
        return self.pyramid is not None


@dataclass
class Offer:
    """What became of a frame offered to the store."""

    decision: Decision
    keyframe: Keyframe | None = None
    """The new keyframe when the frame was accepted."""


class KeyframeStore:
    """Selection, storage, eviction and the features still to compute, under one lock."""

    def __init__(self, config: KeyframeConfig | None = None) -> None:
        self._selector = KeyframeSelector(config or KeyframeConfig())
        self._frames: dict[int, Keyframe] = {}
        self._lock = threading.Lock()
        self._next_id = 0
        self._feature_failures: Counter[int] = Counter()
        self._skipped: set[int] = set()
        self.version = 0
        """Incremented on every change: caches built from keyframes compare it."""

    # --------------------------------------------------------------- frames in
    def offer(
        self,
        image: torch.Tensor | np.ndarray,
        intrinsics: Intrinsics,
        c2w: np.ndarray,
        stamp: float,
        camera: str = "camera",
        force: bool = False,
        device: torch.device | str = "cpu",
        depth: np.ndarray | None = None,
    ) -> Offer:
        """Keep the frame if it is sharp and new enough (or ``force``), evicting the most
        redundant keyframe when the buffer is full (``decision.evicted``)."""
        with self._lock:
            if force:
                decision = Decision(True, "forced")
            else:
                decision = self._selector.consider(c2w, stamp, np.asarray(image))
            if not decision.accepted:
                return Offer(decision)
            keyframe = Keyframe(
                id=self._next_id,
                image=torch.tensor(image, dtype=torch.uint8, device=device),  # a copy
                intrinsics=intrinsics,
                c2w=c2w,
                stamp=stamp,
                camera=camera,
                depth=None if depth is None else torch.tensor(depth, device=device),
            )
            self._add(keyframe)
            decision.evicted = self._selector.commit(keyframe.id, c2w, stamp)
            if decision.evicted is not None:
                self._remove(decision.evicted)
            return Offer(decision, keyframe)

    def replace_all(self, keyframes: list[Keyframe]) -> None:
        """Forget every keyframe and take ``keyframes`` instead (a loaded checkpoint); a
        checkpoint with more keyframes than this buffer keeps the least redundant ones."""
        with self._lock:
            self._clear()
            for keyframe in keyframes:
                self._add(keyframe)
                evicted = self._selector.commit(keyframe.id, keyframe.c2w, keyframe.stamp)
                if evicted is not None:
                    self._remove(evicted)

    def set_config(self, config: KeyframeConfig) -> None:
        """Select the next frames with ``config`` (its thresholds; under the store's lock, so
        a frame is judged by one consistent config)."""
        with self._lock:
            self._selector.config = config

    def clear(self) -> None:
        """Forget every keyframe and the selection history."""
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self._frames.clear()
        self._selector.reset()
        self._feature_failures.clear()
        self._skipped.clear()
        self.version += 1

    def _add(self, keyframe: Keyframe) -> None:
        self._frames[keyframe.id] = keyframe
        self._next_id = max(self._next_id, keyframe.id + 1)
        self.version += 1

    def _remove(self, keyframe_id: int) -> None:
        self._frames.pop(keyframe_id, None)
        self._feature_failures.pop(keyframe_id, None)
        self._skipped.discard(keyframe_id)
        self.version += 1

    # ---------------------------------------------------------------- features
    def set_features(
        self, keyframe_id: int, pyramid: PyramidFeatures, dense: DenseFeatures | None
    ) -> bool:
        """Attach targets; False when the keyframe was evicted meanwhile."""
        with self._lock:
            frame = self._frames.get(keyframe_id)
            if frame is None:
                return False
            frame.pyramid, frame.dense = pyramid, dense
            self._feature_failures.pop(keyframe_id, None)
            self.version += 1
            return True

    def next_without_features(self) -> int | None:
        """The oldest keyframe still without features and not given up on, or None."""
        with self._lock:
            for frame in self._frames.values():
                if not frame.has_features and frame.id not in self._skipped:
                    return frame.id
            return None

    def feature_failed(self, keyframe_id: int, attempts: int) -> tuple[int, bool]:
        """Count a failed extraction: (tries so far, whether the keyframe is now given up on
        after ``attempts`` tries; it then trains colour only)."""
        with self._lock:
            self._feature_failures[keyframe_id] += 1
            tries = self._feature_failures[keyframe_id]
            if tries < attempts:
                return tries, False
            del self._feature_failures[keyframe_id]
            if keyframe_id in self._frames:
                self._skipped.add(keyframe_id)
            return tries, True

    @property
    def skipped_features(self) -> set[int]:
        """Keyframes whose features failed too often (kept for colour only); a copy."""
        with self._lock:
            return set(self._skipped)

    # ------------------------------------------------------------------- reads
    def get(self, keyframe_id: int) -> Keyframe | None:
        with self._lock:
            return self._frames.get(keyframe_id)

    def snapshot(self) -> list[Keyframe]:
        """The keyframes now, oldest first (a list copy: safe to iterate while others add)."""
        with self._lock:
            return list(self._frames.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)
