"""Per-keyframe surface contributions: back-projected measured depth, the incremental cache."""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lerf_ros.cameras.conventions import look_at
from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.synthetic.export import scene_trajectory
from lerf_ros.data.synthetic.presets import default_scene
from lerf_ros.data.synthetic.render import render_view, trace
from lerf_ros.query.candidates import count_views
from lerf_ros.query.config import QueryConfig
from lerf_ros.query.surface_cache import SurfaceCache, measured_contribution

INTRINSICS = Intrinsics.from_fov(160, 120, math.radians(60.0))
"""Candidate width 64 gives stride round(160 / 64) = 2 (points come from 2 x 2 blocks)."""


@functools.cache
def scene_views(count: int = 4):
    scene = default_scene()
    poses = scene_trajectory(scene, "orbit", count)
    return scene, [render_view(scene, INTRINSICS, pose) for pose in poses]


def depth_frame(view, frame_id: int, depth: np.ndarray | None = None):
    """A keyframe as the query package sees it (duck-typed), with the view's exact depth
    (0 where the ray hit nothing, as a sensor reports no reading)."""
    if depth is None:
        depth = np.where(np.isfinite(view.depth), view.depth, 0.0)
    return SimpleNamespace(
        id=frame_id,
        image=torch.as_tensor((view.rgb * 255).round().astype(np.uint8)),
        intrinsics=view.intrinsics,
        c2w=view.c2w,
        depth=torch.as_tensor(depth, dtype=torch.float32),
    )


def colour_frame(frame_id: int, c2w: np.ndarray, intrinsics: Intrinsics = INTRINSICS):
    image = torch.zeros(intrinsics.height, intrinsics.width, 3, dtype=torch.uint8)
    return SimpleNamespace(id=frame_id, image=image, intrinsics=intrinsics, c2w=c2w, depth=None)


class WallModel:
    """A field whose surface is the plane world z = ``wall_z`` (seen by cameras looking
    along +z); counts its renders."""

    def __init__(self, wall_z: float = 2.0):
        self.wall_z = wall_z
        self.rendered_rays: list[int] = []

    def eval(self):
        return self

    def render_chunked(self, origins, directions, chunk=4096, depth_method="expected"):
        count = len(origins)
        self.rendered_rays.append(count)
        return {
            "rgb": torch.full((count, 3), 0.5),
            "depth": ((self.wall_z - origins[:, 2]) / directions[:, 2])[:, None],
            "accumulation": torch.ones(count, 1),
        }


def test_back_projected_depth_lies_on_the_true_surfaces():
    scene, views = scene_views()
    for view in views:
        part = measured_contribution(depth_frame(view, 0), QueryConfig(), step=0)
        assert part.measured and len(part.points) > 1000
        # Independent check: trace the scene from the camera towards each point.
        origin = view.c2w[:3, 3]
        offsets = part.points.astype(np.float64) - origin
        distance = np.linalg.norm(offsets, axis=1)
        hit, *_ = trace(scene, np.broadcast_to(origin, offsets.shape), offsets / distance[:, None])
        assert np.max(np.abs(hit - distance)) < 0.003  # metres
        # One point per 2 x 2 block that holds a reading; the depth view says where.
        assert part.view.depth.shape == (60, 80)
        assert np.isfinite(part.view.depth).sum() == len(part.points)
        assert part.view.intrinsics.fx == pytest.approx(INTRINSICS.fx / 2)
        # Colours are the keyframe's own pixels.
        assert part.colors.min() >= 0.0 and part.colors.max() <= 1.0


def test_blocks_without_a_reading_give_no_point_and_hide_nothing():
    scene, views = scene_views()
    view = views[0]
    depth = np.where(np.isfinite(view.depth), view.depth, 0.0).astype(np.float32)
    depth[:, :40] = 0.0  # the left quarter: no reading at all
    depth[0::2, 40::2] = 0.0  # every block's centre pixel elsewhere: a neighbour stands in
    part = measured_contribution(depth_frame(view, 0, depth), QueryConfig(), step=0)
    assert np.all(np.isinf(part.view.depth[:, :20]))
    full = measured_contribution(depth_frame(view, 0), QueryConfig(), step=0)
    np.testing.assert_array_equal(
        np.isfinite(part.view.depth[:, 20:]), np.isfinite(full.view.depth[:, 20:])
    )
    # Points left of column 40 are gone; the others lie on the surface (real readings).
    w2c = np.linalg.inv(view.c2w)
    camera = part.points @ w2c[:3, :3].T + w2c[:3, 3]
    u = INTRINSICS.fx * camera[:, 0] / camera[:, 2] + INTRINSICS.cx
    assert u.min() >= 40.0 - 1e-3
    origin = view.c2w[:3, 3]
    offsets = part.points.astype(np.float64) - origin
    distance = np.linalg.norm(offsets, axis=1)
    hit, *_ = trace(scene, np.broadcast_to(origin, offsets.shape), offsets / distance[:, None])
    assert np.max(np.abs(hit - distance)) < 0.003
    assert not np.isin(part.points.view("V12"), full.points.view("V12")).any()


def test_a_new_keyframe_computes_only_its_own_surface_and_an_evicted_one_drops_out():
    _, views = scene_views()
    cache = SurfaceCache(QueryConfig(voxel_size=0.0))
    model = WallModel()
    first = [depth_frame(views[0], 0), depth_frame(views[1], 1)]
    candidates, depth_views = cache.update(model, first, step=0, device="cpu")
    assert cache.computed == 2 and len(depth_views) == 2 and candidates.step == 0
    assert model.rendered_rays == []  # measured depth: no rendering at all
    one = len(cache.parts[0].points)

    candidates, _ = cache.update(model, [*first, depth_frame(views[2], 2)], step=5, device="cpu")
    assert cache.computed == 3  # only the new keyframe
    assert not cache.needs_update([*first, depth_frame(views[2], 2)], step=10_000)

    candidates, depth_views = cache.update(model, first[1:], step=6, device="cpu")
    assert set(cache.parts) == {1} and len(depth_views) == 1 and cache.computed == 3
    assert len(candidates) == len(cache.parts[1].points) and one > 0
    np.testing.assert_array_equal(candidates.points, cache.parts[1].points)


def test_keyframes_without_depth_render_the_field_and_refresh_when_stale():
    config = QueryConfig(voxel_size=0.0, refresh_steps=100, refreshes_per_query=1)
    cache = SurfaceCache(config)
    model = WallModel(wall_z=2.0)
    pose = np.eye(4)
    frames = [colour_frame(0, pose), colour_frame(1, look_at((0, 0, -1), (0, 0, 1), (0, -1, 0)))]
    candidates, views = cache.update(model, frames, step=0, device="cpu")
    assert len(model.rendered_rays) == 2 and not cache.parts[0].measured
    # The rendered wall as z-depth: 2 m from the first camera, 3 m from the one behind it.
    assert np.allclose(views[0].depth, 2.0) and np.allclose(views[1].depth, 3.0)
    assert np.allclose(candidates.points[:, 2], 2.0, atol=1e-5)
    # The camera behind sees all the wall the front one sees: those points have two views.
    assert np.all(candidates.views[: len(cache.parts[0].points)] == 2)

    assert not cache.needs_update(frames, step=99)
    cache.update(model, frames, step=99, device="cpu")
    assert len(model.rendered_rays) == 2
    # Both stale at step 100: one re-rendered per query (oldest first), the other next time.
    assert cache.needs_update(frames, step=100)
    cache.update(model, frames, step=100, device="cpu")
    assert len(model.rendered_rays) == 3 and cache.parts[0].step == 100
    assert cache.parts[1].step == 0 and cache.needs_update(frames, step=100)
    cache.update(model, frames, step=101, device="cpu")
    assert len(model.rendered_rays) == 4 and not cache.needs_update(frames, step=101)


def test_an_empty_rendered_surface_is_looked_at_again_once_the_field_has_trained():
    cache = SurfaceCache(QueryConfig())
    model = WallModel(wall_z=2.0)
    frames = [colour_frame(0, np.eye(4))]
    cache.update(model, frames, step=3, device="cpu")
    assert not cache.needs_update(frames, step=4)
    assert not cache.needs_update(frames, step=3, retry_empty=True)
    assert cache.needs_update(frames, step=4, retry_empty=True)


def test_a_moved_keyframe_is_recomputed():
    _, views = scene_views()
    cache = SurfaceCache(QueryConfig())
    frame = depth_frame(views[0], 0)
    cache.update(WallModel(), [frame], step=0, device="cpu")
    frame.c2w = views[1].c2w
    assert cache.needs_update([frame], step=0)
    cache.update(WallModel(), [frame], step=0, device="cpu")
    assert cache.computed == 2


def test_incremental_view_counts_equal_a_full_recount():
    _, views = scene_views()
    cache = SurfaceCache(QueryConfig(refresh_steps=10))
    model = WallModel(wall_z=0.5)
    frames = [depth_frame(view, index) for index, view in enumerate(views)]
    frames.append(colour_frame(9, views[0].c2w))
    history = [frames[:2], frames[:3], frames[1:], frames[1:]]
    for step, current in enumerate(history):
        candidates, depth_views = cache.update(model, current, step=step * 10, device="cpu")
        assert len(depth_views) == len(current)
        np.testing.assert_array_equal(candidates.views, count_views(candidates.points, depth_views))
    assert cache.parts[9].step == 30  # the rendered one was refreshed in between
