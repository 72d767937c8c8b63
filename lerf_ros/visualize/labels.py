"""Text labels on a drawn 3D axes: projecting 3D points to the figure's pixels and placing each
label where it hides no other label, ring, gripper, goal arrow or legend."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from mpl_toolkits.mplot3d import proj3d


def project(ax, points: np.ndarray) -> np.ndarray:
    """[N, 2] display coordinates (pixels from the bottom left of the figure canvas) of 3D
    points on a drawn 3D axes. In the PNG that :func:`save_figure` writes, a point is at
    column ``x`` and row ``height - y``."""
    points = np.atleast_2d(np.asarray(points, dtype=np.float64))
    x, y, _ = proj3d.proj_transform(points[:, 0], points[:, 1], points[:, 2], ax.get_proj())
    return ax.transData.transform(np.column_stack([x, y]))


RING_SIZES = {True: 26.0, False: 16.0}
"""Diameter (points) of the ring around the best peak (True) and the others."""
LABEL_OFFSETS = [
    (0, 48), (48, 36), (-48, 36), (62, 0), (-62, 0), (48, -36), (-48, -36), (0, -48),
    (0, 80), (80, 60), (-80, 60), (80, -60), (-80, -60), (0, -80),
]  # fmt: skip
"""Label offsets (points) tried in turn until one overlaps nothing placed before."""


def place_labels(
    fig: Figure,
    ax,
    labels: list[tuple[np.ndarray, str, bool]],
    obstacles: Sequence[np.ndarray] = (),
) -> list:
    """Annotate 3D ``labels`` (position, text, is the best peak) on a drawn ``ax``: each label
    at the first offset of :data:`LABEL_OFFSETS` where it overlaps neither an earlier label,
    a peak's ring, an obstacle (3D points whose projected bounding box is kept free: the
    gripper, the goal arrow), the legend nor the figure's edge; a leader line to its point."""
    renderer = fig.canvas.get_renderer()
    figure_box = fig.bbox
    anchors = project(ax, np.array([p for p, _, _ in labels])) if labels else np.zeros((0, 2))
    taken = []
    for (x, y), (_, _, best) in zip(anchors, labels, strict=True):
        half = 0.5 * RING_SIZES[best] * fig.dpi / 72.0 + 2
        taken.append(Bbox.from_extents(x - half, y - half, x + half, y + half))
    for obstacle in obstacles:
        corners = project(ax, obstacle)
        taken.append(Bbox.from_extents(*corners.min(axis=0), *corners.max(axis=0)).padded(3))
    legend = ax.get_legend()
    if legend is not None:
        taken.append(legend.get_window_extent(renderer))
    placed = []
    rings = list(taken[: len(labels)])
    for (position, text, best), ring, anchor in zip(labels, rings, anchors, strict=True):
        x, y, _ = proj3d.proj_transform(*position, ax.get_proj())
        annotation = None
        for offset in LABEL_OFFSETS:
            if annotation is not None:
                annotation.remove()
            annotation = ax.annotate(
                text,
                xy=(x, y),
                xytext=offset,
                textcoords="offset points",
                ha="center",
                va="center",
                fontsize=12 if best else 10,
                fontweight="bold" if best else "normal",
                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "black", "alpha": 0.9},
                arrowprops={
                    "arrowstyle": "-",
                    "color": "black",
                    "lw": 1.2,
                    "shrinkB": 0.5 * RING_SIZES[best],
                },
                zorder=9,
            )
            # The text's size; its centre is the anchor moved by the offset (ha/va centre).
            size = Text.get_window_extent(annotation, renderer)
            cx, cy = anchor + np.asarray(offset) * fig.dpi / 72.0
            box = Bbox.from_extents(
                cx - size.width / 2, cy - size.height / 2, cx + size.width / 2, cy + size.height / 2
            ).padded(6)
            others = [b for b in taken if b is not ring]
            if (
                figure_box.contains(box.x0, box.y0)
                and figure_box.contains(box.x1, box.y1)
                and (not any(box.overlaps(b) for b in others))
            ):
                break
        taken.append(box)
        placed.append(annotation)
    return placed
