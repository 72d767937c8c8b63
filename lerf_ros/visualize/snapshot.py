"""A query's answer in 3D, as PNGs: the scene's surface points in their RGB colour, the relevant
points in viridis (fixed 0.5-1.0 range, colour bar), the peaks labelled with the query and their
score, the best grasp's gripper and the best navigation goal's arrow, from a few viewpoints.

Headless: figures are ``matplotlib.figure.Figure`` on the Agg canvas (no pyplot, no display).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib import colormaps, patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from mpl_toolkits.mplot3d import proj3d

from lerf_ros.cameras.conventions import quaternion_to_matrix
from lerf_ros.query.heatmap import RANGE
from lerf_ros.targets.grasps import gripper_segments
from lerf_ros.visualize import slug

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


@dataclass(frozen=True)
class Viewpoint:
    """Where a snapshot looks from."""

    name: str
    """``scene`` (whole scene), ``answer`` (the answer and its surroundings) or ``closeup``."""
    title: str
    elev: float
    """Degrees above the horizon (90: straight down)."""
    azim: float | None
    """Degrees from +x towards +y of the viewer's direction; None: from where the cameras
    saw the best peak."""

    @property
    def closeup(self) -> bool:
        return self.name == "closeup"


VIEWPOINTS: dict[str, Viewpoint] = {
    "top": Viewpoint("scene", "top-down", 90.0, -90.0),
    "oblique": Viewpoint("answer", "oblique", 45.0, -60.0),
    "closeup": Viewpoint("closeup", "close-up", 30.0, None),
}


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
    engine,
    text: str,
    negatives: Sequence[str] = (),
    max_results: int | None = None,
    targets: bool = True,
    target_config=None,
) -> Answer3D:
    """Ask ``engine`` (a trained :class:`~lerf_ros.engine.LerfEngine`) for ``text``: peaks,
    and, with ``targets``, grasps and navigation goals as ``~/get_targets`` computes them
    (``target_config``: a :class:`~lerf_ros.targets.config.TargetConfig`, default settings
    when None)."""
    grasps, goals, message, result = [], [], "", None
    if targets:
        from lerf_ros.engine import NotReadyError, QueryError
        from lerf_ros.targets.service import compute_targets

        try:
            answer = compute_targets(
                engine, text, list(negatives), max_results or 0, config=target_config
            )
            result, grasps, goals = answer.result, answer.grasps, answer.goals
            message = answer.message
        except (QueryError, NotReadyError):
            raise
        except Exception as error:  # still picture the query; say why targets are missing
            message = f"no targets: {type(error).__name__}: {error}"
    if result is None:
        result = engine.query(text, list(negatives), max_results=max_results)
    cameras = np.array([frame.c2w[:3, 3] for frame in engine.keyframes.snapshot()])
    return Answer3D(
        text=result.request.text,
        points=np.asarray(result.points, dtype=np.float32),
        colors=np.asarray(result.colors, dtype=np.float32),
        relevancy=np.asarray(result.relevancy, dtype=np.float32),
        peaks=list(result.peaks),
        grasps=list(grasps),
        goals=list(goals),
        cameras=cameras.reshape(-1, 3),
        frame_id=str(engine.frame_id),
        selected_scale=float(result.selected_scale),
        min_relevancy=float(result.request.min_relevancy),
        message=message,
    )


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


def _robust_bounds(points: np.ndarray, pad: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    if len(points) == 0:
        return np.full(3, -1.0), np.full(3, 1.0)
    low, high = np.percentile(points, [0.5, 99.5], axis=0)
    return low - pad, high + pad


def view_region(answer: Answer3D, view: Viewpoint) -> tuple[np.ndarray, np.ndarray]:
    """The box a viewpoint shows: the whole scene (robust bounds of the surface points), the
    answer (the best peak, the other peaks near it, the best grasp and goal, with a margin) or
    a close-up of the best peak."""
    scene_low, scene_high = _robust_bounds(answer.points)
    near = [np.asarray(p.position, dtype=np.float64) for p in answer.peaks[1:3]]
    near += [np.asarray(t.position, dtype=np.float64) for t in answer.goals[:1]]
    near += [np.asarray(t.position, dtype=np.float64) for t in answer.grasps[:1]]
    drawn = near + [np.asarray(p.position, dtype=np.float64) for p in answer.peaks[:1]]
    if drawn:  # the answer is always in the picture, even off the observed surface
        scene_low = np.minimum(scene_low, np.min(drawn, axis=0) - 0.1)
        scene_high = np.maximum(scene_high, np.max(drawn, axis=0) + 0.1)
    if not answer.peaks or view.name == "scene":
        return scene_low, scene_high
    best = answer.peaks[0]
    centre = np.asarray(best.position, dtype=np.float64)
    extent = np.asarray(getattr(best, "extent", np.full(3, 0.2)), dtype=np.float64)
    if view.closeup:
        half = float(np.clip(0.6 * np.max(extent[:2]) + 0.12, 0.18, 0.4))
        return centre - half, centre + half
    reach = [float(np.max(np.abs(p - centre)[:2])) for p in near]
    half = max([0.45, *(r + 0.15 for r in reach if r < 1.2)])
    low = np.maximum(centre - half, scene_low)
    high = np.minimum(centre + half, scene_high)
    # Height: what the surface has in that footprint (and the answer's own heights).
    column = np.all((answer.points[:, :2] >= low[:2]) & (answer.points[:, :2] <= high[:2]), 1)
    heights = [answer.points[column, 2]] if column.any() else []
    heights.append(np.array([centre[2], *(p[2] for p in near)]))
    z = np.concatenate(heights)
    z_low, z_high = np.percentile(z, [1.0, 99.0]) if len(z) > 1 else (z[0] - 0.5, z[0] + 0.5)
    answer_z = [centre[2], *(p[2] for p in near)]
    low[2], high[2] = min(z_low, *answer_z) - 0.05, max(z_high, *answer_z) + 0.05
    return low, high


def _closeup_azimuth(answer: Answer3D, centre: np.ndarray, default: float) -> float:
    """Azimuth (degrees) of the side the cameras saw ``centre`` from (the mean horizontal
    direction from it to them), or ``default`` when they stood all around it."""
    if len(answer.cameras) == 0:
        return default
    directions = answer.cameras[:, :2] - centre[:2]
    norms = np.linalg.norm(directions, axis=1, keepdims=True)
    mean = (directions / np.maximum(norms, 1e-9)).mean(axis=0)
    if np.linalg.norm(mean) < 0.2:  # cameras all around (an orbit): any side was seen
        return default
    return float(np.degrees(np.arctan2(mean[1], mean[0])))


# ----------------------------------------------------------------------------- drawing
def project(ax, points: np.ndarray) -> np.ndarray:
    """[N, 2] display coordinates (pixels from the bottom left of the figure canvas) of 3D
    points on a drawn 3D axes. In the PNG that :func:`save_figure` writes, a point is at
    column ``x`` and row ``height - y``."""
    points = np.atleast_2d(np.asarray(points, dtype=np.float64))
    x, y, _ = proj3d.proj_transform(points[:, 0], points[:, 1], points[:, 2], ax.get_proj())
    return ax.transData.transform(np.column_stack([x, y]))


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
        azim = _closeup_azimuth(answer, centre, VIEWPOINTS["oblique"].azim)
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
