"""Publish a synthetic scene live, as a posed camera would (``lerf-ros stream``).

Views along a camera path are rendered before anything is published (ray tracing is far
slower than the frame rate), then sent at ``rate_hz`` with the current time as header stamp:
image (or compressed image), camera info, pose and the renderer's exact depth (16UC1 mm) on
the topics of :mod:`lerf_ros.data.camera_stream`. ``/tf`` is not published: tf2_msgs is not on
PyPI.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data import camera_stream
from lerf_ros.data.camera_stream import CameraTopics
from lerf_ros.data.synthetic.export import TRAJECTORIES, scene_trajectory
from lerf_ros.data.synthetic.presets import SCENES
from lerf_ros.data.synthetic.render import render_view
from lerf_ros.ros import conversions
from lerf_ros.ros.publishing import PublishingNode, sleep_until


@dataclass
class StreamConfig:
    """What to render and how to publish it."""

    scene: str = "default"
    """Synthetic scene name: one of ``presets.SCENES`` (default, mug, wall)."""
    views: int = 30
    """Frames per pass along the camera path."""
    width: int = 128
    """Image width, pixels."""
    height: int = 96
    """Image height, pixels."""
    rate_hz: float = 5.0
    """Frames published per second."""
    loop: bool = False
    """Go round the path again after the last view, until stopped."""
    compressed: bool = False
    """Publish CompressedImage on ``{prefix}/image_raw/compressed`` instead of rgb8 Image."""
    compressed_format: str = "jpeg"
    """jpeg or png, when ``compressed``."""
    trajectory: str = "orbit"
    """Camera path: one of ``export.TRAJECTORIES`` (orbit, robot, walk)."""
    fov_x_deg: float = 60.0
    """Horizontal field of view, degrees."""
    supersample: int = 2
    """Colour samples per pixel side (anti-aliasing); 1 renders fastest."""
    prefix: str = "/camera"
    """Camera topic namespace."""
    depth: bool = True
    """Also publish each view's depth (16UC1 mm, registered) on ``{prefix}/depth/image_raw``."""
    fixed_frame: str = "map"
    """Frame id of the pose header (the scene's world)."""
    optical_frame: str = "camera_optical"
    """Frame id of image and camera info headers."""
    wait_subscribers: int = 1
    """Wait for this many subscribers on every topic before the first frame (0: don't)."""
    wait_timeout_s: float = 10.0
    """Publish anyway after waiting this long for subscribers."""

    def validate(self) -> StreamConfig:
        if self.scene not in SCENES:
            raise ValueError(f"unknown scene {self.scene!r}; choose from {sorted(SCENES)}")
        if self.trajectory not in TRAJECTORIES:
            raise ValueError(f"unknown trajectory {self.trajectory!r}; choose {TRAJECTORIES}")
        if self.compressed and self.compressed_format not in camera_stream.COMPRESSED_FORMATS:
            raise ValueError(f"unknown compressed format {self.compressed_format!r}")
        if self.views < 1 or self.width < 1 or self.height < 1 or not self.rate_hz > 0:
            raise ValueError("views, width, height and rate_hz must be positive")
        return self


@dataclass
class RenderedFrame:
    """One pre-rendered view."""

    rgb: np.ndarray
    """uint8 RGB [H, W, 3]."""
    c2w: np.ndarray
    """Pose of the optical frame in the fixed frame (OpenCV axes), float64 [4, 4]."""
    depth: np.ndarray | None = None
    """float32 z-depth in metres [H, W], inf where the ray hits nothing."""


def prerender(
    config: StreamConfig, stop: threading.Event | None = None
) -> tuple[Intrinsics, list[RenderedFrame]]:
    """Render every view of one pass along the path (the slow part, done up front);
    a set ``stop`` ends rendering early."""
    config.validate()
    scene = SCENES[config.scene]()
    intrinsics = Intrinsics.from_fov(config.width, config.height, math.radians(config.fov_x_deg))
    frames = []
    for c2w in scene_trajectory(scene, config.trajectory, config.views):
        if stop is not None and stop.is_set():
            break
        view = render_view(scene, intrinsics, c2w, config.supersample)
        frames.append(RenderedFrame(camera_stream.to_uint8(view.rgb), view.c2w, view.depth))
    return intrinsics, frames


class CameraPublisher:
    """One camera's image, info and pose publishers, with every view's messages built (and
    compressed) before the first is sent: publishing then only restamps them."""

    def __init__(
        self,
        publishing: PublishingNode,
        config: StreamConfig,
        intrinsics: Intrinsics,
        frames: list[RenderedFrame],
    ) -> None:
        topics = CameraTopics(config.prefix)
        self.clock = publishing.node.get_clock()
        if config.compressed:
            self.image = publishing.publisher(CompressedImage, topics.compressed)
        else:
            self.image = publishing.publisher(Image, topics.image)
        self.info = publishing.publisher(CameraInfo, topics.info)
        self.pose = publishing.publisher(PoseStamped, topics.pose)
        self.depth = publishing.publisher(Image, topics.depth) if config.depth else None
        unset = Time()
        self.info_msg = conversions.intrinsics_to_camera_info(
            intrinsics, config.optical_frame, unset
        )
        self.messages = []
        for frame in frames:
            if config.compressed:
                image = conversions.rgb_to_compressed(
                    frame.rgb, config.optical_frame, unset, config.compressed_format
                )
            else:
                image = conversions.rgb_to_image(frame.rgb, config.optical_frame, unset)
            pose = PoseStamped(pose=conversions.matrix_to_pose(frame.c2w))
            pose.header.frame_id = config.fixed_frame
            depth = None
            if self.depth is not None and frame.depth is not None:
                # inf (nothing hit) becomes 0: no reading, as a depth camera reports the sky.
                depth = conversions.depth_to_image(frame.depth, config.optical_frame, unset)
            self.messages.append((image, pose, depth))

    @property
    def publishers(self):
        """The publishers waited for: a subscriber without depth need not hold the stream."""
        return (self.image, self.info, self.pose)

    @property
    def all_publishers(self):
        return (*self.publishers, *([self.depth] if self.depth is not None else []))

    def publish(self, index: int) -> None:
        """Publish view ``index`` with the current time as the stamp of all its messages."""
        image, pose, depth = self.messages[index]
        stamp = self.clock.now().to_msg()
        for msg in (self.info_msg, pose, image, depth):
            if msg is not None:
                msg.header.stamp = stamp
        # Info, pose and depth first: a subscriber pairing by stamp has them when the image
        # lands (the trainer holds a posed image for its depth, up to pose_wait).
        self.info.publish(self.info_msg)
        self.pose.publish(pose)
        if depth is not None:
            self.depth.publish(depth)
        self.image.publish(image)


def stream(
    config: StreamConfig, stop: threading.Event | None = None, node_name: str = "lerf_streamer"
) -> int:
    """Render, then publish at ``config.rate_hz`` until the path ends (or ``stop``, when
    looping). Returns the number of frames published."""
    stop = stop or threading.Event()
    started = time.monotonic()
    intrinsics, frames = prerender(config, stop)
    published = 0
    if not frames:
        return 0
    with PublishingNode(node_name) as publishing:
        publishing.logger.info(
            f"rendered {len(frames)} views of {config.scene!r} at {config.width}x"
            f"{config.height} in {time.monotonic() - started:.1f} s"
        )
        camera = CameraPublisher(publishing, config, intrinsics, frames)
        publishing.wait_for_subscribers(
            camera.publishers, config.wait_subscribers, config.wait_timeout_s, stop
        )
        period = 1.0 / config.rate_hz
        start = time.monotonic()
        # A fixed schedule (not sleep-per-frame) keeps the mean rate exact despite jitter.
        while (config.loop or published < len(frames)) and sleep_until(
            start + published * period, stop
        ):
            camera.publish(published % len(frames))
            published += 1
        publishing.flush(camera.all_publishers)
    return published
