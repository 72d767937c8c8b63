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
    """Poses kept. When full, the pose farthest from the stream's present is dropped (see
    :meth:`add`), not simply the oldest."""
    stamps: list[float] = field(default_factory=list)
    poses: list[np.ndarray] = field(default_factory=list)
    last_added: float | None = None
    """Stamp of the pose added most recently (arrival order)."""

    def add(self, stamp: float, pose: np.ndarray) -> bool:
        """Insert a pose (out-of-order allowed); False for an exact duplicate stamp.

        Full, the buffer drops the pose whose stamp is farthest from ``stamp``, the stream's
        present (the pose just added, in arrival order): one of the two ends of the sorted
        history. Dropping the oldest instead let stamps far from the present take the buffer
        over: poses stamped up to an hour ahead pushed out every real pose (each new real
        pose, older than all of them, was the one dropped at once), and after a clock reset
        (a bag loop, a simulator restart) every pose on the new clock was older than the
        history and dropped the moment it arrived. Now a stray far stamp is the first to go,
        and a stream that jumped keeps its new poses while the old clock's drain away."""
        # A duplicate still moves the stream on: a replayed (looping) recording sends stamps
        # already held, and the images stamped after them must not wait forever.
        self.last_added = stamp
        index = bisect.bisect_left(self.stamps, stamp)
        if index < len(self.stamps) and self.stamps[index] == stamp:
            return False
        self.stamps.insert(index, stamp)
        self.poses.insert(index, np.asarray(pose, dtype=np.float64))
        if len(self.stamps) > self.capacity:
            # Sorted: the farthest stamp from the present is the first or the last.
            end = -1 if self.stamps[-1] - stamp > stamp - self.stamps[0] else 0
            del self.stamps[end], self.poses[end]
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
