"""Per-keyframe surface contributions to the query candidates, cached by keyframe id.

Each keyframe contributes surface points (with colours) and a :class:`DepthView` at the
reduced candidate resolution (stride ``s`` = width / ``QueryConfig.candidate_width``):

* A keyframe **with measured depth** is back-projected: in each ``s x s`` block the valid
  reading (> 0, finite) nearest the block centre is taken, and its pixel centre is lifted
  along its own ray, ``c2w @ [(u-cx)/fx*z, (v-cy)/fy*z, z]`` (lens distortion, when the
  intrinsics have any, is undone the way the renderer's rays undo it). Taking one real
  pixel, not a min or mean of the block, keeps every point exactly on the measured surface
  (a min-pooled depth at the block centre would sit off a slanted floor by the slope), and
  taking the *nearest valid* one rather than the centre pixel keeps blocks whose centre
  alone fell into a sensor hole. Colours are that pixel of the keyframe image. No rendering:
  candidates exist from the first keyframe, before the density field means anything, and
  the contribution never goes stale (the measurement does not change as the field trains).
* A keyframe **without depth** renders the field's median depth, as before; its
  contribution is recomputed once ``refresh_steps`` training steps old.

Blocks of a depth keyframe without any reading give no point and an ``inf`` (hides
nothing) surface in its DepthView. They are *not* filled in from the rendered field: that
would make depth keyframes render again every ``refresh_steps`` steps (the cost this cache
exists to avoid), and sensor holes are mostly out-of-range, sky, glass or dark surfaces,
where the field's own surface is least trustworthy. Colour-only keyframes, and other depth
keyframes that see the spot from elsewhere, still contribute there.

Only the union (concatenation, voxel downsample, cap) is redone when the set of contributions
changes; evicted keyframes drop out. View counts are kept per point of each contribution and
updated incrementally: a new keyframe's points are tested against every view, and every
cached point against the new view only (a full recount of 200k points in 66 views took
2-4 s on two CPU cores); an evicted or recomputed keyframe's view is subtracted again. Each
cached point keeps its count; the counts are exactly those
:func:`~lerf_ros.query.candidates.count_views` would give over the cached views.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.cameras.rays import camera_directions, image_rays
from lerf_ros.query.candidates import Candidates, DepthView, count_views, voxel_downsample
from lerf_ros.query.config import QueryConfig


@dataclass
class Contribution:
    """One keyframe's share of the candidates."""

    points: np.ndarray
    """``[n, 3]`` float32 world points."""
    colors: np.ndarray
    """``[n, 3]`` float32 RGB in [0, 1]."""
    view: DepthView
    """The keyframe's reduced-resolution surface, for visibility counts."""
    step: int
    """Training step it was computed at."""
    measured: bool
    """From measured depth (never stale) rather than the rendered field."""
    c2w: np.ndarray
    """The pose it was computed for: a keyframe whose pose changed is recomputed."""
    views: np.ndarray | None = None
    """``[n]`` int32: how many cached keyframe views see each point."""


def candidate_stride(intrinsics: Intrinsics, config: QueryConfig) -> int:
    return max(1, round(intrinsics.width / config.candidate_width))


def reduced_intrinsics(intrinsics: Intrinsics, stride: int) -> Intrinsics:
    """Intrinsics of the ``stride``-block grid: block (r, c) has its centre at pixel
    ``((c + 0.5) * stride, (r + 0.5) * stride)``, which is where :func:`image_rays` with that
    stride shoots its rays (exact even when the size does not divide evenly)."""
    if stride == 1:
        return intrinsics
    return dataclasses.replace(
        intrinsics,
        width=intrinsics.width // stride,
        height=intrinsics.height // stride,
        fx=intrinsics.fx / stride,
        fy=intrinsics.fy / stride,
        cx=intrinsics.cx / stride,
        cy=intrinsics.cy / stride,
    )


def _empty(n: int = 0) -> np.ndarray:
    return np.zeros((n, 3), dtype=np.float32)


def measured_contribution(frame, config: QueryConfig, step: int) -> Contribution:
    """Back-projected measured depth of ``frame`` (see the module docstring)."""
    intr: Intrinsics = frame.intrinsics
    stride = candidate_stride(intr, config)
    rows, cols = intr.height // stride, intr.width // stride
    v, u = _nearest_readings(frame.depth, rows, cols, stride)
    z = frame.depth[v, u].float()
    hit = torch.isfinite(z) & (z > 0)
    surface = torch.where(hit, z, torch.full_like(z, float("inf")))
    # A copy of the pose: the view must stay what was counted (see SurfaceCache._drop).
    c2w = np.array(frame.c2w, dtype=np.float64)
    view = DepthView(reduced_intrinsics(intr, stride), c2w, surface.cpu().numpy())

    hit_v, hit_u = v[hit], u[hit]
    colors = (frame.image[hit_v, hit_u].float() / 255.0).cpu().numpy()
    z_hit = z[hit].double().cpu().numpy()
    # Unit ray through the pixel centre, scaled so that its optical-axis component is z.
    directions = camera_directions(intr, hit_u.cpu().numpy() + 0.5, hit_v.cpu().numpy() + 0.5)
    scale = z_hit / directions[:, 2]
    # Per axis rather than ``camera @ R.T``: see candidates.project (threaded BLAS stalls).
    x, y = directions[:, 0] * scale, directions[:, 1] * scale
    points = np.stack([x * r[0] + y * r[1] + z_hit * r[2] + r[3] for r in c2w[:3]], axis=1)
    return Contribution(points.astype(np.float32), colors.astype(np.float32), view, step, True, c2w)


def _nearest_readings(depth: torch.Tensor, rows: int, cols: int, stride: int):
    """Per ``stride`` block, the pixel (row, column index tensors ``[rows, cols]``) of the
    valid reading nearest the block centre (ties: the first in row-major order); a block
    without any reading keeps its centre pixel (whose depth then says "no reading").

    The centre pixel is tried first on a strided view (no full-image pass: most blocks have
    it); only the blocks where it has no reading are searched whole."""
    centre = (stride - 1) // 2  # the first pixel nearest the centre, in row-major order
    grid_r, grid_c = torch.meshgrid(
        torch.arange(rows, device=depth.device) * stride + centre,
        torch.arange(cols, device=depth.device) * stride + centre,
        indexing="ij",
    )
    at_centre = depth[grid_r, grid_c]
    missing = ~(torch.isfinite(at_centre) & (at_centre > 0))
    if stride == 1 or not bool(missing.any()):
        return grid_r, grid_c
    block_r, block_c = missing.nonzero(as_tuple=True)
    offsets = torch.arange(stride, device=depth.device)
    # [k, stride, stride] pixel indices of the k blocks to search.
    pixel_r = (block_r * stride)[:, None, None] + offsets[None, :, None]
    pixel_c = (block_c * stride)[:, None, None] + offsets[None, None, :]
    blocks = depth[pixel_r, pixel_c].reshape(len(block_r), -1)
    middle = offsets.float() + 0.5 - stride / 2
    to_centre = (middle[:, None] ** 2 + middle[None, :] ** 2).reshape(-1)
    valid = torch.isfinite(blocks) & (blocks > 0)
    cost = torch.where(valid, to_centre.expand_as(blocks), torch.inf)
    best_cost, best = cost.min(dim=1)
    found = torch.isfinite(best_cost)
    grid_r, grid_c = grid_r.clone(), grid_c.clone()
    grid_r[block_r[found], block_c[found]] = block_r[found] * stride + best[found] // stride
    grid_c[block_r[found], block_c[found]] = block_c[found] * stride + best[found] % stride
    return grid_r, grid_c


def rendered_contribution(model, frame, config: QueryConfig, step: int, device) -> Contribution:
    """The field's median-depth surface seen from ``frame`` (``model``: a query FieldModel)."""
    intr: Intrinsics = frame.intrinsics
    stride = candidate_stride(intr, config)
    bundle = image_rays(intr, frame.c2w, stride=stride, device=device)
    out = model.render_chunked(bundle.origins, bundle.directions, depth_method="median")
    rows, cols = intr.height // stride, intr.width // stride
    distance = out["depth"][:, 0]
    hit = out["accumulation"][:, 0] >= config.min_accumulation
    xyz = bundle.origins + bundle.directions * distance[:, None]
    forward = torch.as_tensor(frame.c2w[:3, 2], dtype=bundle.directions.dtype, device=device)
    z = distance * (bundle.directions @ forward)
    depth = torch.where(hit, z, torch.full_like(z, float("inf")))
    c2w = np.array(frame.c2w, dtype=np.float64)
    view = DepthView(reduced_intrinsics(intr, stride), c2w, depth.view(rows, cols).cpu().numpy())
    return Contribution(
        xyz[hit].cpu().numpy().astype(np.float32),
        out["rgb"][hit].cpu().numpy().astype(np.float32),
        view,
        step,
        False,
        c2w,
    )


class SurfaceCache:
    """Contributions by keyframe id, and the candidates built from their union.

    Not thread-safe: the caller (``FieldAnswers``) lets one reader at a time update it.
    """

    def __init__(self, config: QueryConfig):
        self.config = config
        self.parts: dict[int, Contribution] = {}
        self.computed = 0
        """Contributions computed so far (measured or rendered): tests and benchmarks read it."""

    def clear(self) -> None:
        self.parts.clear()

    def _due(self, frame, step: int, retry_empty: bool) -> bool:
        part = self.parts.get(frame.id)
        if part is None or part.measured != (frame.depth is not None):
            return True
        if not np.array_equal(part.c2w, frame.c2w):
            return True
        if part.measured:
            return False
        age = step - part.step
        return age >= self.config.refresh_steps or (retry_empty and age > 0)

    def needs_update(self, keyframes: list, step: int, retry_empty: bool = False) -> bool:
        """Whether :meth:`update` would change anything: a keyframe was added or evicted, or
        a rendered contribution is stale (``retry_empty``: any older than ``step``)."""
        if set(self.parts) != {frame.id for frame in keyframes}:
            return True
        return any(self._due(frame, step, retry_empty) for frame in keyframes)

    def update(
        self, model, keyframes: list, step: int, device, retry_empty: bool = False
    ) -> tuple[Candidates, list[DepthView]]:
        """Bring the contributions up to date with ``keyframes`` and build the candidates.

        Missing contributions are always computed; stale rendered ones are re-rendered
        oldest first, at most ``config.refreshes_per_query`` of them (0: all), so that a
        query after the refresh interval does not pay for every keyframe at once (the rest
        keep their older surface until a later query). ``retry_empty``: the last candidates
        were empty, so rendered contributions of an earlier step count as stale (a young
        field fills in within steps)."""
        live = {frame.id for frame in keyframes}
        for gone in set(self.parts) - live:
            self._drop(gone)
        due = [frame for frame in keyframes if self._due(frame, step, retry_empty)]
        missing = [frame for frame in due if frame.id not in self.parts]
        stale = sorted(
            (frame for frame in due if frame.id in self.parts),
            key=lambda frame: self.parts[frame.id].step,
        )
        budget = self.config.refreshes_per_query
        if budget > 0:
            stale = stale[:budget]
        computed: dict[int, Contribution] = {}
        for frame in [*missing, *stale]:
            if frame.depth is not None:
                computed[frame.id] = measured_contribution(frame, self.config, step)
            else:
                with torch.no_grad():
                    model.eval()
                    computed[frame.id] = rendered_contribution(
                        model, frame, self.config, step, device
                    )
        for keyframe_id in computed:
            self._drop(keyframe_id)
        self._add(computed)
        self.computed += len(computed)
        return self._union([self.parts[frame.id] for frame in keyframes], step)

    def _drop(self, keyframe_id: int) -> None:
        """Forget a contribution and take its view out of the others' counts (visibility is
        recomputed rather than remembered per view pair: that would hold points x keyframes
        flags, hundreds of MB at 200 keyframes)."""
        part = self.parts.pop(keyframe_id, None)
        if part is not None and self.parts:
            for other, seen in _split(self.parts, [part.view]):
                other.views -= seen

    def _add(self, new: dict[int, Contribution]) -> None:
        """Count the new parts' points in every view (theirs included) and the cached parts'
        points in the new views."""
        if not new:
            return
        if self.parts:
            for part, seen in _split(self.parts, [p.view for p in new.values()]):
                part.views += seen
        self.parts.update(new)
        for part, seen in _split(new, [p.view for p in self.parts.values()]):
            part.views = seen

    def _union(self, parts: list[Contribution], step: int) -> tuple[Candidates, list[DepthView]]:
        if parts:
            points = np.concatenate([p.points for p in parts])
            colors = np.concatenate([p.colors for p in parts])
            counts = np.concatenate([p.views for p in parts])
        else:
            points, colors, counts = _empty(), _empty(), np.zeros(0, dtype=np.int32)
        points, colors, counts = voxel_downsample(points, self.config.voxel_size, colors, counts)
        if len(points) > self.config.max_candidates:
            keep = np.random.default_rng(0).choice(len(points), self.config.max_candidates, False)
            points, colors, counts = points[keep], colors[keep], counts[keep]
        candidates = Candidates(points, colors, counts.astype(np.int32), step)
        return candidates, [p.view for p in parts]


def _split(parts: dict[int, Contribution], views: list[DepthView]):
    """View counts of all the parts' points in ``views``, computed in one bulk call per view
    (per-part calls on a few thousand points each cost more in numpy overhead than in
    arithmetic once there are dozens of keyframes), handed back per part:
    ``(part, [n] int32 counts)``."""
    chosen = list(parts.values())
    counts = count_views(np.concatenate([p.points for p in chosen]), views)
    bounds = np.cumsum([0, *(len(p.points) for p in chosen)])
    for index, part in enumerate(chosen):
        yield part, counts[bounds[index] : bounds[index + 1]]
