"""Periodic checkpoints on a thread of their own.

Autosave used to be an executor timer sharing a callback group with ``~/status``: while a
save waited on the model lock no status went out. Here it runs on its own thread and waits
on a monotonic clock, so neither the executor nor ``use_sim_time`` can hold it up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Autosaver:
    """Calls ``save()`` every ``interval`` seconds until :meth:`stop`; a failing save is
    reported to ``on_error`` and the next one is tried on time."""

    def __init__(
        self, interval: float, save: Callable[[], None], on_error: Callable[[Exception], None]
    ):
        if interval <= 0:
            raise ValueError("interval must be > 0")
        self.interval = interval
        self._save = save
        self._on_error = on_error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lerf-autosave", daemon=True)
        self.saves = 0
        """Saves attempted so far."""

    def start(self) -> Autosaver:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.saves += 1
            try:
                self._save()
            except Exception as error:  # a disk problem must not end autosaving
                self._on_error(error)

    def stop(self, timeout: float = 60.0) -> None:
        """Stop after the save in progress (if any) has finished."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
