"""A query's answer in 3D, as PNGs: the scene's surface points in their RGB colour, the relevant
points in viridis (fixed 0.5-1.0 range, colour bar), the peaks labelled with the query and their
score, the best grasp's gripper and the best navigation goal's arrow, from a few viewpoints.

Headless: figures are ``matplotlib.figure.Figure`` on the Agg canvas (no pyplot, no display).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps, patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from lerf_ros.cameras.conventions import quaternion_to_matrix
from lerf_ros.query.heatmap import RANGE
from lerf_ros.targets.grasps import gripper_segments
from lerf_ros.visualize import slug
from lerf_ros.visualize.answer import Answer3D
from lerf_ros.visualize.labels import RING_SIZES, place_labels
from lerf_ros.visualize.views import VIEWPOINTS, Viewpoint, closeup_azimuth, view_region

CMAP = "viridis"
"""Perceptually uniform colour map of relevancy (as the PNG heat maps)."""
GRIPPER_COLOUR = "#ff7f0e"
GOAL_COLOUR = "#00d5ff"
OUTLINE = [patheffects.withStroke(linewidth=5.5, foreground="black")]
LABEL_OUTLINE = [patheffects.withStroke(linewidth=3, foreground="white")]
FIGSIZE = (9.0, 7.5)
"""Inches; at :data:`DPI` a snapshot PNG is 900 x 750 pixels."""
DPI = 100
BACKGROUND_SATURATION = 0.5
"""Saturation kept in the surface points' RGB (1: as rendered)."""
MAX_BACKGROUND_POINTS = 40000
"""More surface points than this are subsampled (drawing time grows with the count)."""


# ----------------------------------------------------------------------------- colours
def relevancy_colours(relevancy: np.ndarray) -> np.ndarray:
    """[N, 3] viridis of relevancy on the fixed :data:`~lerf_ros.query.heatmap.RANGE`."""
    norm = Normalize(*RANGE, clip=True)
    return colormaps[CMAP](norm(np.asarray(relevancy, dtype=np.float64)))[:, :3]


def point_colours(answer: Answer3D) -> tuple[np.ndarray, np.ndarray]:
    """Per-point colour and marker size: RGB for the scene, viridis where relevant."""
    relevant = answer.relevancy > RANGE[0]
    rgb = np.clip(np.asarray(answer.colors, dtype=np.float64), 0.0, 1.0)
    # Half-saturated, so a yellow object is not mistaken for relevancy's yellow.
    grey = rgb.mean(axis=1, keepdims=True)
    colours = (1.0 - BACKGROUND_SATURATION) * grey + BACKGROUND_SATURATION * rgb
    colours[relevant] = relevancy_colours(answer.relevancy[relevant])
    sizes = np.where(relevant, 4.0, 2.0)
    return colours, sizes


# ----------------------------------------------------------------------------- geometry
def _rotation(quaternion) -> np.ndarray:
    return quaternion_to_matrix(*np.asarray(quaternion, dtype=np.float64))


def goal_heading(goal) -> np.ndarray:
    """Unit direction the goal pose faces (its +x)."""
    return _rotation(goal.quaternion)[:, 0]


# ----------------------------------------------------------------------------- drawing
def snapshot_figure(answer: Answer3D, viewpoint: str | Viewpoint = "oblique") -> Figure:
    """The answer drawn from ``viewpoint`` (a name in :data:`VIEWPOINTS` or a Viewpoint)."""
    view = VIEWPOINTS[viewpoint] if isinstance(viewpoint, str) else viewpoint
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.03, 0.84, 0.84), projection="3d", computed_zorder=False)
    best = answer.peaks[0] if answer.peaks else None

    points, relevancy = answer.points, answer.relevancy
    colours, sizes = point_colours(answer)
    low, high = view_region(answer, view)
    centre = np.asarray(best.position, dtype=np.float64) if best is not None else (low + high) / 2
    # Marker area grows as the region shrinks, so surfaces stay closed in every view.
    marker_scale = float(np.clip(2.2 / max(np.max(high - low), 1e-3), 1.0, 8.0)) ** 2 * 1.6
    index = np.flatnonzero(np.all((points >= low) & (points <= high), axis=1))
    if len(index) > MAX_BACKGROUND_POINTS:  # subsample the surface, never a relevant point
        relevant = index[relevancy[index] > RANGE[0]]
        rest = index[relevancy[index] <= RANGE[0]]
        count = max(0, MAX_BACKGROUND_POINTS - len(relevant))
        rest = np.random.default_rng(0).choice(rest, min(count, len(rest)), replace=False)
        index = np.sort(np.concatenate([relevant, rest]))
    # One collection, so mplot3d's depth sort keeps the near side of every object in front.
    ax.scatter(
        points[index, 0],
        points[index, 1],
        points[index, 2],
        c=colours[index],
        s=sizes[index] * marker_scale,
        marker="o",
        linewidths=0,
        depthshade=False,
        zorder=1,
    )

    azim = view.azim
    if azim is None:
        azim = closeup_azimuth(answer, centre, VIEWPOINTS["oblique"].azim)
    ax.view_init(elev=view.elev, azim=azim)
    ax.set_proj_type("ortho")
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_zlim(low[2], high[2])
    ax.set_box_aspect(high - low, zoom=1.05 if view.elev < 80 else 1.25)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    if view.elev >= 80:  # looking down the z axis: its ticks would pile up in the middle
        ax.set_zticks([])
    else:
        ax.set_zlabel("z (m)")
    ax.tick_params(labelsize=8)

    def within(position) -> bool:
        position = np.asarray(position, dtype=np.float64)
        return bool(np.all(position >= low - 1e-6) and np.all(position <= high + 1e-6))

    handles = [
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            mfc="#b08a64",
            mec="none",
            label="surface (RGB, half saturated)",
        ),
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            mfc=colormaps[CMAP](0.85),
            mec="none",
            label="relevancy > 0.5 (colour bar)",
        ),
    ]
    # Navigation goal (best): an arrow on the ground facing the target.
    goals = [g for g in answer.goals[:1] if within(g.position)]
    for goal in goals:
        start = np.asarray(goal.position, dtype=np.float64)
        heading = goal_heading(goal)
        length = 0.12 if view.closeup else 0.3
        end = start + heading * length
        ax.plot(
            *np.column_stack([start, end]),
            color=GOAL_COLOUR,
            lw=3.5,
            zorder=5,
            path_effects=OUTLINE,
            solid_capstyle="round",
        )
        ax.scatter(*start, s=70, c=GOAL_COLOUR, edgecolors="black", linewidths=1.5, zorder=6)
        # Arrow head: two short strokes back from the tip.
        side = np.cross(heading, [0.0, 0.0, 1.0])
        for sign in (1.0, -1.0):
            barb = end - heading * 0.35 * length + side * sign * 0.2 * length
            ax.plot(
                *np.column_stack([end, barb]),
                color=GOAL_COLOUR,
                lw=3.5,
                zorder=5,
                path_effects=OUTLINE,
                solid_capstyle="round",
            )
        handles.append(
            Line2D(
                [],
                [],
                color=GOAL_COLOUR,
                lw=3,
                marker="o",
                mec="black",
                label=f"navigation goal {goal.score:.2f} (arrow: heading, facing the target)",
            )
        )
    # Grasps: the best one bold, up to two more thin.
    grasps = [g for g in answer.grasps[:3] if within(g.position)]
    for rank, grasp in enumerate(grasps):
        for segment in gripper_segments(grasp):
            ax.plot(
                *segment.T,
                color=GRIPPER_COLOUR,
                lw=3.5 if rank == 0 else 1.5,
                alpha=1.0 if rank == 0 else 0.6,
                zorder=7 if rank == 0 else 4,
                path_effects=OUTLINE if rank == 0 else None,
                solid_capstyle="round",
            )
    if grasps:
        handles.append(
            Line2D(
                [],
                [],
                color=GRIPPER_COLOUR,
                lw=3,
                label=f"grasp {grasps[0].score:.2f} (gripper: approach +x, fingers close +y)",
            )
        )

    # The view is final: fix the projection (aspect, layout) before placing 2D labels on it.
    fig.canvas.draw()
    shown = [(i, p) for i, p in enumerate(answer.peaks[:5]) if within(p.position)]
    labels = []
    for rank, peak in shown:
        position = np.asarray(peak.position, dtype=np.float64)
        best_one = rank == 0
        ax.scatter(
            *position,
            s=RING_SIZES[best_one] ** 2,
            facecolors="none",
            edgecolors="white",
            linewidths=2.2,
            depthshade=False,
            zorder=8,
            path_effects=[patheffects.withStroke(linewidth=4.5, foreground="black")],
        )
        text = (
            f"#{rank + 1} {answer.text}: {peak.relevancy:.2f}"
            if best_one
            else (f"#{rank + 1}: {peak.relevancy:.2f}")
        )
        labels.append((position, text, best_one))
    if shown:
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="o",
                ms=10,
                mfc="none",
                mec="black",
                mew=2,
                label="peak #rank: relevancy (#1 = best)",
            )
        )
    ax.legend(handles=handles, loc="upper left", fontsize=9, framealpha=0.9)
    obstacles = [gripper_segments(g).reshape(-1, 3) for g in grasps[:1]]
    if shown and shown[0][0] == 0:  # keep the best peak's object itself visible
        best_box = np.asarray(best.position) + np.asarray(
            [[sx, sy, sz] for sx in (-0.5, 0.5) for sy in (-0.5, 0.5) for sz in (-0.5, 0.5)]
        ) * np.asarray(getattr(best, "extent", np.zeros(3)))
        obstacles.append(best_box)
    obstacles += [
        np.array([g.position, np.asarray(g.position) + goal_heading(g) * 0.3]) for g in goals
    ]
    place_labels(fig, ax, labels, obstacles)

    colourbar = fig.colorbar(
        _mappable(), ax=ax, cax=fig.add_axes((0.87, 0.18, 0.025, 0.55)), extend="min"
    )
    colourbar.set_label("relevancy (fixed range 0.5 - 1.0)", fontsize=10)

    fig.suptitle(f'"{answer.text}"', fontsize=17, fontweight="bold", y=0.975)
    fig.text(0.5, 0.915, _subtitle(answer, view), ha="center", fontsize=10)
    return fig


def _mappable():
    from matplotlib.cm import ScalarMappable

    return ScalarMappable(norm=Normalize(*RANGE), cmap=colormaps[CMAP])


def _subtitle(answer: Answer3D, view: Viewpoint) -> str:
    frame = f" in frame '{answer.frame_id}'" if answer.frame_id else ""
    if answer.peaks:
        x, y, z = (float(v) for v in answer.peaks[0].position)
        best = f"best peak ({x:+.2f}, {y:+.2f}, {z:+.2f}) m{frame}, {answer.peaks[0].relevancy:.2f}"
    else:
        best = f"no peak above relevancy {answer.min_relevancy:.2f}"
    scale = f", scale {answer.selected_scale:.2f} m" if np.isfinite(answer.selected_scale) else ""
    return f"{view.title} view: {best}{scale}"


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as a PNG of exactly its size (no tight bounding box)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=fig.dpi, facecolor="white")
    return path


def save_snapshots(
    answer: Answer3D,
    out_dir: str | Path,
    stem: str | None = None,
    viewpoints: Sequence[str] = ("top", "oblique", "closeup"),
) -> list[Path]:
    """``<stem>_snapshot_<viewpoint>.png`` in ``out_dir`` for each viewpoint (the close-up
    only when there is a peak)."""
    stem = stem or slug(answer.text)
    paths = []
    for name in viewpoints:
        if VIEWPOINTS[name].closeup and not answer.peaks:
            continue
        fig = snapshot_figure(answer, name)
        paths.append(save_figure(fig, Path(out_dir) / f"{stem}_snapshot_{name}.png"))
    return paths
