"""RViz markers of a query's answer: peaks, grasp poses and navigation goals.

One namespace per kind with stable ids; every array starts with DELETEALL so the markers of
the previous query disappear.
"""

from __future__ import annotations

import math

import numpy as np
from geometry_msgs.msg import Point, Vector3
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from lerf_ros.targets.grasps import gripper_segments

NAMESPACES = (
    "peaks",
    "peak_labels",
    "grasps",
    "grasp_approaches",
    "grasp_labels",
    "navigation_goals",
    "navigation_footprints",
    "navigation_labels",
)
PEAK_COLOUR = (1.0, 0.85, 0.1)
GRASP_COLOUR = (0.1, 0.9, 0.2)
GOAL_COLOUR = (0.2, 0.4, 1.0)
UP = np.array([0.0, 0.0, 1.0])
LABEL_HEIGHT = 0.05
"""Text height (m) of the labels."""


def _point(xyz) -> Point:
    return Point(x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2]))


def _colour(rgb, alpha: float = 0.9) -> ColorRGBA:
    return ColorRGBA(r=float(rgb[0]), g=float(rgb[1]), b=float(rgb[2]), a=alpha)


class _Builder:
    """Appends markers with a common header and per-namespace ids."""

    def __init__(self, frame_id: str, stamp):
        self.frame_id, self.stamp = frame_id, stamp
        self.array = MarkerArray()
        self.ids: dict[str, int] = {}
        clear = Marker()
        clear.header.frame_id, clear.header.stamp = frame_id, stamp
        clear.action = Marker.DELETEALL
        self.array.markers.append(clear)

    def add(self, ns: str, kind: int, rgb, alpha: float = 0.9) -> Marker:
        marker = Marker()
        marker.header.frame_id, marker.header.stamp = self.frame_id, self.stamp
        marker.ns, marker.type, marker.action = ns, kind, Marker.ADD
        marker.id = self.ids.get(ns, 0)
        self.ids[ns] = marker.id + 1
        marker.pose.orientation.w = 1.0
        marker.color = _colour(rgb, alpha)
        self.array.markers.append(marker)
        return marker

    def label(self, ns: str, position, text: str) -> None:
        marker = self.add(ns, Marker.TEXT_VIEW_FACING, (1.0, 1.0, 1.0), 1.0)
        marker.pose.position = _point(position)
        marker.scale.z = LABEL_HEIGHT
        marker.text = text

    def arrow(self, ns: str, start, end, rgb, shaft: float) -> None:
        marker = self.add(ns, Marker.ARROW, rgb)
        marker.points = [_point(start), _point(end)]
        marker.scale = Vector3(x=shaft, y=2.0 * shaft, z=2.5 * shaft)


def query_markers(
    result, frame_id: str, stamp, targets=None, robot_radius: float = 0.25
) -> MarkerArray:
    """Markers of a :class:`QueryResult` and, optionally, its grasp/navigation targets.

    Peaks: a sphere sized like the cluster plus a label. Grasps: the open gripper as a line
    list (fingers, palm, wrist), an arrow along the approach corridor and a label.
    Navigation goals: an arrow facing the target, the robot's footprint circle and a label.
    """
    draw = _Builder(frame_id, stamp)
    text = result.request.text
    for i, peak in enumerate(result.peaks):
        sphere = draw.add("peaks", Marker.SPHERE, PEAK_COLOUR, 0.6)
        sphere.pose.position = _point(peak.position)
        size = float(max(0.04, min(0.5, max(peak.extent))))
        sphere.scale = Vector3(x=size, y=size, z=size)
        above = np.asarray(peak.position) + UP * (size / 2 + 0.05)
        draw.label("peak_labels", above, f"{text} #{i + 1}: {peak.relevancy:.2f}")
    if targets is None:
        return draw.array
    for i, grasp in enumerate(targets.grasps):
        gripper = draw.add("grasps", Marker.LINE_LIST, GRASP_COLOUR)
        gripper.scale.x = 0.006
        gripper.points = [_point(p) for p in gripper_segments(grasp).reshape(-1, 3)]
        draw.arrow("grasp_approaches", grasp.pre_grasp, grasp.position, GRASP_COLOUR, 0.008)
        label_at = np.asarray(grasp.pre_grasp) + UP * 0.04
        draw.label("grasp_labels", label_at, f"grasp {text} #{i + 1}: {grasp.score:.2f}")
    for i, goal in enumerate(targets.goals):
        heading = np.array([math.cos(goal.yaw), math.sin(goal.yaw), 0.0])
        start = np.asarray(goal.position) + UP * 0.02
        draw.arrow("navigation_goals", start, start + heading * 0.4, GOAL_COLOUR, 0.03)
        footprint = draw.add("navigation_footprints", Marker.LINE_STRIP, GOAL_COLOUR, 0.7)
        footprint.scale.x = 0.01
        angles = np.linspace(0.0, 2 * math.pi, 33)
        footprint.points = [
            _point(start + robot_radius * np.array([math.cos(a), math.sin(a), 0.0])) for a in angles
        ]
        draw.label("navigation_labels", start + UP * 0.3, f"go {text} #{i + 1}: {goal.score:.2f}")
    return draw.array
