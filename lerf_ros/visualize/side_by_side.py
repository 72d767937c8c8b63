"""One keyframe's view of a query, three panels side by side: the field's RGB render | the
relevancy heat map over it (viridis, fixed 0.5-1.0 range) | the rendered depth.

The view is the keyframe that looks most directly at the query's best peak (or one given).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps, patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from mpl_toolkits.axes_grid1 import make_axes_locatable

from lerf_ros.query.candidates import project
from lerf_ros.query.heatmap import RANGE, overlay
from lerf_ros.query.reader import FieldReader
from lerf_ros.visualize import slug
from lerf_ros.visualize.snapshot import CMAP, save_figure

FIGSIZE = (15.0, 4.6)
"""Inches; at 100 dpi a side-by-side PNG is 1500 x 460 pixels."""
DPI = 100
MIN_ACCUMULATION = 0.5
"""Pixels whose rendered opacity is below this show no depth (empty space)."""


def best_view(frames: Sequence, position: np.ndarray, margin: float = 0.1) -> int:
    """Index of the keyframe that sees ``position`` most head-on: inside the image (away from
    its border by ``margin`` of its size), in front of the camera, with the smallest angle
    between the optical axis and the ray to it. The last keyframe when none sees it."""
    best, best_cos = len(frames) - 1, -np.inf
    point = np.asarray(position, dtype=np.float64).reshape(1, 3)
    for index, frame in enumerate(frames):
        intr = frame.intrinsics
        c2w = np.asarray(frame.c2w, dtype=np.float64)
        u, v, z = project(point, intr, c2w)
        inside = (
            z[0] > 1e-3
            and margin * intr.width <= u[0] <= (1 - margin) * intr.width
            and margin * intr.height <= v[0] <= (1 - margin) * intr.height
        )
        if not inside:
            continue
        ray = point[0] - c2w[:3, 3]
        cos = float(ray @ c2w[:3, 2] / max(np.linalg.norm(ray), 1e-9))
        if cos > best_cos:
            best, best_cos = index, cos
    return best


def side_by_side_figure(
    view: dict[str, np.ndarray],
    text: str,
    title: str = "",
    marks: Sequence[tuple[float, float, str]] = (),
) -> Figure:
    """Three panels from ``view`` (``rgb`` [H,W,3] in [0,1], ``relevancy`` [H,W], ``depth``
    [H,W], optional ``accumulation`` [H,W]); ``marks`` are (column, row, label) rings drawn on
    every panel (the peaks, projected)."""
    rgb = np.clip(np.asarray(view["rgb"], dtype=np.float32), 0.0, 1.0)
    relevancy = np.asarray(view["relevancy"], dtype=np.float32)
    depth = np.asarray(view["depth"], dtype=np.float32).copy()
    if "accumulation" in view:
        depth[np.asarray(view["accumulation"]) < MIN_ACCUMULATION] = np.nan
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(
        1,
        3,
        gridspec_kw={"wspace": 0.22, "left": 0.015, "right": 0.955, "top": 0.83, "bottom": 0.02},
    )
    # Every panel gets a colour-bar slot (the RGB one stays empty) so the images match in size.
    bars = [make_axes_locatable(ax).append_axes("right", size="5%", pad=0.06) for ax in axes]
    bars[0].set_axis_off()
    axes[0].imshow(rgb, interpolation="nearest")
    axes[0].set_title("RGB render", fontsize=12)
    axes[1].imshow(overlay(rgb, relevancy), interpolation="nearest")
    axes[1].set_title("relevancy over the render (grey: below 0.5)", fontsize=12)
    colourbar = fig.colorbar(
        ScalarMappable(norm=Normalize(*RANGE), cmap=colormaps[CMAP]), cax=bars[1], extend="min"
    )
    colourbar.set_label("relevancy", fontsize=10)
    finite = depth[np.isfinite(depth)]
    depth_range = np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0)
    depth_map = colormaps["magma"].with_extremes(bad="white")
    shown = axes[2].imshow(
        np.ma.masked_invalid(depth),
        cmap=depth_map,
        vmin=float(depth_range[0]),
        vmax=float(max(depth_range[1], depth_range[0] + 1e-3)),
        interpolation="nearest",
    )
    axes[2].set_title("depth (white: empty)", fontsize=12)
    depth_bar = fig.colorbar(shown, cax=bars[2])
    depth_bar.set_label("depth along the optical axis (m)", fontsize=10)
    height, width = relevancy.shape
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
        for column, row, label in marks:
            if not (0 <= column < width and 0 <= row < height):
                continue
            ax.scatter(
                [column],
                [row],
                s=420,
                facecolors="none",
                edgecolors="white",
                linewidths=2.0,
                path_effects=[patheffects.withStroke(linewidth=4, foreground="black")],
            )
            ax.annotate(
                label,
                xy=(column, row),
                xytext=(0, 24),
                textcoords="offset points",
                ha="center",
                fontsize=10,
                fontweight="bold",
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "black", "alpha": 0.85},
            )
    fig.suptitle(f'"{text}"', fontsize=16, fontweight="bold", y=0.985)
    if title:
        fig.text(0.5, 0.875, title, ha="center", fontsize=10)
    return fig


def render_side_by_side(
    reader: FieldReader,
    answer,
    keyframe: int | None = None,
    negatives: Sequence[str] = (),
    width: int | None = None,
) -> tuple[Figure, int, dict[str, np.ndarray]]:
    """Render ``answer`` (an :class:`~lerf_ros.visualize.answer.Answer3D`) from a keyframe of
    ``reader`` (the best view of its best peak by default): (figure, keyframe index, view)."""
    frames = reader.keyframe_views()
    chosen = keyframe is None
    if keyframe is None:
        keyframe = best_view(frames, answer.peaks[0].position) if answer.peaks else -1
    if not -len(frames) <= keyframe < len(frames):
        raise ValueError(f"view {keyframe} out of range ({len(frames)} keyframes)")
    keyframe %= len(frames)
    scale = answer.selected_scale if np.isfinite(answer.selected_scale) else None
    view = reader.relevancy_view(answer.text, keyframe, scale, list(negatives), width=width)
    frame = frames[keyframe]
    view_width = view["relevancy"].shape[1]
    intr = frame.intrinsics.scaled(view_width / frame.intrinsics.width)
    marks = []
    if answer.peaks:  # the best peak only: the 3D snapshots show the others
        best = answer.peaks[0]
        position = np.asarray(best.position, dtype=np.float64).reshape(1, 3)
        u, v, z = project(position, intr, np.asarray(frame.c2w, dtype=np.float64))
        if z[0] > 0:  # imshow puts pixel centres at integers, the camera model at +0.5
            marks = [(float(u[0] - 0.5), float(v[0] - 0.5), f"#1 {best.relevancy:.2f}")]
    why = " (the one that sees the best peak most head-on)" if chosen and answer.peaks else ""
    scale_text = f", relevancy at scale {scale:.2f} m" if scale is not None else ""
    title = f"keyframe {keyframe} of {len(frames)}{why}{scale_text}"
    return side_by_side_figure(view, answer.text, title, marks), keyframe, view


def save_side_by_side(
    reader: FieldReader,
    answer,
    out_dir: str | Path,
    stem: str | None = None,
    keyframe: int | None = None,
    negatives: Sequence[str] = (),
) -> Path:
    """``<stem>_side_by_side.png`` in ``out_dir``."""
    fig, _, _ = render_side_by_side(reader, answer, keyframe, negatives)
    return save_figure(fig, Path(out_dir) / f"{stem or slug(answer.text)}_side_by_side.png")
