"""Every picture of a query from a trained engine: the 3D snapshots and the side-by-side view
(used by ``lerf-ros snapshot`` and ``lerf-ros demo``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lerf_ros.query.reader import FieldReader
from lerf_ros.visualize import slug
from lerf_ros.visualize.answer import Answer3D, answer_from_engine
from lerf_ros.visualize.side_by_side import render_side_by_side
from lerf_ros.visualize.snapshot import save_figure, save_snapshots


def query_pictures(
    reader: FieldReader,
    text: str,
    out_dir: str | Path,
    negatives: Sequence[str] = (),
    max_results: int | None = None,
    keyframe: int | None = None,
    viewpoints: Sequence[str] = ("top", "oblique", "closeup"),
    target_config=None,
) -> tuple[Answer3D, list[Path]]:
    """Ask ``reader`` (a trained field, e.g. an engine) for ``text`` (with grasps and
    navigation goals) and write ``<slug>_snapshot_<viewpoint>.png`` and
    ``<slug>_side_by_side.png`` into ``out_dir``."""
    answer = answer_from_engine(reader, text, negatives, max_results, target_config=target_config)
    stem = slug(text)
    paths = save_snapshots(answer, out_dir, stem, viewpoints)
    fig, _, _ = render_side_by_side(reader, answer, keyframe, negatives)
    paths.append(save_figure(fig, Path(out_dir) / f"{stem}_side_by_side.png"))
    return answer, paths
