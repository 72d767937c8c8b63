"""The robot's base frame height on TF: the floor under navigation goals (an optional hook).

REP-105 puts ``base_footprint`` on the floor under the robot, so its z in the fixed frame is
the floor's, better than any estimate from the field. tf2_ros comes with a ROS install, not
with the PyPI wheels: without it, or while TF has no such transform, :meth:`BaseHeight.z` is
None and the targets fall back to the field's estimate (:mod:`lerf_ros.targets.ground`).
"""

from __future__ import annotations

import math


class BaseHeight:
    """Looks up ``base_frame``'s z in ``fixed_frame`` on TF (latest transform)."""

    def __init__(self, node, fixed_frame: str, base_frame: str):
        self.fixed_frame = fixed_frame
        self.buffer = None
        if not base_frame:
            return  # '' asks not to look
        try:
            import tf2_ros
        except ImportError:
            return
        self.buffer = tf2_ros.Buffer()
        # Listening from the start: a transform published before the first ~/get_targets
        # call is in the buffer when it comes.
        self._listener = tf2_ros.TransformListener(self.buffer, node)

    def z(self, base_frame: str) -> float | None:
        """``base_frame``'s height in the fixed frame, or None (no tf2_ros, no transform)."""
        if self.buffer is None or not base_frame:
            return None
        from rclpy.time import Time

        try:
            if not self.buffer.can_transform(self.fixed_frame, base_frame, Time()):
                return None
            transform = self.buffer.lookup_transform(self.fixed_frame, base_frame, Time())
        except Exception:  # tf2 raises several exception types for "not (yet) available"
            return None
        z = float(transform.transform.translation.z)
        return z if math.isfinite(z) else None
