"""``~/get_targets`` answers as messages: structured grasps and navigation goals, with the
parallel arrays of earlier releases kept alongside for existing clients."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
from geometry_msgs.msg import Vector3

from lerf_ros.msg import Grasp, NavigationGoal
from lerf_ros.ros import conversions as conv
from lerf_ros.ros.query_outputs import target_pose
from lerf_ros.srv import GetTargets

GRASP_KINDS = {"top": Grasp.KIND_TOP, "side": Grasp.KIND_SIDE}


def unit(score: float) -> float:
    """A score clamped to the documented [0, 1] (NaN -> 0)."""
    score = float(score)
    return min(1.0, max(0.0, score)) if math.isfinite(score) else 0.0


def grasp_to_msg(grasp, frame_id: str, stamp) -> Grasp:
    """A planned :class:`~lerf_ros.targets.grasps.Grasp` as ``lerf_ros/Grasp``."""
    pre_grasp = SimpleNamespace(position=grasp.pre_grasp, quaternion=grasp.quaternion)
    approach = np.asarray(grasp.approach, dtype=np.float64)
    approach = approach / max(float(np.linalg.norm(approach)), 1e-12)
    return Grasp(
        pose=target_pose(grasp, frame_id, stamp),
        pre_grasp_pose=target_pose(pre_grasp, frame_id, stamp),
        approach=Vector3(x=float(approach[0]), y=float(approach[1]), z=float(approach[2])),
        width=float(grasp.width),
        kind=GRASP_KINDS[grasp.kind],
        score=unit(grasp.score),
        peak=int(grasp.peak),
    )


def goal_to_msg(goal, frame_id: str, stamp) -> NavigationGoal:
    """A planned :class:`~lerf_ros.targets.navigation.NavigationGoal` as
    ``lerf_ros/NavigationGoal``."""
    return NavigationGoal(
        pose=target_pose(goal, frame_id, stamp),
        score=unit(goal.score),
        distance=float(goal.distance),
        visibility=unit(getattr(goal, "visibility", 1.0)),
        peak=int(goal.peak),
    )


def fill_targets(response: GetTargets.Response, answer, frame_id: str, stamp) -> None:
    """Fill ``response`` from a :class:`~lerf_ros.targets.service.TargetAnswer`: header,
    peaks, grasps, goals, the parallel arrays, success and ``error_code`` (``NO_TARGET`` when
    the query found no peak)."""
    response.header.frame_id, response.header.stamp = frame_id, stamp
    response.peaks = [conv.peak_to_msg(peak) for peak in answer.result.peaks]
    response.grasps = [grasp_to_msg(grasp, frame_id, stamp) for grasp in answer.grasps]
    response.goals = [goal_to_msg(goal, frame_id, stamp) for goal in answer.goals]
    response.grasp_poses = [grasp.pose for grasp in response.grasps]
    response.grasp_scores = [grasp.score for grasp in response.grasps]
    response.navigation_goals = [goal.pose for goal in response.goals]
    response.success = bool(response.peaks)
    response.error_code = (
        GetTargets.Response.SUCCESS if response.success else (GetTargets.Response.NO_TARGET)
    )
    response.message = answer.message
