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
    last_added: float | None = None
    """Stamp of the pose added most recently (arrival order)."""

    def add(self, stamp: float, pose: np.ndarray) -> bool:
        """Insert a pose (out-of-order allowed); False for an exact duplicate stamp."""
        # A duplicate still moves the stream on: a replayed (looping) recording sends stamps
        # already held, and the images stamped after them must not wait forever.
        self.last_added = stamp
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

    def passed(self, stamp: float) -> bool:
        """True when the most recently added pose is later than ``stamp`` + ``slop``: the pose
        stream has gone past the stamp, so (poses arriving in order) no pose for it is still
        coming. The last *added* pose, not the latest held: one stray future stamp must not
        make every later image look passed."""
        return self.last_added is not None and self.last_added > stamp + self.slop

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
        self.last_added = None
