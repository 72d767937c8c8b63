"""Which node parameters change the running node and which numbers they accept (ROS-free).

:data:`LIVE` names the parameters applied at run time (``lerf_ros.ros.live_parameters``); the
others are declared ``read_only``. :data:`RANGES` become the descriptors'
``FloatingPointRange``/``IntegerRange`` (``ros2 param describe``), which rclpy checks for
parameter files, launch arguments and run-time changes alike; :func:`check_value` checks the
same ranges and refuses NaN and infinity without ROS (the CLI, the tests).
"""

from __future__ import annotations

import math

from lerf_ros.configuration import ConfigError

LIVE: dict[str, str] = {
    "pose_slop": "sync",
    "pose_wait": "sync",
    "keyframe_min_translation": "keyframes",
    "keyframe_min_rotation_deg": "keyframes",
    "keyframe_max_interval": "keyframes",
    "pause": "pause",
    "query_num_scales": "query",
    "query_max_scale": "query",
    "query_min_views": "query",
    "query_min_relevancy": "query",
    "query_max_results": "query",
    "ground_height": "targets",
    "base_frame": "targets",
    "standoff_distance": "targets",
    "max_gripper_width": "targets",
    "pre_grasp_distance": "targets",
    "grasp_approach": "targets",
    "robot_radius": "targets",
    "occupied_density": "targets",
    "relevancy_image_width": "outputs",
}
"""Parameters applied while the node runs (``ros2 param set``, rqt_reconfigure): name -> what
they update (``lerf_ros.ros.live_parameters`` applies each kind). Every other parameter is
read at start-up only and declared ``read_only``, so a change is refused instead of being
reported as a success that changes nothing."""

BIG = 1_000_000_000
"""Upper end of counts that have no natural limit (steps, budgets)."""

RANGES: dict[str, tuple[float, float, float]] = {
    "depth_scale": (1e-6, 10.0, 0.0),
    "depth_max": (0.01, 1000.0, 0.0),
    "pose_slop": (0.0, 10.0, 0.0),
    "pose_wait": (0.0, 600.0, 0.0),
    "torch_threads": (0, 1024, 1),
    "max_keyframes": (1, 1_000_000, 1),
    "keyframe_min_translation": (0.0, 1000.0, 0.0),
    "keyframe_min_rotation_deg": (0.0, 180.0, 0.0),
    "keyframe_max_interval": (0.0, 86400.0, 0.0),
    "rays_per_batch": (0, 1 << 24, 1),
    "max_steps": (0, BIG, 1),
    "ready_steps": (0, BIG, 1),
    "ready_max_rgb_error": (0.0, 1.0, 0.0),
    "ready_min_clip_cosine": (-1.0, 1.0, 0.0),
    "ready_max_depth_error": (0.0, 1000.0, 0.0),
    "ready_max_steps": (0, BIG, 1),
    "depth_loss_weight": (0.0, 1000.0, 0.0),
    "free_space_loss_weight": (0.0, 1000.0, 0.0),
    "query_num_scales": (1, 1000, 1),
    "query_max_scale": (0.001, 100.0, 0.0),
    "query_min_views": (0, 10_000, 1),
    "query_min_relevancy": (0.0, 1.0, 0.0),
    "query_max_results": (1, 100, 1),
    "standoff_distance": (0.0, 100.0, 0.0),
    "max_gripper_width": (0.001, 10.0, 0.0),
    "pre_grasp_distance": (0.0, 10.0, 0.0),
    "robot_radius": (0.0, 100.0, 0.0),
    "occupied_density": (0.0, 1e9, 0.0),
    "autosave_interval": (0.0, 1e9, 0.0),
    "feature_cache_mb": (0, 1 << 30, 1),
    "relevancy_image_width": (8, 4096, 1),
}
"""``name -> (min, max, step)`` of numeric parameters, inclusive (step 0: any value): the
``FloatingPointRange``/``IntegerRange`` of their descriptors (``ros2 param describe``), checked
by rclpy for launch files, parameter files and run-time changes alike. ``query_max_results``
stops at ``QueryConfig.max_results_limit``; ``ground_height`` has none (NaN is a value:
estimate the floor); every other double without a range must be finite."""

NAN_ALLOWED = frozenset({"ground_height"})
"""Doubles whose NaN means something (see their descriptions)."""


def check_value(name: str, value) -> None:
    """Raise :class:`ConfigError` unless ``value`` lies in ``name``'s range and is finite (NaN
    only where it means something: :data:`NAN_ALLOWED`)."""
    nan_allowed = name in NAN_ALLOWED and isinstance(value, float) and math.isnan(value)
    if isinstance(value, float) and not math.isfinite(value) and not nan_allowed:
        raise ConfigError(f"{name} must be a finite number, not {value}")
    if name in RANGES and isinstance(value, int | float) and not isinstance(value, bool):
        low, high, _ = RANGES[name]
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low} and {high}, not {value}")
