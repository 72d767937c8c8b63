"""Settings of grasp and navigation target planning (ROS-free)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from lerf_ros.configuration import check_literals


@dataclass
class GraspConfig:
    """Parallel-jaw gripper and how a grasp is approached.

    Pose convention: the gripper approaches along the pose's +x axis, the fingers close along
    +y, z = x × y; the position is the point between the fingertips at the grasp.
    """

    max_gripper_width: float = 0.12
    """Widest opening (m); grasps across a wider extent are rejected."""
    finger_depth: float = 0.04
    """How far the fingertips reach past the object's near face (m), capped at half its depth."""
    finger_thickness: float = 0.015
    """Finger size across the closing direction (m), for the corridor check."""
    finger_clearance: float = 0.01
    """Opening beyond the object's width on each side while approaching (m)."""
    pre_grasp_distance: float = 0.10
    """Length of the approach corridor back from the grasp along -approach (m)."""
    approach: Literal["auto", "top", "side"] = "auto"
    """How a grasp approaches: ``auto`` (top-down when the object rests on a support plane,
    else from the side) | ``top`` | ``side``."""
    side_directions: int = 16
    """Horizontal approach directions tried around the object."""
    face_angle_deg: float = 35.0
    """A face supports an approach when its outward normals lie within this angle of -approach."""
    min_face_share: float = 0.03
    """Smallest share of the object's points that must form the approached face."""
    support_tolerance: float = 0.03
    """An object rests on a horizontal surface whose height is within this of its bottom (m)."""
    max_per_peak: int = 3
    """Grasps kept per peak (best first)."""


@dataclass
class NavigationConfig:
    """A mobile base that drives to look at (or reach) the target."""

    standoff_distance: float = 0.8
    """Distance (m) from the target's footprint to the goal."""
    robot_radius: float = 0.25
    """Radius of the base's footprint disc (m), kept free of obstacles."""
    robot_height: float = 1.2
    """Height of the column above the footprint disc that must be free (m)."""
    floor_clearance: float = 0.05
    """Free-space checks start this far above the ground (m), so the floor is not an obstacle."""
    ground_height: float = math.nan
    """z of the floor in the fixed frame (m). NaN (default): the height of ``base_frame`` on
    TF where the node can look it up, else estimated from the field: the lowest horizontal
    surface below every keyframe camera that was seen under the cameras (a table they look at
    is not); when none qualifies, no navigation goals and the answer says why."""
    base_frame: str = "base_footprint"
    """The robot's base frame on the floor (REP-105); with ``ground_height`` NaN its height in
    the fixed frame is the floor's, where TF has it ('' or no TF: estimate from the field).
    The node only: offline tools have no TF."""
    directions: int = 24
    """Goal directions tried around the target."""
    max_goals: int = 5
    """Goals returned (best first)."""
    min_observed: float = 0.3
    """Share of the robot's column at a goal that keyframes must have seen: unseen space is
    not known to be free."""


@dataclass
class TargetConfig:
    """Everything ``~/get_targets`` needs beyond the query itself."""

    grasp: GraspConfig
    navigation: NavigationConfig
    occupied_density: float = 20.0
    """Field density (1/m) above which a point counts as solid (at 20/m a 2 cm slab is ~33 %
    opaque). The CPU preset's fields (density scale 0.1) have soft surfaces: measured on the
    synthetic room, a top surface peaks at 24-7,400/m and open air stays under 10/m for
    99.6 % of points. Tune per robot."""
    part_margin: float = 0.03
    """For ``object;part`` queries, part points may lie this far outside the object's region (m)."""

    @classmethod
    def default(cls) -> TargetConfig:
        return cls(GraspConfig(), NavigationConfig())

    def validate(self) -> TargetConfig:
        """Raise :class:`~lerf_ros.configuration.ConfigError` for an enumerated field outside
        its values (``grasp.approach must be auto, top or side, not 'x'``)."""
        check_literals(self)
        return self
