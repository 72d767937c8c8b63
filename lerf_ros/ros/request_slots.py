"""Bounds on the node's heavy service calls, so that a crowd of clients cannot occupy every
executor thread (the node froze when four clients queried back to back: every thread waited
on the model lock and nothing was left for ``~/status`` or the camera topics).

ROS-free: plain ``threading``, unit-tested in ``test/ros/test_request_slots.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class RequestSlots:
    """At most ``running`` requests of one kind in progress and ``waiting`` more queued behind
    them; a request beyond that is answered at once with a ``busy:`` message instead of
    holding an executor thread."""

    def __init__(self, name: str, running: int = 2, waiting: int = 2):
        if running < 1 or waiting < 0:
            raise ValueError("running must be >= 1 and waiting >= 0")
        self.name = name
        self.running = running
        self.waiting = waiting
        self._turns = threading.Semaphore(running)
        self._lock = threading.Lock()
        self._admitted = 0
        self._in_progress = 0
        self.refused = 0
        """Requests answered ``busy:`` so far."""

    def busy_message(self) -> str:
        """Why a request is refused now, with the counts (``busy: ...``)."""
        with self._lock:
            return self._busy_message()

    def _busy_message(self) -> str:
        queued = self._admitted - self._in_progress
        return (
            f"busy: {self._in_progress} {self.name} request(s) in progress and {queued} "
            f"waiting (at most {self.running} at a time, {self.waiting} waiting); try again"
        )

    def call(self, work: Callable[[], T], on_busy: Callable[[str], T]) -> T:
        """Run ``work()`` once a slot is free, or return ``on_busy(message)`` at once when
        ``running + waiting`` requests are already admitted."""
        with self._lock:
            if self._admitted >= self.running + self.waiting:
                self.refused += 1
                message = self._busy_message()
            else:
                self._admitted += 1
                message = None
        if message is not None:
            return on_busy(message)
        try:
            with self._turns:
                with self._lock:
                    self._in_progress += 1
                try:
                    return work()
                finally:
                    with self._lock:
                        self._in_progress -= 1
        finally:
            with self._lock:
                self._admitted -= 1


class ResetGate:
    """Many readers of the field at once, or one reset alone.

    ``~/reset`` drops the trainer while ``~/get_targets`` may still read it; the readers
    (queries, targets, relevancy images) hold the gate shared and a reset holds it exclusive,
    so a reset waits for the reads in progress and reads wait for the reset. A waiting reset
    holds new readers back so that a stream of queries cannot starve it.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._resetting = False
        self._resets_waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._resetting or self._resets_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if self._readers == 0:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._resets_waiting += 1
            try:
                while self._resetting or self._readers:
                    self._cond.wait()
            finally:
                self._resets_waiting -= 1
            self._resetting = True
        try:
            yield
        finally:
            with self._cond:
                self._resetting = False
                self._cond.notify_all()
