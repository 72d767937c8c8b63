"""query_markers: one namespace per kind, DELETEALL first, gripper / footprint geometry."""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from visualization_msgs.msg import Marker

from lerf_ros.query.peaks import Peak
from lerf_ros.query.request import QueryRequest
from lerf_ros.ros.markers import NAMESPACES, query_markers
from lerf_ros.targets.grasps import Grasp
from lerf_ros.targets.navigation import NavigationGoal
from lerf_ros.targets.service import TargetAnswer


class Result:
    def __init__(self, text, peaks):
        self.request = QueryRequest(
            text=text,
            negatives=[],
            scale=None,
            max_results=5,
            min_relevancy=0.55,
            return_cloud=False,
        )
        self.peaks = peaks


def make_answer():
    peak = Peak(np.array([1.0, 2.0, 0.8]), 0.9, 0.2, np.array([0.1, 0.1, 0.2]), 50, np.arange(50))
    grasp = Grasp(
        position=np.array([1.0, 2.0, 0.85]),
        quaternion=np.array([0.0, 0.7071068, 0.0, 0.7071068]),
        score=0.6,
        approach=np.array([0.0, 0.0, -1.0]),
        closing=np.array([0.0, 1.0, 0.0]),
        width=0.08,
        kind="top",
        pre_grasp=np.array([1.0, 2.0, 0.95]),
    )
    goal = NavigationGoal(np.array([0.2, 2.0, 0.0]), np.array([0, 0, 0, 1.0]), 0.7, 0.0, 0.8)
    return Result("red mug", [peak]), grasp, goal


def test_markers_have_one_namespace_per_kind_and_clear_first():
    result, grasp, goal = make_answer()
    answer = TargetAnswer(result, [grasp], [goal])
    array = query_markers(result, "map", Time(sec=1), answer, robot_radius=0.3)
    assert array.markers[0].action == Marker.DELETEALL
    drawn = array.markers[1:]
    assert {m.ns for m in drawn} == set(NAMESPACES)
    assert all(m.header.frame_id == "map" for m in drawn)
    by_ns = {m.ns: m for m in drawn}
    gripper = by_ns["grasps"]
    assert gripper.type == Marker.LINE_LIST and len(gripper.points) == 8
    ys = sorted({round(p.y, 3) for p in gripper.points})
    # Fingers 8 cm + 2 x 1 cm clearance apart, centred on the grasp.
    assert ys[0] == 2.0 - 0.05 and ys[-1] == 2.0 + 0.05
    approach = by_ns["grasp_approaches"]
    assert approach.type == Marker.ARROW
    assert [approach.points[0].z, approach.points[1].z] == [0.95, 0.85]
    footprint = by_ns["navigation_footprints"]
    radii = [np.hypot(p.x - 0.2, p.y - 2.0) for p in footprint.points]
    assert np.allclose(radii, 0.3)
    assert by_ns["navigation_goals"].points[1].x > by_ns["navigation_goals"].points[0].x
    assert "red mug" in by_ns["peak_labels"].text and "0.90" in by_ns["peak_labels"].text
    assert "0.60" in by_ns["grasp_labels"].text and "0.70" in by_ns["navigation_labels"].text
    ids = [m.id for m in drawn if m.ns == "peaks"]
    assert ids == [0]


def test_query_without_targets_draws_only_peaks():
    result, _, _ = make_answer()
    array = query_markers(result, "odom", Time())
    assert {m.ns for m in array.markers[1:]} == {"peaks", "peak_labels"}
