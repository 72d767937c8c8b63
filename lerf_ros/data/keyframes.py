"""Keyframe selection and a bounded buffer that keeps coverage when it evicts.

A frame becomes a keyframe when the camera moved or turned enough since the last keyframe,
or when enough time passed; blurred frames are rejected relative to the recent sharpness
(scale-free, so it works for small synthetic images and large real ones alike). When the
buffer is full the most *redundant* keyframe (closest to another in position and viewing
direction) is evicted, never the newest: the field keeps seeing every part of the scene.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass
class KeyframeConfig:
    """When a frame becomes a keyframe and how many are kept."""

    max_keyframes: int = 200
    """Buffer capacity; beyond it the most redundant keyframe is evicted."""
    min_translation: float = 0.05
    """Metres the camera must move since the last keyframe (or turn, or wait)."""
    min_rotation_deg: float = 5.0
    """Degrees the camera must turn since the last keyframe (or move, or wait)."""
    max_interval: float = 5.0
    """Seconds after which a frame is accepted even without motion (0 disables)."""
    blur_ratio: float = 0.4
    """Reject a frame whose sharpness is below this fraction of the recent median."""
    blur_window: int = 15
    """Number of recent frames the sharpness median is taken over."""
    rotation_weight: float = 0.5
    """Metres one radian of viewing-direction difference counts as, for redundancy."""


def sharpness(gray: np.ndarray) -> float:
    """Variance of a 4-neighbour Laplacian: low for blurred images."""
    g = np.asarray(gray, dtype=np.float32)
    if g.ndim == 3:
        g = g.mean(axis=2)
    if g.shape[0] < 3 or g.shape[1] < 3:
        return 0.0
    lap = -4.0 * g[1:-1, 1:-1] + g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:]
    return float(lap.var())


def rotation_angle(a: np.ndarray, b: np.ndarray) -> float:
    """Angle (radians) of the relative rotation between two 3x3 rotations."""
    cos = (np.trace(a[:3, :3].T @ b[:3, :3]) - 1.0) / 2.0
    return float(np.arccos(np.clip(cos, -1.0, 1.0)))


@dataclass
class Decision:
    accepted: bool
    reason: str
    evicted: int | None = None
    """Id of the keyframe evicted to make room, if any."""


@dataclass
class KeyframeSelector:
    """Decides which frames become keyframes and which keyframe to evict when full."""

    config: KeyframeConfig = field(default_factory=KeyframeConfig)

    def __post_init__(self) -> None:
        self._recent_sharpness: deque[float] = deque(maxlen=self.config.blur_window)
        self._last_pose: np.ndarray | None = None
        self._last_stamp: float | None = None
        self.poses: dict[int, np.ndarray] = {}

    def reset(self) -> None:
        self.__post_init__()

    def consider(self, c2w: np.ndarray, stamp: float, image: np.ndarray) -> Decision:
        """Whether a frame (pose, time in seconds, image) should become a keyframe."""
        score = sharpness(image)
        if len(self._recent_sharpness) >= 3:
            median = float(np.median(self._recent_sharpness))
            if score < self.config.blur_ratio * median:
                self._recent_sharpness.append(score)
                return Decision(
                    False,
                    f"blurred (sharpness {score:.1f} < "
                    f"{self.config.blur_ratio:.2f} x median {median:.1f})",
                )
        self._recent_sharpness.append(score)
        if self._last_pose is not None:
            moved = float(np.linalg.norm(c2w[:3, 3] - self._last_pose[:3, 3]))
            turned = np.degrees(rotation_angle(c2w, self._last_pose))
            waited = 0.0 if self._last_stamp is None else stamp - self._last_stamp
            enough_time = self.config.max_interval > 0 and waited >= self.config.max_interval
            if (
                moved < self.config.min_translation
                and turned < self.config.min_rotation_deg
                and not enough_time
            ):
                return Decision(
                    False,
                    f"too close to the last keyframe ({moved:.3f} m, "
                    f"{turned:.1f} deg, {waited:.1f} s)",
                )
        return Decision(True, "accepted")

    def commit(self, keyframe_id: int, c2w: np.ndarray, stamp: float) -> int | None:
        """Record an accepted keyframe; returns the id to evict when over capacity."""
        self._last_pose = np.array(c2w, dtype=np.float64)
        self._last_stamp = stamp
        self.poses[keyframe_id] = self._last_pose
        if len(self.poses) <= self.config.max_keyframes:
            return None
        victim = self.most_redundant(exclude=keyframe_id)
        del self.poses[victim]
        return victim

    def forget(self, keyframe_id: int) -> None:
        self.poses.pop(keyframe_id, None)

    def most_redundant(self, exclude: int) -> int:
        """The keyframe whose nearest other keyframe is closest (position + direction)."""
        ids = [k for k in self.poses if k != exclude]
        all_ids = list(self.poses)
        positions = np.stack([self.poses[k][:3, 3] for k in all_ids])
        forwards = np.stack([self.poses[k][:3, 2] for k in all_ids])  # optical z axis
        dist = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
        angle = np.arccos(np.clip(forwards @ forwards.T, -1.0, 1.0))
        cost = dist + self.config.rotation_weight * angle
        np.fill_diagonal(cost, np.inf)
        nearest = cost.min(axis=1)
        index = {k: i for i, k in enumerate(all_ids)}
        return min(ids, key=lambda k: nearest[index[k]])
