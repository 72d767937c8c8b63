"""Depth through the engine: registered depth trains the geometry (held-out depth error with
depth below half of that without, same frames and steps), bad depth is a counted drop of the
depth only, and keyframe depth survives a checkpoint."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from small_engine import minilm_encoder, tiny_config

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.cameras.rays import image_rays
from lerf_ros.data.synthetic.presets import default_scene
from lerf_ros.data.synthetic.render import render_view
from lerf_ros.data.synthetic.trajectory import orbit
from lerf_ros.engine import LerfEngine
from lerf_ros.features.encoders.registry import load_dense_encoder

W, H = 48, 36
INTRINSICS = Intrinsics.from_fov(W, H, math.radians(60.0))
VIEWS = 12
HELD_OUT = (0, 6)
"""Views never added: the depth error is measured on them."""
STEPS = 60

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def views():
    """(rgb uint8, z-depth float32 with 0 = nothing hit, pose) along an orbit."""
    scene = default_scene()
    v = scene.view
    out = []
    for pose in orbit(v.target, v.radius, v.height, VIEWS, None, v.start_angle, v.arc):
        view = render_view(scene, INTRINSICS, pose)
        depth = np.where(np.isfinite(view.depth), view.depth, 0.0).astype(np.float32)
        out.append(((view.rgb * 255).round().astype(np.uint8), depth, pose))
    return out


def make_engine() -> LerfEngine:
    config = tiny_config()
    config.trainer.seed = 0
    room = default_scene().room.interior()
    config.scene.box_min = tuple(float(c) for c in room.minimum)
    config.scene.box_max = tuple(float(c) for c in room.maximum)
    return LerfEngine(config, minilm_encoder(), load_dense_encoder("colour-patches"))


def trained(views, with_depth: bool) -> LerfEngine:
    engine = make_engine()
    for index, (rgb, depth, pose) in enumerate(views):
        if index not in HELD_OUT:
            engine.add_frame(
                rgb, INTRINSICS, pose, float(index), force=True, depth=depth if with_depth else None
            )
    engine.compute_pending_features()
    for _ in range(STEPS):
        engine.train_step()
    return engine


def held_out_depth_error(engine: LerfEngine, views) -> float:
    """Median |rendered z - true z| over the held-out views' pixels that hit something."""
    errors = []
    for index in HELD_OUT:
        _, truth, pose = views[index]
        rendered = engine.render_view(INTRINSICS, pose)["depth"]  # distance along the ray
        bundle = image_rays(INTRINSICS, pose)
        forward = torch.as_tensor(pose[:3, 2], dtype=bundle.directions.dtype)
        cosine = (bundle.directions @ forward).view(H, W).numpy()
        hit = truth > 0
        errors.append(np.abs(rendered * cosine - truth)[hit])
    return float(np.median(np.concatenate(errors)))


def test_depth_makes_the_field_converge_on_the_same_frames_and_steps(views):
    rgb_only = trained(views, with_depth=False)
    rgbd = trained(views, with_depth=True)
    error_rgb, error_rgbd = held_out_depth_error(rgb_only, views), held_out_depth_error(rgbd, views)
    assert error_rgbd < 0.5 * error_rgb, (error_rgbd, error_rgb)
    assert error_rgbd < 0.1, error_rgbd  # a surface within centimetres, not a fog
    losses = rgbd.status().losses
    assert {"depth", "free_space"} <= set(losses) and not {"depth"} & set(rgb_only.status().losses)
    assert rgbd.status().keyframes_with_depth == VIEWS - len(HELD_OUT)
    assert rgb_only.status().keyframes_with_depth == 0


@pytest.mark.parametrize(
    ("depth", "reason"),
    [
        (np.ones((H, W + 1), np.float32), "bad depth: size mismatch"),
        (np.zeros((H, W), np.float32), "bad depth: no reading"),
        (np.full((H, W), np.nan, np.float32), "bad depth: non-finite"),
        (np.full((H, W), -1.0, np.float32), "bad depth: negative"),
        (np.ones((H, W, 3), np.float32), "bad depth"),
    ],
)
def test_bad_depth_is_a_counted_drop_of_the_depth_and_the_frame_still_trains(views, depth, reason):
    engine = make_engine()
    rgb, _, pose = views[1]
    decision = engine.add_frame(rgb, INTRINSICS, pose, 1.0, force=True, depth=depth)
    assert decision.accepted
    status = engine.status()
    assert status.keyframes == 1 and status.keyframes_with_depth == 0
    assert status.depth_drop_reasons == {reason: 1}
    assert status.frames_without_depth == 1 and status.frames_dropped == 0
    assert engine.train_step() is not None  # trains colour only


def test_keyframe_depth_survives_a_checkpoint(views, tmp_path):
    engine = make_engine()
    for index in (1, 2, 3):
        rgb, depth, pose = views[index]
        engine.add_frame(rgb, INTRINSICS, pose, float(index), force=True, depth=depth)
    rgb, _, pose = views[4]
    engine.add_frame(rgb, INTRINSICS, pose, 4.0, force=True)  # colour only
    engine.train_step()
    path = engine.save(tmp_path / "rgbd.ckpt")
    clone = make_engine()
    clone.load(path)
    frames = clone.keyframes.snapshot()
    assert [f.depth is not None for f in frames] == [True, True, True, False]
    for frame, index in zip(frames[:3], (1, 2, 3), strict=True):
        np.testing.assert_array_equal(frame.depth.numpy(), views[index][1])
