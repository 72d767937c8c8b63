"""Match image stamps to poses: a bounded, time-ordered pose history with interpolation."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from lerf_ros.cameras.conventions import interpolate_pose


@dataclass
class PoseBuffer:
    """Recent poses of one camera; :meth:`lookup` interpolates between the two around a stamp."""

    slop: float = 0.05
    """Largest distance (s) from a stamp to the poses used for it."""
    capacity: int = 2000
    """Poses kept (oldest dropped first)."""
    stamps: list[float] = field(default_factory=list)
    poses: list[np.ndarray] = field(default_factory=list)

    def add(self, stamp: float, pose: np.ndarray) -> bool:
        """Insert a pose (out-of-order allowed); False for an exact duplicate stamp."""
        index = bisect.bisect_left(self.stamps, stamp)
        if index < len(self.stamps) and self.stamps[index] == stamp:
            return False
        self.stamps.insert(index, stamp)
        self.poses.insert(index, np.asarray(pose, dtype=np.float64))
        if len(self.stamps) > self.capacity:
            del self.stamps[0], self.poses[0]
        return True

    @property
    def latest(self) -> float | None:
        return self.stamps[-1] if self.stamps else None

    def lookup(self, stamp: float) -> np.ndarray | None:
        """The pose at ``stamp``: interpolated between neighbours within ``slop``, else the
        nearest within ``slop``, else None."""
        if not self.stamps:
            return None
        index = bisect.bisect_left(self.stamps, stamp)
        before = index - 1 if index > 0 else None
        after = index if index < len(self.stamps) else None
        if after is not None and self.stamps[after] == stamp:
            return self.poses[after].copy()
        if before is not None and after is not None:
            t0, t1 = self.stamps[before], self.stamps[after]
            if stamp - t0 <= self.slop and t1 - stamp <= self.slop:
                return interpolate_pose(self.poses[before], t0, self.poses[after], t1, stamp)
        nearest = min(
            (i for i in (before, after) if i is not None),
            key=lambda i: abs(self.stamps[i] - stamp),
        )
        if abs(self.stamps[nearest] - stamp) <= self.slop:
            return self.poses[nearest].copy()
        return None

    def clear(self) -> None:
        self.stamps.clear()
        self.poses.clear()
