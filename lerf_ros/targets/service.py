"""What ``~/get_targets`` computes: a query, then grasp poses and navigation goals per peak."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lerf_ros.query.query3d import QueryResult
from lerf_ros.targets.basic import Target, ground_height, navigation_goal, top_down_grasp


@dataclass
class TargetAnswer:
    result: QueryResult
    grasps: list[Target] = field(default_factory=list)
    goals: list[Target] = field(default_factory=list)
    message: str = ""


def compute_targets(
    engine,
    text: str,
    negatives: list[str],
    max_results: int,
    standoff: float,
    max_gripper_width: float,
    floor_z: float = float("nan"),
) -> TargetAnswer:
    """Grasp poses (best first) and navigation goals for ``text`` ("object" or "object;part").

    For "object;part" the part query is restricted to the object's best cluster. ``floor_z``
    is the floor's height in the query frame; NaN estimates it from the field's surface.
    """
    object_text, _, part_text = text.partition(";")
    result = engine.query(object_text, negatives, max_results=max_results)
    answer = TargetAnswer(result)
    if not result.peaks:
        answer.message = f"no peak for {object_text.strip()!r}"
        return answer
    grasp_peaks = result.peaks
    if part_text.strip():
        part = engine.query(part_text, negatives, max_results=max_results)
        region = result.peaks[0]
        low = region.position - region.extent / 2 - 0.05
        high = region.position + region.extent / 2 + 0.05
        grasp_peaks = [
            p for p in part.peaks if np.all(p.position >= low) & np.all(p.position <= high)
        ]
        if not grasp_peaks:
            answer.message = f"no {part_text.strip()!r} found on {object_text.strip()!r}"
            return answer
        result = part
        answer.result = part
    floor = floor_z if math.isfinite(floor_z) else ground_height(result.points)
    cameras = np.array([f.c2w[:3, 3] for f in engine.keyframes.snapshot()])
    for peak in grasp_peaks:
        grasp = top_down_grasp(result.points[peak.indices], peak.relevancy, max_gripper_width)
        if grasp is not None:
            answer.grasps.append(grasp)
        answer.goals.append(
            navigation_goal(peak.position, cameras, floor, standoff, peak.relevancy)
        )
    answer.grasps.sort(key=lambda t: t.score, reverse=True)
    answer.message = (
        f"{len(answer.grasps)} grasp(s), {len(answer.goals)} navigation goal(s) "
        f"for {text.strip()!r}"
    )
    return answer
