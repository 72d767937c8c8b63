"""compute_targets on the session's trained LERF: the field's density is the obstacle map."""

from __future__ import annotations

import math

import numpy as np
import pytest
from small_engine import minilm_encoder, tiny_config

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.synthetic.export import scene_trajectory
from lerf_ros.data.synthetic.presets import TABLE_HEIGHT, default_scene
from lerf_ros.data.synthetic.render import render_view
from lerf_ros.engine import LerfEngine
from lerf_ros.features.encoders.registry import load_dense_encoder
from lerf_ros.query.request import QueryError
from lerf_ros.targets.config import TargetConfig
from lerf_ros.targets.service import compute_targets, density_occupancy

pytestmark = pytest.mark.slow

RGBD_VIEWS = 16
RGBD_STEPS = 300


@pytest.fixture(scope="module")
def rgbd_engine():
    """A small engine trained RGBD_STEPS steps on RGBD_VIEWS colour + depth views of the
    bundled scene's orbit (~35 s): as the demo's node trains, the floor is measured, not fog."""
    import torch

    scene = default_scene()
    intrinsics = Intrinsics.from_fov(128, 96, math.radians(60.0))
    config = tiny_config()
    config.trainer.seed = 0
    config.trainer.ready_steps = 0
    config.readiness.enabled = False  # trained a fixed number of steps, like the session field
    room = scene.room.interior()
    config.scene.box_min = tuple(float(c) for c in room.minimum)
    config.scene.box_max = tuple(float(c) for c in room.maximum)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        engine = LerfEngine(
            config, minilm_encoder(), load_dense_encoder("colour-patches"), frame_id="map"
        )
        for index, pose in enumerate(scene_trajectory(scene, "orbit", RGBD_VIEWS)):
            view = render_view(scene, intrinsics, pose)
            depth = np.where(np.isfinite(view.depth), view.depth, 0.0).astype(np.float32)
            image = (view.rgb * 255).round().astype(np.uint8)
            engine.add_frame(image, intrinsics, pose, float(index), force=True, depth=depth)
        engine.compute_pending_features()
        # The samplers draw from torch's global generator: seeded here, the field does not
        # depend on what earlier tests in this process drew.
        torch.manual_seed(0)
        for _ in range(RGBD_STEPS):
            engine.train_step()
        assert engine.ready, engine.status()
        yield engine
    finally:
        torch.set_num_threads(threads)


def near_box(point, obj, margin):
    low, high = obj.box()
    return bool(np.all(point >= low - margin) and np.all(point <= high + margin))


def test_field_density_marks_objects_solid_and_open_air_free(trained_synthetic_engine):
    engine, _, _ = trained_synthetic_engine
    occupied = density_occupancy(engine, TargetConfig.default().occupied_density)
    scene = default_scene()
    # What cameras saw: each top surface (5 objects, 2 places on the table), found within
    # +-5 cm of the true height. Insides are never seen, so a field may leave them empty
    # (measured: 2 of 6 centres were), and a soft surface sits a few cm off.
    tops = [(*obj.center[:2], obj.center[2] + obj.size[2] / 2) for obj in scene.objects]
    tops += [(0.0, 0.0, TABLE_HEIGHT), (0.3, 0.2, TABLE_HEIGHT)]
    offsets = np.linspace(-0.05, 0.05, 11)
    columns = np.array([[(x, y, z + dz) for dz in offsets] for x, y, z in tops])
    solid = occupied(columns.reshape(-1, 3)).reshape(len(tops), -1).any(axis=1)
    # Measured over seeds 0/1/2 (colour only, 700 steps): 5, 6 and 5 of 7 (the table's centre,
    # between the objects, stays soft, and in two of them the blue box's top).
    assert solid.sum() >= 5, solid
    rng = np.random.default_rng(0)
    air = rng.uniform((-1.5, -1.5, 1.3), (1.5, 1.5, 1.8), size=(500, 3))
    assert occupied(air).mean() < 0.05


def test_targets_for_an_object_on_the_table(trained_synthetic_engine):
    engine, _, _ = trained_synthetic_engine
    scene = default_scene()
    config = TargetConfig.default()
    config.grasp.max_gripper_width = 0.25
    # The orbit barely sees the floor, so its height is given, as a robot's map frame would.
    config.navigation.ground_height = 0.0
    answer = compute_targets(engine, "blue box", config=config)
    box = scene.object_named("blue box")
    assert answer.grasps, answer.message
    best = answer.grasps[0]
    # The field's soft top surface sits a few cm above the true box after 400 CPU steps.
    assert near_box(best.position, box, 0.08), best
    assert answer.ground_z == 0.0
    assert answer.goals, answer.message
    assert answer.grasps[0].peak == 0 and answer.goals[0].peak == 0
    for goal in (g for g in answer.goals if g.peak == 0):
        assert goal.position[2] == pytest.approx(answer.ground_z)
        assert not scene.occupied(goal.position + np.array([0.0, 0.0, 0.1]))[0]
        to_box = box.center[:2] - goal.position[:2]
        error = math.remainder(goal.yaw - math.atan2(to_box[1], to_box[0]), 2 * math.pi)
        assert abs(math.degrees(error)) < 20


def test_no_navigation_goal_stands_on_the_table(trained_synthetic_engine):
    # Issue 17: the default ground (NaN) used to be the largest low plane, here the table top
    # (the old estimate measured 0.69 m on this field): every goal of every object stood on
    # it. This colour-only field never made the floor a surface (floor rays end 10-50 % short,
    # measured), so the estimate refuses and says why; with the base frame's height, as the
    # node reads it from TF, every goal stands on the floor.
    engine, _, _ = trained_synthetic_engine
    config = TargetConfig.default()
    assert math.isnan(config.navigation.ground_height)
    with_goals = 0
    for obj in default_scene().objects:
        answer = compute_targets(engine, obj.name, config=config)
        assert not answer.ground.known or abs(answer.ground_z) < 0.05, answer.message
        assert all(abs(goal.position[2]) < 0.05 for goal in answer.goals), answer.message
        if not answer.ground.known:
            assert not answer.goals and "set ground_height" in answer.message
        answer = compute_targets(engine, obj.name, config=config, base_z=0.0)
        assert answer.ground.source == "base_frame", answer.message
        assert all(goal.position[2] == 0.0 for goal in answer.goals)
        with_goals += bool(answer.goals)
    assert with_goals >= 4


def test_every_goal_on_the_bundled_scene_stands_on_the_floor(rgbd_engine):
    # The default ground (NaN), estimated from the field: the floor the cameras saw under
    # them (measured: 1,333 points, against the table top's several thousand), for every object.
    config = TargetConfig.default()
    with_goals = 0
    for obj in default_scene().objects:
        answer = compute_targets(rgbd_engine, obj.name, config=config)
        if not answer.result.peaks:
            continue  # 300 small steps: measured, three of the five are found (seeded)
        assert answer.ground.source == "field", answer.message
        assert answer.ground_z == pytest.approx(0.0, abs=0.03), answer.message
        assert all(abs(goal.position[2]) < 0.03 for goal in answer.goals), answer.message
        with_goals += bool(answer.goals)
    assert with_goals >= 3  # the language is not what this test is about: where goals stand


def test_empty_part_is_a_clear_error(trained_synthetic_engine):
    engine, _, _ = trained_synthetic_engine
    with pytest.raises(QueryError, match="both sides"):
        compute_targets(engine, "blue box;")
