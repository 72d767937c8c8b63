"""The one count of frames received and dropped, by reason, shared by the node and the engine.

A frame can be refused at the edge (a bad image, no pose for its stamp) or by the engine (an
invalid pose, a stamp in the future); both count here, so ``~/status`` shows one ledger. It is
plain Python (no torch, no rclpy): the node creates it before its engine has loaded.
"""

from __future__ import annotations

import threading
from collections import Counter


class DropLedger:
    """Thread-safe counters: frames received, frames dropped by reason."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received = 0
        self._dropped: Counter[str] = Counter()
        self._depth_dropped: Counter[str] = Counter()
        self._without_depth = 0

    def received(self, count: int = 1) -> None:
        """Count frames that arrived (dropped or not)."""
        with self._lock:
            self._received += count

    def drop(self, reason: str) -> None:
        """Count one dropped frame under ``reason`` (a short, stable key such as 'bad image')."""
        with self._lock:
            self._dropped[reason] += 1

    def refuse(self, reason: str) -> None:
        """Count a frame that arrived and was dropped at once."""
        with self._lock:
            self._received += 1
            self._dropped[reason] += 1

    def drop_depth(self, reason: str) -> None:
        """Count a depth image refused under ``reason`` ('bad depth: ...'); its colour image
        goes on (a frame is not dropped for its depth)."""
        with self._lock:
            self._depth_dropped[reason] += 1

    def without_depth(self) -> None:
        """Count a colour frame of a depth camera that trains without depth (no depth image
        matched its stamp, or its depth was refused)."""
        with self._lock:
            self._without_depth += 1

    @property
    def frames_without_depth(self) -> int:
        with self._lock:
            return self._without_depth

    def depth_reasons(self) -> dict[str, int]:
        """Refused depth images by reason (a copy)."""
        with self._lock:
            return dict(self._depth_dropped)

    @property
    def frames_received(self) -> int:
        with self._lock:
            return self._received

    @property
    def frames_dropped(self) -> int:
        with self._lock:
            return sum(self._dropped.values())

    def reasons(self) -> dict[str, int]:
        """Dropped frames by reason (a copy)."""
        with self._lock:
            return dict(self._dropped)

    def __getitem__(self, reason: str) -> int:
        with self._lock:
            return self._dropped[reason]
