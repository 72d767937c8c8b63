"""Shared by the player and streamer tests: ``lerf-ros`` in a child process, and a test-side
camera subscriber in its own rclpy Context that collects images, poses and camera infos by
header stamp (best-effort, like the trainer)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import rclpy
from geometry_msgs.msg import PoseStamped
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from lerf_ros.data.camera_stream import CameraTopics
from lerf_ros.ros import conversions
from lerf_ros.ros.bringup import NodeProcess
from lerf_ros.ros.dds import dds_environment

BEST_EFFORT = QoSProfile(depth=50, reliability=ReliabilityPolicy.BEST_EFFORT)


def start_lerf_ros(args: list[str], log_path: Path) -> NodeProcess:
    """Run ``lerf-ros ARGS`` as a child process (stop it with ``.stop()``: SIGINT, SIGTERM,
    SIGKILL), on this test session's domain with the project's DDS settings."""
    command = [sys.executable, "-m", "lerf_ros.cli.main", *args]
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **dds_environment()}
        )
    return NodeProcess(process=process, log_path=log_path, name=args[0])


def stamp_ns(header) -> int:
    return header.stamp.sec * 1_000_000_000 + header.stamp.nanosec


class CameraListener:
    """Subscribes to one camera's contract topics; spin with :meth:`spin_until`."""

    def __init__(self, prefix: str = "/camera", compressed: bool = False) -> None:
        topics = CameraTopics(prefix)
        self.images: dict[int, np.ndarray] = {}
        self.poses: dict[int, PoseStamped] = {}
        self.infos: dict[int, CameraInfo] = {}
        self.image_frame_ids: set[str] = set()
        self.depths: dict[int, np.ndarray] = {}
        """Depth in metres by stamp (the contract's 16UC1 mm topic, when published)."""
        self.image_count = 0
        """Images received, repeats included (``images`` keeps one per stamp)."""
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("test_camera_listener", context=self.context)
        if compressed:
            self.node.create_subscription(
                CompressedImage, topics.compressed, self._on_compressed, BEST_EFFORT
            )
        else:
            self.node.create_subscription(Image, topics.image, self._on_image, BEST_EFFORT)
        # Subscribed so publishers that wait for subscribers on every topic (the player) start
        # at once; publishers_seen() does not require a depth publisher.
        self.depth_topic = topics.depth
        self.node.create_subscription(
            Image,
            topics.depth,
            lambda m: self.depths.__setitem__(
                stamp_ns(m.header), conversions.depth_image_to_metres(m)
            ),
            BEST_EFFORT,
        )
        self.node.create_subscription(
            PoseStamped,
            topics.pose,
            lambda m: self.poses.__setitem__(stamp_ns(m.header), m),
            BEST_EFFORT,
        )
        self.node.create_subscription(
            CameraInfo,
            topics.info,
            lambda m: self.infos.__setitem__(stamp_ns(m.header), m),
            BEST_EFFORT,
        )
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)

    def _on_image(self, msg: Image) -> None:
        self.images[stamp_ns(msg.header)] = conversions.image_to_rgb(msg)
        self.image_frame_ids.add(msg.header.frame_id)
        self.image_count += 1

    def _on_compressed(self, msg: CompressedImage) -> None:
        self.images[stamp_ns(msg.header)] = conversions.compressed_to_rgb(msg)
        self.image_frame_ids.add(msg.header.frame_id)
        self.image_count += 1

    def publishers_seen(self) -> bool:
        """Whether this node's graph shows a publisher on each subscribed topic."""
        topics = [
            sub.topic_name for sub in self.node.subscriptions if sub.topic_name != self.depth_topic
        ]
        return all(self.node.count_publishers(topic) > 0 for topic in topics)

    def spin_until(self, done: Callable[[], bool], timeout_s: float) -> bool:
        """Spin in bounded steps until ``done()`` or the timeout; returns ``done()``."""
        deadline = time.monotonic() + timeout_s
        while not done() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)
        return done()

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()
