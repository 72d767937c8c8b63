"""What a picture of a query shows, as plain data (:class:`Answer3D`), and how it is read from a
trained field through :class:`~lerf_ros.query.reader.FieldReader`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from lerf_ros.errors import NotReadyError, QueryError
from lerf_ros.query.reader import FieldReader


@dataclass
class Answer3D:
    """Everything a snapshot draws, in the query's frame (z up)."""

    text: str
    points: np.ndarray
    """[N, 3] surface points."""
    colors: np.ndarray
    """[N, 3] their rendered RGB in [0, 1]."""
    relevancy: np.ndarray
    """[N] relevancy of each point at the selected scale."""
    peaks: list = field(default_factory=list)
    """Peaks, best first (``position``, ``relevancy``, ``extent``)."""
    grasps: list = field(default_factory=list)
    """Grasps, best first (``position``, ``quaternion`` (x, y, z, w), ``score``; optional
    ``width``). Convention: approach along the pose's +x, fingers close along +y."""
    goals: list = field(default_factory=list)
    """Navigation goals, best first (``position``, ``quaternion``, ``score``): +x faces the
    target."""
    cameras: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    """[K, 3] keyframe camera positions (to look at the best peak from where it was seen)."""
    frame_id: str = ""
    selected_scale: float = float("nan")
    min_relevancy: float = float("nan")
    message: str = ""


def answer_from_engine(
    reader: FieldReader,
    text: str,
    negatives: Sequence[str] = (),
    max_results: int | None = None,
    targets: bool = True,
    target_config=None,
) -> Answer3D:
    """Ask ``reader`` (a trained field, e.g. a :class:`~lerf_ros.engine.LerfEngine`) for ``text``:
    peaks,
    and, with ``targets``, grasps and navigation goals as ``~/get_targets`` computes them
    (``target_config``: a :class:`~lerf_ros.targets.config.TargetConfig`, default settings
    when None)."""
    grasps, goals, message, result = [], [], "", None
    if targets:
        from lerf_ros.targets.service import compute_targets

        try:
            answer = compute_targets(
                reader, text, list(negatives), max_results or 0, config=target_config
            )
            result, grasps, goals = answer.result, answer.grasps, answer.goals
            message = answer.message
        except (QueryError, NotReadyError):
            raise
        except Exception as error:  # still picture the query; say why targets are missing
            message = f"no targets: {type(error).__name__}: {error}"
    if result is None:
        result = reader.query(text, list(negatives), max_results=max_results)
    cameras = np.asarray(reader.camera_positions(), dtype=np.float64)
    return Answer3D(
        text=result.request.text,
        points=np.asarray(result.points, dtype=np.float32),
        colors=np.asarray(result.colors, dtype=np.float32),
        relevancy=np.asarray(result.relevancy, dtype=np.float32),
        peaks=list(result.peaks),
        grasps=list(grasps),
        goals=list(goals),
        cameras=cameras.reshape(-1, 3),
        frame_id=str(reader.frame_id),
        selected_scale=float(result.selected_scale),
        min_relevancy=float(result.request.min_relevancy),
        message=message,
    )
