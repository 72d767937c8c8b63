"""RViz markers of a query's answer: peaks, grasp poses and navigation goals.

One namespace per kind with stable ids; every array starts with DELETEALL so the markers of
the previous query disappear.
"""

from __future__ import annotations

from geometry_msgs.msg import Point, Vector3
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from lerf_ros.cameras.conventions import pose_from_translation_quaternion
from lerf_ros.ros.conversions import matrix_to_pose

NAMESPACES = ("peaks", "peak_labels", "grasps", "navigation_goals")


def _marker(ns: str, marker_id: int, kind: int, frame_id: str, stamp) -> Marker:
    marker = Marker()
    marker.header.frame_id = frame_id
    marker.header.stamp = stamp
    marker.ns, marker.id, marker.type, marker.action = ns, marker_id, kind, Marker.ADD
    marker.pose.orientation.w = 1.0
    return marker


def query_markers(result, frame_id: str, stamp, targets=None) -> MarkerArray:
    """Markers of a :class:`QueryResult` (and optional grasp/navigation targets)."""
    array = MarkerArray()
    clear = Marker()
    clear.header.frame_id = frame_id
    clear.header.stamp = stamp
    clear.action = Marker.DELETEALL
    array.markers.append(clear)
    text = result.request.text
    for i, peak in enumerate(result.peaks):
        sphere = _marker("peaks", i, Marker.SPHERE, frame_id, stamp)
        sphere.pose.position = Point(
            x=float(peak.position[0]), y=float(peak.position[1]), z=float(peak.position[2])
        )
        size = float(max(0.04, min(0.5, max(peak.extent))))
        sphere.scale = Vector3(x=size, y=size, z=size)
        sphere.color = ColorRGBA(r=1.0, g=0.85 - 0.15 * i, b=0.1, a=0.6)
        array.markers.append(sphere)
        label = _marker("peak_labels", i, Marker.TEXT_VIEW_FACING, frame_id, stamp)
        label.pose.position = Point(
            x=sphere.pose.position.x,
            y=sphere.pose.position.y,
            z=sphere.pose.position.z + size / 2 + 0.05,
        )
        label.scale.z = 0.06
        label.color = ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0)
        label.text = f"{text} #{i + 1}: {peak.relevancy:.2f}"
        array.markers.append(label)
    if targets is not None:
        for i, grasp in enumerate(targets.grasps):
            arrow = _marker("grasps", i, Marker.ARROW, frame_id, stamp)
            arrow.pose = matrix_to_pose(
                pose_from_translation_quaternion(grasp.position, grasp.quaternion)
            )
            arrow.scale = Vector3(x=0.12, y=0.015, z=0.015)
            arrow.color = ColorRGBA(r=0.1, g=0.9, b=0.2, a=0.9)
            array.markers.append(arrow)
        for i, goal in enumerate(targets.goals):
            arrow = _marker("navigation_goals", i, Marker.ARROW, frame_id, stamp)
            arrow.pose = matrix_to_pose(
                pose_from_translation_quaternion(goal.position, goal.quaternion)
            )
            arrow.scale = Vector3(x=0.4, y=0.06, z=0.06)
            arrow.color = ColorRGBA(r=0.2, g=0.4, b=1.0, a=0.9)
            array.markers.append(arrow)
    return array
