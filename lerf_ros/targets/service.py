"""What ``~/get_targets`` computes: a query, then grasp poses and navigation goals per peak."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from lerf_ros.query.candidates import count_free_views, count_views
from lerf_ros.query.query3d import QueryResult
from lerf_ros.query.reader import FieldReader
from lerf_ros.targets.config import TargetConfig
from lerf_ros.targets.geometry import Occupancy, segment_object, support_height
from lerf_ros.targets.grasps import Grasp, plan_grasps
from lerf_ros.targets.ground import Ground, estimate_ground, no_floor_hint
from lerf_ros.targets.navigation import NavigationGoal, plan_navigation
from lerf_ros.targets.parts import part_peaks, split_part_query


@dataclass
class TargetAnswer:
    result: QueryResult
    """The query whose peaks were grasped (the part query for ``object;part``)."""
    grasps: list[Grasp] = field(default_factory=list)
    goals: list[NavigationGoal] = field(default_factory=list)
    ground_z: float = float("nan")
    """Ground height used for the navigation goals (NaN: unknown, no goals)."""
    ground: Ground | None = None
    """Where that height came from and why."""
    message: str = ""


def density_occupancy(field: FieldReader, threshold: float) -> Occupancy:
    """``occupied(points)`` from the field: density above ``threshold`` (1/m)."""

    def occupied(points: np.ndarray) -> np.ndarray:
        return field.density(points) > threshold

    return occupied


def object_surface(result: QueryResult, peak, cluster_distance: float, tolerance: float):
    """A peak's object points without the support surface it rests on, and that surface's
    height (None when it rests on nothing)."""
    points = result.points
    members = segment_object(
        points,
        result.relevancy,
        peak.indices,
        result.request.min_relevancy,
        peak.relevancy,
        cluster_distance,
    )
    others = np.ones(len(points), dtype=bool)
    others[members] = False
    cluster = points[members]
    support = support_height(cluster, points[others], tolerance)
    if support is not None:
        above = cluster[:, 2] > support + 0.5 * tolerance
        if above.sum() >= 10:
            cluster = cluster[above]
    return cluster, support


def compute_targets(
    field: FieldReader,
    text: str,
    negatives: list[str] | tuple[str, ...] = (),
    max_results: int = 0,
    config: TargetConfig | None = None,
    occupied: Occupancy | None = None,
    base_z: float | None = None,
) -> TargetAnswer:
    """Grasp poses and navigation goals (each best first) for ``text`` ("object" or
    "object;part"; for a part, grasps go to the part and goals to the object).

    ``occupied`` defaults to the field's density above ``config.occupied_density``.
    ``base_z``: height of the robot's base frame in the field's frame (the node looks it up on
    TF); the floor when ``config.navigation.ground_height`` is NaN, else estimated from the
    field (:mod:`lerf_ros.targets.ground`).
    """
    config = config or TargetConfig.default()
    object_text, part_text = split_part_query(text)
    result = field.query(object_text, list(negatives), max_results=max_results or None)
    answer = TargetAnswer(result)
    if not result.peaks:
        answer.message = result.summary()
        return answer
    occupied = occupied or density_occupancy(field, config.occupied_density)
    distance = field.query_config.cluster_distance
    tolerance = config.grasp.support_tolerance
    grasp_sets = [(result, peak) for peak in result.peaks]
    if part_text:
        part = field.query(part_text, list(negatives), max_results=max_results or None)
        object_points, _ = object_surface(result, result.peaks[0], distance, tolerance)
        peaks = part_peaks(
            part.points,
            part.relevancy,
            object_points,
            part.request.min_relevancy,
            part.selected_scale,
            distance,
            config.part_margin,
            part.request.max_results,
        )
        if not peaks:
            answer.message = f"no {part_text!r} found on {object_text!r}"
            return answer
        answer.result = replace(part, peaks=peaks)
        grasp_sets = [(answer.result, peak) for peak in peaks]

    # Targets of the best peak come first (each peak's by score): a well-shaped grasp or goal
    # of a less relevant cluster must not outrank the object that was asked for.
    for index, (query, peak) in enumerate(grasp_sets):
        cluster, support = object_surface(query, peak, distance, tolerance)
        grasps = plan_grasps(
            cluster, peak.relevancy, occupied, config.grasp, resting=support is not None
        )
        answer.grasps += [replace(grasp, peak=index) for grasp in grasps]
    views = field.depth_views()
    cameras = np.array([view.c2w[:3, 3] for view in views]).reshape(-1, 3)
    answer.ground = estimate_ground(result.points, cameras, config.navigation.ground_height, base_z)
    answer.ground_z = answer.ground.z
    if not answer.ground.known:
        answer.message = (
            f"{len(answer.grasps)} grasp(s), no navigation goal for {text!r}"
            f" ({no_floor_hint(answer.ground)})"
        )
        return answer

    def observed(points: np.ndarray) -> np.ndarray:
        return count_views(points, views) >= 1

    def blocked(points: np.ndarray) -> np.ndarray:
        # Dense and never seen through: a keyframe that looked past a point found it empty,
        # whatever soft density (fog near the cameras) the field still holds there.
        return occupied(points) & (count_free_views(points, views) == 0)

    for index, peak in enumerate(result.peaks):
        cluster, _ = object_surface(result, peak, distance, tolerance)
        goals = plan_navigation(
            cluster,
            peak.relevancy,
            cameras,
            answer.ground_z,
            blocked,
            observed,
            config.navigation,
        )
        answer.goals += [replace(goal, peak=index) for goal in goals]
    answer.goals = answer.goals[: config.navigation.max_goals]
    answer.message = (
        f"{len(answer.grasps)} grasp(s), {len(answer.goals)} navigation goal(s) for {text!r}"
        f" (ground z = {answer.ground_z:.2f}: {answer.ground.reason})"
    )
    return answer
