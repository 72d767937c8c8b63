"""Replay a ROS 2 bag over DDS with its recorded timing (``lerf-ros play``; ``ros2 bag play``
is not on PyPI).

Messages go out as the recorded CDR bytes (rclpy publishes serialized bytes as they are), with
their recorded header stamps. Types are resolved from the bag's type names; a topic whose type
is not importable here (``tf2_msgs`` without a ROS install) is skipped with one warning.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lerf_ros.data.bags import bag_summary, read_messages
from lerf_ros.ros.publishing import PublishingNode, sleep_until


@dataclass
class PlayStats:
    """What one ``play`` call did."""

    published: Counter = field(default_factory=Counter)
    """Topic -> messages published (all passes)."""
    skipped_topics: list[str] = field(default_factory=list)
    """Topics not published because their message type is not importable here."""
    passes: int = 0
    """Complete passes through the bag."""


def message_class(msgtype: str):
    """``sensor_msgs/msg/Image`` -> the rclpy class, or None if the package is not installed."""
    package, kind, name = msgtype.split("/")
    try:
        return getattr(importlib.import_module(f"{package}.{kind}"), name)
    except (ImportError, AttributeError):
        return None


def _publish_pass(bag_path, publishers, rate: float, stop: threading.Event, stats) -> bool:
    """One pass through the bag at ``rate`` times real time; False if stopped."""
    start_wall = start_stamp = None
    for topic, _, timestamp, data in read_messages(bag_path, topics=list(publishers)):
        if start_wall is None:
            start_wall, start_stamp = time.monotonic(), timestamp
        due = start_wall + (timestamp - start_stamp) * 1e-9 / rate
        if not sleep_until(due, stop):
            return False
        publishers[topic].publish(data)
        stats.published[topic] += 1
    return True


def play(
    bag_path: str | Path,
    rate: float = 1.0,
    loop: bool = False,
    topics: Sequence[str] | None = None,
    start_paused: bool = False,
    *,
    wait_subscribers: int = 1,
    wait_timeout_s: float = 10.0,
    stop: threading.Event | None = None,
    resume: threading.Event | None = None,
    node_name: str = "lerf_bag_player",
) -> PlayStats:
    """Publish a bag's messages with their relative timing.

    Args:
        bag_path: bag folder (or .mcap / .db3 file).
        rate: playback speed; 2.0 plays twice as fast as recorded.
        loop: start again after the last message until stopped.
        topics: publish only these topics (None: all).
        start_paused: wait for ``resume`` to be set before the first message.
        wait_subscribers: before starting, wait until every topic has this many subscribers
            (0: don't wait) so the first frames are not published to nobody.
        wait_timeout_s: give up waiting for subscribers after this long and play anyway.
        stop: set it (e.g. from a signal handler) to end playback early.
        resume: set it to leave the paused start.
        node_name: name of the publishing node.
    """
    if not rate > 0:
        raise ValueError(f"rate must be positive, got {rate}")
    stop = stop or threading.Event()
    summary = bag_summary(bag_path)
    stats = PlayStats()
    with PublishingNode(node_name) as publishing:
        publishers = {}
        for topic, (msgtype, _) in sorted(summary.topics.items()):
            if topics is not None and topic not in topics:
                continue
            msg_class = message_class(msgtype)
            if msg_class is None:
                publishing.logger.warning(f"skipping {topic}: type {msgtype} is not installed")
                stats.skipped_topics.append(topic)
                continue
            publishers[topic] = publishing.publisher(msg_class, topic)
        if not publishers:
            raise ValueError(f"{bag_path}: no topic to publish")
        publishing.wait_for_subscribers(publishers.values(), wait_subscribers, wait_timeout_s, stop)
        if start_paused:
            publishing.logger.info("paused; waiting for the resume signal")
            resume = resume or threading.Event()
            while not (stop.is_set() or resume.wait(0.1)):
                pass
        # Between loop passes, leave the bag's own frame spacing (not a double frame).
        frames = max(count for _, count in summary.topics.values())
        gap_s = summary.duration_s / max(frames - 1, 1) / rate
        publishing.logger.info(
            f"playing {summary.path} ({summary.message_count} messages, "
            f"{summary.duration_s:.1f} s) at {rate}x"
        )
        while not stop.is_set() and _publish_pass(bag_path, publishers, rate, stop, stats):
            stats.passes += 1
            if not loop or not sleep_until(time.monotonic() + gap_s, stop):
                break
        publishing.flush(publishers.values())
    return stats
