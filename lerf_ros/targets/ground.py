"""Where the floor is: the height a mobile base stands at (ROS-free, z up).

The floor is the lowest surface the robot can stand on, not the largest low plane: a table
top seen from an orbit holds ten times the floor's points. In order of trust:

1. ``ground_height`` when finite (the robot's map frame says where its floor is);
2. the height of the robot's base frame (REP-105 ``base_footprint``) in the fixed frame, when
   the caller could look it up (the node, from TF);
3. an estimate from the field's surface points: horizontal surfaces are spikes in the
   histogram of their heights (walls and the sides of furniture spread evenly over z); a floor
   lies below every keyframe camera (a robot's cameras ride above the floor it drives on) and
   was observed around the cameras' own ground positions; of those, the lowest.

When nothing qualifies the ground is unknown (NaN) and the reason says why: no navigation goal
is better than one on a table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

BIN = 0.02
"""Height histogram bin (m)."""
WINDOW = 3
"""Bins summed around each bin: a trained field's soft floor spreads over a few centimetres."""
MIN_PLANE_POINTS = 40
"""Fewest points in a horizontal surface's band (a floor the orbit barely saw held ~600)."""
SPIKE_RATIO = 3.0
"""A surface's band holds this many times the points of the bands 10-30 cm above and below it
(what a wall or a cupboard's side contributes to any band)."""
BACKGROUND_BINS = (5, 15)
"""Offsets (in bins) of the bands a spike is compared with."""
OUTLIER_MARGIN = 2.0
"""Heights further than this (m) beyond the 0.1-99.9 % range of the points are ignored."""
MAX_SPAN = 100.0
"""Heights further than this (m) from the median are ignored."""
CAMERA_CLEARANCE = 0.1
"""The floor lies at least this far (m) below every keyframe camera."""
UNDER_CAMERA = 0.4
"""A floor was observed within this distance (m, in x-y) of a camera's ground position: the
floor runs under the robot, while a table it looks at stands away from it (0.6 m and more from
the bundled orbit's cameras)."""
MIN_UNDER_POINTS = 5
"""Fewest points of the floor's band within ``UNDER_CAMERA`` of a camera that covers it."""
MIN_COVERED = 0.5
"""Share of keyframe cameras whose ground position a floor must cover (a robot's earlier
keyframes see where it drives next; the first few may not see the floor under them)."""


@dataclass
class Surface:
    """A horizontal surface found in the field's points."""

    z: float
    """Median height of its band (m)."""
    points: int
    """Points in its band."""
    covered: float = 0.0
    """Share of the cameras with one of its points within ``UNDER_CAMERA`` of their x-y."""


@dataclass
class Ground:
    """The floor's height and why it was chosen."""

    z: float
    """Height (m) in the fixed frame; NaN when unknown (then no navigation goals)."""
    source: str
    """``parameter`` | ``base_frame`` | ``field`` | ``unknown``."""
    reason: str
    """One line for the answer's message."""

    @property
    def known(self) -> bool:
        return math.isfinite(self.z)


def horizontal_surfaces(points: np.ndarray) -> list[Surface]:
    """Horizontal surfaces of ``points`` [N, 3] (spikes of the height histogram), lowest first."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    z = points[np.all(np.isfinite(points), axis=1), 2]
    if len(z) < MIN_PLANE_POINTS:
        return []
    # A few wild points (a bad depth reading at 1 km) must not make the histogram huge.
    low, high = np.percentile(z, [0.1, 99.9])
    z = z[(z >= low - OUTLIER_MARGIN) & (z <= high + OUTLIER_MARGIN)]
    z = z[np.abs(z - np.median(z)) <= MAX_SPAN]  # and many of them not either
    if len(z) < MIN_PLANE_POINTS:
        return []
    first = math.floor(z.min() / BIN) - BACKGROUND_BINS[1] - WINDOW
    edges = np.arange(first, math.ceil(z.max() / BIN) + BACKGROUND_BINS[1] + WINDOW + 2) * BIN
    counts = np.histogram(z, edges)[0]
    band = np.convolve(counts, np.ones(WINDOW), mode="same")
    far = np.arange(BACKGROUND_BINS[0], BACKGROUND_BINS[1] + 1)
    surfaces = []
    for i in range(BACKGROUND_BINS[1], len(band) - BACKGROUND_BINS[1]):
        if band[i] < MIN_PLANE_POINTS or band[i] < band[i - 1] or band[i] <= band[i + 1]:
            continue  # not a local maximum of the band counts (the last bin of a flat top)
        background = float(np.median(np.concatenate([band[i - far], band[i + far]])))
        if band[i] < SPIKE_RATIO * background:
            continue
        centre = 0.5 * (edges[i] + edges[i + 1])
        members = np.abs(z - centre) <= 0.5 * WINDOW * BIN
        surface = Surface(float(np.median(z[members])), int(members.sum()))
        if surfaces and surface.z - surfaces[-1].z <= WINDOW * BIN:
            # Two maxima of one surface (a flat top of the band counts): keep the fuller one.
            if surface.points > surfaces[-1].points:
                surfaces[-1] = surface
            continue
        surfaces.append(surface)
    return surfaces


def _covered(points: np.ndarray, surface: Surface, cameras: np.ndarray) -> float:
    """Share of ``cameras`` under which ``surface`` was seen: among the points within
    ``UNDER_CAMERA`` of a camera's x-y, its band is a spike (not the few points at every height
    that a soft field's fog or a wall leaves there)."""
    tree = cKDTree(points[:, :2])
    half = 0.5 * WINDOW * BIN
    covered = 0
    for near in tree.query_ball_point(cameras[:, :2], UNDER_CAMERA):
        offset = np.abs(points[near, 2] - surface.z)
        band = int(np.sum(offset <= half))
        low, high = BACKGROUND_BINS[0] * BIN, BACKGROUND_BINS[1] * BIN
        background = np.sum((offset >= low) & (offset <= high)) * 2 * half / (2 * (high - low))
        covered += band >= MIN_UNDER_POINTS and band >= SPIKE_RATIO * background
    return covered / len(cameras)


def field_ground(points: np.ndarray, cameras: np.ndarray) -> Ground:
    """The floor estimated from surface points ``[N, 3]`` and camera positions ``[K, 3]``
    (empty: no camera checks)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    points = points[np.all(np.isfinite(points), axis=1)]
    cameras = np.asarray(cameras, dtype=np.float64).reshape(-1, 3)
    surfaces = horizontal_surfaces(points)
    if not surfaces:
        return Ground(math.nan, "unknown", f"no horizontal surface in {len(points)} points")
    if not len(cameras):
        lowest = surfaces[0]
        return Ground(
            lowest.z, "field", f"lowest horizontal surface ({lowest.points} points; no cameras)"
        )
    ceiling = float(cameras[:, 2].min()) - CAMERA_CLEARANCE
    below = [s for s in surfaces if s.z <= ceiling]
    for surface in below:
        surface.covered = _covered(points, surface, cameras)
    floors = [s for s in below if s.covered >= MIN_COVERED]
    seen = ", ".join(f"{s.z:.2f} ({s.points})" for s in surfaces)
    if floors:
        floor = floors[0]
        higher = "".join(f"; one at {s.z:.2f}" for s in below if s.z > floor.z)
        reason = (
            f"lowest horizontal surface, seen under {floor.covered:.0%} of the cameras"
            f" ({floor.points} points{higher})"
        )
        return Ground(floor.z, "field", reason)
    if below:
        best = max(s.covered for s in below)
        why = (
            f"none below the cameras was seen under them (best: {best:.0%} of the cameras,"
            f" {MIN_COVERED:.0%} needed)"
        )
    else:
        lowest = ceiling + CAMERA_CLEARANCE
        why = f"none at least {CAMERA_CLEARANCE:.1f} m below the lowest camera (z = {lowest:.2f})"
    return Ground(math.nan, "unknown", f"no floor: horizontal surfaces at z = {seen}; {why}")


def estimate_ground(
    points: np.ndarray,
    cameras: np.ndarray,
    fixed: float = math.nan,
    base_z: float | None = None,
) -> Ground:
    """The floor: ``fixed`` when finite, else the base frame's height ``base_z`` when given,
    else :func:`field_ground`."""
    if math.isfinite(fixed):
        return Ground(float(fixed), "parameter", "the ground_height parameter")
    if base_z is not None and math.isfinite(base_z):
        reason = "the robot's base frame"
        cameras = np.asarray(cameras, dtype=np.float64).reshape(-1, 3)
        if len(cameras) and base_z > cameras[:, 2].min() - CAMERA_CLEARANCE:
            # Still the floor (TF knows best), but a camera at or below the floor is suspect.
            reason += f", above the lowest camera (z = {cameras[:, 2].min():.2f}): check base_frame"
        return Ground(float(base_z), "base_frame", reason)
    return field_ground(points, cameras)


def no_floor_hint(ground: Ground) -> str:
    """What to do when the floor is unknown (for the answer's message)."""
    return f"{ground.reason}: set ground_height, or publish the robot's base frame on TF"
