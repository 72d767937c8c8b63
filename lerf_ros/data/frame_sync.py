"""Matching camera images to poses by stamp, and the rules for dropping frames (ROS-free).

The node feeds messages in and gets back frames to train on and drops to count; every rule
lives here so it can be unit-tested without a node.
"""

from __future__ import annotations

MAX_STAMP_AHEAD = 3600.0
"""Seconds: a stamp further ahead of this machine's clock is a broken clock, not a frame (it
would also hold back time-based keyframe selection until the clock caught up)."""

TIME_JUMP_BACK = 2.0
"""Seconds: a stamp this far behind the last one is a clock reset, not a late frame."""
