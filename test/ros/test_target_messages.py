"""Planned grasps and goals become ``GetTargets`` messages without losing what was planned."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message

from lerf_ros.cameras.conventions import quaternion_to_matrix
from lerf_ros.query.peaks import Peak
from lerf_ros.ros.target_messages import fill_targets, goal_to_msg, grasp_to_msg
from lerf_ros.srv import GetTargets
from lerf_ros.targets.config import NavigationConfig
from lerf_ros.targets.grasps import Grasp
from lerf_ros.targets.navigation import NavigationGoal, plan_navigation
from lerf_ros.targets.service import TargetAnswer


def side_grasp() -> Grasp:
    approach = np.array([0.0, 2.0, 0.0])  # not unit: the message's is
    return Grasp(
        position=np.array([1.0, 0.5, 0.3]),
        quaternion=np.array([0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4)]),
        score=1.3,  # out of range: clamped
        approach=approach,
        closing=np.array([-1.0, 0.0, 0.0]),
        width=0.07,
        kind="side",
        pre_grasp=np.array([1.0, 0.4, 0.3]),
        peak=1,
    )


def goal() -> NavigationGoal:
    return NavigationGoal(
        position=np.array([0.2, 0.5, 0.0]),
        quaternion=np.array([0.0, 0.0, 0.0, 1.0]),
        score=0.72,
        yaw=0.0,
        distance=0.8,
        visibility=0.8,
    )


def test_a_grasp_keeps_its_pre_grasp_approach_width_kind_and_peak():
    msg = grasp_to_msg(side_grasp(), "map", GetTargets.Response().header.stamp)
    assert msg.pose.header.frame_id == msg.pre_grasp_pose.header.frame_id == "map"
    assert (msg.pose.pose.position.x, msg.pose.pose.position.y) == pytest.approx((1.0, 0.5))
    assert msg.pre_grasp_pose.pose.position.y == pytest.approx(0.4)
    assert msg.pre_grasp_pose.pose.orientation == msg.pose.pose.orientation
    assert (msg.approach.x, msg.approach.y, msg.approach.z) == pytest.approx((0.0, 1.0, 0.0))
    # the pose's +x is the approach direction
    q = msg.pose.pose.orientation
    assert quaternion_to_matrix(q.x, q.y, q.z, q.w)[:, 0] == pytest.approx([0.0, 1.0, 0.0])
    assert msg.width == pytest.approx(0.07)
    assert msg.kind == msg.KIND_SIDE and msg.score == 1.0 and msg.peak == 1


def test_a_goal_keeps_distance_and_visibility():
    msg = goal_to_msg(goal(), "map", GetTargets.Response().header.stamp)
    assert (msg.score, msg.distance, msg.visibility) == pytest.approx((0.72, 0.8, 0.8))
    assert msg.pose.header.frame_id == "map"


def test_fill_targets_sets_header_code_and_the_parallel_arrays():
    peak = Peak(
        position=np.array([1.0, 0.5, 0.3]),
        relevancy=0.9,
        scale=0.2,
        extent=np.array([0.1, 0.1, 0.2]),
        support=30,
        indices=np.arange(30),
    )
    result = SimpleNamespace(peaks=[peak])  # all fill_targets reads of a QueryResult
    answer = TargetAnswer(result, grasps=[side_grasp()], goals=[goal()], message="found")
    response = GetTargets.Response()
    stamp = response.header.stamp
    stamp.sec = 12
    fill_targets(response, answer, "map", stamp)
    back = deserialize_message(serialize_message(response), GetTargets.Response)
    assert back.success and back.error_code == GetTargets.Response.SUCCESS
    assert back.header.frame_id == "map" and back.header.stamp.sec == 12
    assert len(back.grasps) == len(back.grasp_poses) == len(back.grasp_scores) == 1
    assert back.grasp_poses[0] == back.grasps[0].pose
    assert list(back.grasp_scores) == [back.grasps[0].score]
    assert back.navigation_goals[0] == back.goals[0].pose
    assert back.message == "found" and len(back.peaks) == 1

    result.peaks = []
    empty = GetTargets.Response()
    fill_targets(empty, TargetAnswer(result, message="nothing"), "map", stamp)
    assert not empty.success and empty.error_code == GetTargets.Response.NO_TARGET


def test_goal_visibility_is_higher_on_the_side_the_cameras_saw():
    rng = np.random.default_rng(0)
    target = rng.uniform([-0.1, -0.1, 0.0], [0.1, 0.1, 0.3], size=(300, 3))
    cameras = np.array([[2.0, 0.0, 1.0], [2.0, 0.5, 1.0]])  # all on the +x side

    def nothing(points):
        return np.zeros(len(points), dtype=bool)

    def everything(points):
        return np.ones(len(points), dtype=bool)

    config = NavigationConfig(directions=8, max_goals=8)
    goals = plan_navigation(target, 0.9, cameras, 0.0, nothing, everything, config)
    assert len(goals) == 8
    for g in goals:
        assert 0.0 <= g.visibility <= 1.0
        assert g.score == pytest.approx(0.9 * g.visibility)
    seen_side = max(goals, key=lambda g: g.position[0])
    far_side = min(goals, key=lambda g: g.position[0])
    assert seen_side.visibility > far_side.visibility
