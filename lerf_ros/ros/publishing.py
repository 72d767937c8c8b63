"""What the bag player and the live streamer share: a publishing node in its own rclpy Context,
the camera QoS, waiting for subscribers, paced sleeps and signal handling.

Neither publisher has callbacks, so there is nothing to spin: waits are bounded
``Event.wait`` calls that a signal (SIGINT / SIGTERM) cuts short.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterable

import rclpy
from rclpy.context import Context
from rclpy.duration import Duration
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

CAMERA_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
"""Publisher QoS: reliable matches both reliable and best-effort subscribers (the trainer's)."""


def stop_on_signals(*signals: int) -> threading.Event:
    """An Event that SIGINT and SIGTERM (or ``signals``) set; call from the main thread."""
    stop = threading.Event()
    for number in signals or (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    return stop


def sleep_until(deadline: float, stop: threading.Event) -> bool:
    """Sleep until ``time.monotonic()`` reaches ``deadline``; False if ``stop`` was set."""
    remaining = deadline - time.monotonic()
    if remaining > 0:
        return not stop.wait(remaining)
    return not stop.is_set()


class PublishingNode:
    """A node in a private Context (never the global one), closed by :meth:`close`."""

    def __init__(self, name: str, args: list[str] | None = None) -> None:
        self.context = Context()
        # A private context installs no rclpy signal handlers: the caller owns SIGINT/SIGTERM.
        rclpy.init(args=args, context=self.context)
        try:
            self.node = rclpy.create_node(name, context=self.context)
        except Exception:
            self.context.try_shutdown()
            raise
        self.logger = self.node.get_logger()

    def publisher(self, msg_type, topic: str) -> Publisher:
        return self.node.create_publisher(msg_type, topic, CAMERA_QOS)

    def wait_for_subscribers(
        self,
        publishers: Iterable[Publisher],
        count: int,
        timeout_s: float,
        stop: threading.Event,
        settle_s: float = 0.5,
    ) -> bool:
        """Wait until every publisher has ``count`` matched subscriptions (or the timeout).

        Matching is asymmetric: the publisher may see a subscriber before that subscriber
        accepts data from it, so a short ``settle_s`` follows. Returns False on timeout.
        """
        publishers = list(publishers)
        if count <= 0 or not publishers:
            return True
        deadline = time.monotonic() + timeout_s
        while not stop.is_set():
            missing = [p.topic_name for p in publishers if p.get_subscription_count() < count]
            if not missing:
                sleep_until(time.monotonic() + settle_s, stop)
                return True
            if time.monotonic() >= deadline:
                self.logger.warning(
                    f"after {timeout_s:.0f} s fewer than {count} subscriber(s) on "
                    f"{', '.join(missing)}; publishing anyway"
                )
                return False
            stop.wait(0.05)
        return False

    def flush(self, publishers: Iterable[Publisher], timeout_s: float = 2.0) -> None:
        """Give reliable subscribers the chance to acknowledge the last messages."""
        for publisher in publishers:
            publisher.wait_for_all_acked(Duration(seconds=timeout_s))

    def close(self) -> None:
        self.node.destroy_node()
        self.context.try_shutdown()

    def __enter__(self) -> PublishingNode:
        return self

    def __exit__(self, *_) -> None:
        self.close()
