"""A re-entrant lock that serves its waiters first come, first served.

The model lock is taken by the training loop step after step and by every reader (queries,
targets, heat maps, saves). ``threading.RLock`` makes no promise of order: the training
thread, releasing and re-acquiring in a loop, can take it again before a woken reader runs,
and a stream of readers can equally keep training out. Handing the lock over in arrival order
bounds every wait by the work queued ahead of it.
"""

from __future__ import annotations

import collections
import threading


class FairLock:
    """Re-entrant, FIFO-fair lock (``with lock:``; the same thread may nest)."""

    def __init__(self) -> None:
        self._state = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._waiting: collections.deque[object] = collections.deque()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        me = threading.get_ident()
        with self._state:
            if self._owner == me:
                self._depth += 1
                return True
            if self._owner is None and not self._waiting:
                self._owner, self._depth = me, 1
                return True
            if not blocking:
                return False
            ticket = object()
            self._waiting.append(ticket)
            turn = lambda: self._owner is None and self._waiting[0] is ticket  # noqa: E731
            if not self._state.wait_for(turn, None if timeout < 0 else timeout):
                self._waiting.remove(ticket)
                self._state.notify_all()  # the next in line may be free to go now
                return False
            self._waiting.popleft()
            self._owner, self._depth = me, 1
            return True

    def release(self) -> None:
        with self._state:
            if self._owner != threading.get_ident():
                raise RuntimeError("release of a FairLock this thread does not hold")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._state.notify_all()

    def held_by_me(self) -> bool:
        """Whether the calling thread holds the lock."""
        return self._owner == threading.get_ident()

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()
