"""Settings only the ROS node has: its topics, frames, encoders, checkpoint and threads (ROS-free).

The engine's and the target planners' settings live in their own dataclasses
(:class:`~lerf_ros.training.config.LerfConfig`, :class:`~lerf_ros.targets.config.TargetConfig`);
``lerf_ros.ros.parameters`` maps node parameters onto all three. A field's docstring is its
parameter's description (config/lerf.yaml, the README table, ``ros2 param describe``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from lerf_ros.configuration import ConfigError, check_literals
from lerf_ros.extrinsics import check_extrinsics


@dataclass
class NodeConfig:
    """How lerf_trainer is wired to the robot."""

    fixed_frame: str = "map"
    """Frame the field, poses and every answer live in."""
    image_topics: list[str] = field(default_factory=lambda: ["/camera/image_raw"])
    """Image topics, one per camera (…/compressed: sensor_msgs/CompressedImage)."""
    camera_info_topics: list[str] = field(default_factory=lambda: ["/camera/camera_info"])
    """CameraInfo topics, one per camera."""
    pose_source: Literal["pose", "odometry", "tf"] = "pose"
    """Camera poses from: ``pose`` (PoseStamped on pose_topics) | ``odometry`` (Odometry on
    pose_topics) | ``tf`` (the optical frame looked up in fixed_frame)."""
    pose_topics: list[str] = field(default_factory=lambda: ["/camera/pose"])
    """PoseStamped or Odometry topics, one per camera."""
    depth_topics: list[str] = field(default_factory=lambda: [""])
    """Depth topics registered to each camera's colour image, one per camera ('' = none; a
    RealSense: /camera/aligned_depth_to_color/image_raw): 16UC1/mono16 in depth_scale units or
    32FC1 metres (…/compressedDepth: sensor_msgs/CompressedImage as
    compressed_depth_image_transport sends it)."""
    depth_scale: float = 0.001
    """Metres per unit of 16UC1/mono16 depth (0.001: millimetres, as RealSense publishes)."""
    depth_max: float = 6.0
    """Depth readings beyond this many metres are ignored (sensor noise grows with distance)."""
    optical_frames: list[str] = field(default_factory=lambda: [""])
    """Optical frame per camera for pose_source=tf ('' = the image header's)."""
    extrinsic: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    """Static pose x y z qx qy qz qw of each camera's optical frame in its posed frame: 7
    numbers for all cameras, or 7 per camera in image_topics order (a flat list of 7 x N)."""
    pose_slop: float = 0.05
    """Largest image/pose stamp difference (s) used for matching."""
    pose_wait: float = 0.5
    """How long (s) an image waits for its pose while no pose arrives before it is dropped."""
    preset: Literal["lerf", "cpu"] = "lerf"
    """Model size: ``lerf`` (kerrj/lerf's, GPU) | ``cpu`` (small, two CPU cores)."""
    encoder: str = "openclip"
    """CLIP encoder: ``openclip`` | ``colour-minilm`` | ``package.module:Class``."""
    encoder_checkpoint: str = ""
    """Local open_clip checkpoint file (no download); '' for the encoder's own."""
    dino: str = "dino"
    """DINO encoder: ``dino`` | ``colour-patches`` | ``none`` | ``package.module:Class``."""
    torch_threads: int = 0
    """CPU threads for torch (0: torch's default)."""
    pause: bool = False
    """Training paused (fields still answer); the same switch as the ~/pause service."""
    publish_nav2_goal: bool = False
    """Also publish the best navigation goal on goal_pose (Nav2), relative to the node's
    namespace, where a namespaced Nav2 listens; remap it for another topic."""
    checkpoint_path: str = ""
    """Checkpoint file for ~/save, ~/load, autosave and resume ('' for none)."""
    autosave_interval: float = 0.0
    """Seconds between autosaves (0: off); also saved on shutdown."""
    resume: bool = False
    """Load checkpoint_path at start-up when it exists."""
    managed: bool = False
    """Wait in 'unconfigured' for a lifecycle manager (Nav2's) to configure and activate the
    node through ~/change_state; false: configure and activate by itself at start-up."""
    relevancy_image_width: int = 160
    """Width of ~/relevancy_image (pixels)."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> NodeConfig:
        """``pose_source must be pose, odometry or tf, not 'x'`` (and likewise ``preset``)."""
        check_literals(self)
        for name in ("depth_scale", "depth_max"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a positive number of metres, got {value}")
        try:
            check_extrinsics(self.extrinsic, len(self.image_topics))
        except ValueError as error:
            raise ConfigError(str(error)) from None
        return self
