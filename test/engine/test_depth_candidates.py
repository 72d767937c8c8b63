"""Query candidates of the engine from measured depth: there from the first keyframe, before
any training, and cached per keyframe."""

from __future__ import annotations

import math

import numpy as np
import pytest
from small_engine import minilm_encoder, tiny_config

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.synthetic.export import scene_trajectory
from lerf_ros.data.synthetic.presets import default_scene
from lerf_ros.data.synthetic.render import render_view, trace
from lerf_ros.engine import LerfEngine
from lerf_ros.query.request import validate_request

INTRINSICS = Intrinsics.from_fov(128, 96, math.radians(60.0))
VIEWS = 6


@pytest.fixture(scope="module")
def scene_and_views():
    """The default scene and (image, pose, exact z-depth with 0 for no hit) along its orbit."""
    scene = default_scene()
    out = []
    for pose in scene_trajectory(scene, "orbit", VIEWS):
        view = render_view(scene, INTRINSICS, pose)
        image = (view.rgb * 255).round().astype(np.uint8)
        depth = np.where(np.isfinite(view.depth), view.depth, 0.0).astype(np.float32)
        out.append((image, pose, depth))
    return scene, out


def make_engine(max_keyframes: int = 200) -> LerfEngine:
    config = tiny_config()
    config.keyframes.max_keyframes = max_keyframes
    return LerfEngine(config, minilm_encoder())


def add(engine: LerfEngine, views, indices, with_depth: bool = True) -> None:
    for index in indices:
        image, pose, depth = views[index]
        decision = engine.add_frame(
            image, INTRINSICS, pose, float(index), force=True, depth=depth if with_depth else None
        )
        assert decision.accepted, decision


def current(engine: LerfEngine):
    _, step, model = engine.answers.model_copy()
    return engine.answers.candidates(step, model)


def assert_on_surface(scene, points: np.ndarray, origin: np.ndarray, tolerance: float = 0.005):
    offsets = points.astype(np.float64) - origin
    distance = np.linalg.norm(offsets, axis=1)
    hit, *_ = trace(scene, np.broadcast_to(origin, offsets.shape), offsets / distance[:, None])
    assert np.max(np.abs(hit - distance)) < tolerance


def test_candidates_exist_from_the_first_depth_keyframe_before_any_training(scene_and_views):
    scene, views = scene_and_views
    engine = make_engine()
    add(engine, views, [0])
    assert engine.step == 0
    candidates, depth_views, features = current(engine)
    assert len(candidates) > 500 and candidates.step == 0
    assert len(features) == len(candidates)
    assert_on_surface(scene, candidates.points, views[0][1][:3, 3])
    # The depth views behind the candidates are the measured ones.
    assert engine.depth_views() is depth_views and len(depth_views) == 1
    assert np.isfinite(depth_views[0].depth).all()  # the room's walls are hit everywhere
    # A query over them answers (an untrained field: its relevancies mean nothing yet).
    request = validate_request("red ball", engine.config.query)
    result = engine.answers.query(request)
    assert len(result.points) == len(candidates)


def test_a_new_keyframe_computes_only_its_own_surface_and_an_evicted_one_drops_out(
    scene_and_views,
):
    _, views = scene_and_views
    engine = make_engine(max_keyframes=3)
    add(engine, views, [0, 1, 2])
    current(engine)
    surfaces = engine.answers.surfaces
    assert surfaces.computed == 3
    add(engine, views, [3])  # over capacity: the most redundant keyframe goes
    ids = [frame.id for frame in engine.keyframes.snapshot()]
    assert len(ids) == 3
    candidates, depth_views, _ = current(engine)
    assert surfaces.computed == 4 and sorted(surfaces.parts) == sorted(ids)
    assert len(depth_views) == 3 and candidates.views.max() <= 3
    # Every candidate is a point of a live keyframe.
    live = np.concatenate([surfaces.parts[i].points for i in ids])
    assert np.isin(candidates.points.view("V12"), live.view("V12")).all()
    # Nothing changed: the cache answers without computing anything.
    again, _, _ = current(engine)
    assert again is not None and surfaces.computed == 4


def test_keyframes_without_depth_still_use_the_rendered_surface(scene_and_views):
    _, views = scene_and_views
    engine = make_engine()
    add(engine, views, [0, 1])
    add(engine, views, [2], with_depth=False)
    current(engine)
    parts = engine.answers.surfaces.parts
    ids = [frame.id for frame in engine.keyframes.snapshot()]
    assert [parts[i].measured for i in ids] == [True, True, False]
    # The rendered one is recomputed once stale; the measured ones never are (the field is
    # asked as if it had trained refresh_steps further: training itself is not the point).
    engine.config.query.refresh_steps = 2
    computed = engine.answers.surfaces.computed
    _, step, model = engine.answers.model_copy()
    candidates, _, _ = engine.answers.candidates(step + 2, model)
    assert engine.answers.surfaces.computed == computed + 1 and candidates.step == step + 2
    assert parts[ids[2]].step == step + 2 and parts[ids[0]].step == step
