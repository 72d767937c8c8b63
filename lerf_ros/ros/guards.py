"""What keeps ``lerf_trainer`` running when something goes wrong inside rclpy: an executor that
survives an exception escaping a callback, and publishers that go quiet at shutdown."""

from __future__ import annotations

import traceback
from collections.abc import Callable

from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor


class QuietPublisher:
    """Wraps a publisher: once ``stopping()`` is true (the context shut down on SIGINT while
    queries were still queued) a message is dropped instead of raising "publisher's context
    is invalid"; before that, errors propagate as usual."""

    def __init__(self, publisher, stopping: Callable[[], bool]):
        self._publisher = publisher
        self._stopping = stopping

    def publish(self, msg) -> None:
        if self._stopping():
            return
        try:
            self._publisher.publish(msg)
        except Exception:
            if self._stopping():  # the context went away between the check and the call
                return
            raise

    def __getattr__(self, name: str):
        return getattr(self._publisher, name)


class GuardedExecutor(MultiThreadedExecutor):
    """A MultiThreadedExecutor whose :meth:`spin` survives an exception escaping a callback.

    rclpy re-raises such an exception from ``spin_once`` (e.g. its own parameter service on a
    ``set_parameters`` request with an unknown type), which ended the node. Here it is logged
    once with its traceback and counted, and spinning goes on; ``KeyboardInterrupt`` and an
    external shutdown still end :meth:`spin` (``lerf_ros.ros.spin`` handles them).
    """

    def __init__(self, logger, num_threads: int, poll: float = 0.5):
        super().__init__(num_threads=num_threads)
        self.logger = logger
        self.poll = poll
        self.callback_errors = 0

    def spin(self) -> None:
        while self.context.ok() and not getattr(self, "_is_shutdown", False):
            try:
                self.spin_once(timeout_sec=self.poll)
            except (KeyboardInterrupt, ExternalShutdownException):
                raise
            except Exception as error:
                if not self.context.ok():
                    return  # shutting down: what failed no longer matters
                self.callback_errors += 1
                self.logger.error(
                    f"a callback raised (#{self.callback_errors}; the node keeps running): "
                    f"{type(error).__name__}: {error}\n{traceback.format_exc()}"
                )
