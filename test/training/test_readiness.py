"""The readiness test's verdicts on given probes: bounds, the window, stability, the step cap,
the latch; and a real probe of a model on held-out rays."""

from __future__ import annotations

import pytest

from lerf_ros.training.readiness import Probe, Readiness
from lerf_ros.training.readiness_config import ReadinessConfig


def fed(config: ReadinessConfig, probes: list[Probe]) -> Readiness:
    readiness = Readiness(config)
    for probe in probes:
        readiness.probes.append(probe)
        while len(readiness.probes) > config.window:
            readiness.probes.popleft()
    return readiness


def steady(step: int, rgb=0.005, clip=0.85, depth=0.02) -> Probe:
    return Probe(step, rgb, clip, depth)


def test_within_bounds_and_stable_over_the_window_is_ready():
    config = ReadinessConfig(window=3)
    ready = fed(config, [steady(25), steady(50), steady(75)])
    assert ready.reason(75) is None


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        (steady(75, rgb=0.031), "not ready: colour error 0.031 > 0.02 on held-out rays"),
        (steady(75, clip=0.42), "not ready: CLIP cosine 0.420 < 0.75 on held-out rays"),
        (steady(75, depth=0.25), "not ready: depth error 0.250 m > 0.1 m on held-out rays"),
    ],
)
def test_each_bound_names_itself_with_the_measured_value(last, expected):
    readiness = fed(ReadinessConfig(window=3), [steady(25), steady(50), last])
    assert readiness.reason(75) == expected


def test_too_few_probes_or_a_metric_still_changing_is_not_ready():
    config = ReadinessConfig(window=3)
    assert fed(config, []).reason(0) == "not ready: no probe of the held-out rays yet"
    few = fed(config, [steady(25), steady(50)])
    assert few.reason(50) == "not ready: held-out rays measured on 2/3 probes"
    falling = fed(config, [steady(25, rgb=0.012), steady(50, rgb=0.008), steady(75, rgb=0.005)])
    assert falling.reason(75).startswith("not ready: colour error still changing (0.005-0.012)")
    # 0.8-0.9 varies by more than 0.15 x (1 - 0.75): the language field is still learning.
    learning = fed(config, [steady(25, clip=0.9), steady(50, clip=0.8), steady(75, clip=0.85)])
    assert "CLIP cosine still changing" in learning.reason(75)


def test_metrics_without_targets_are_not_required():
    readiness = fed(ReadinessConfig(window=2), [Probe(25, 0.004, None, None)] * 2)
    assert readiness.reason(50) is None


def test_the_step_cap_makes_it_ready_and_says_why():
    config = ReadinessConfig(window=3, max_steps=100)
    stuck = fed(config, [steady(s, rgb=0.05) for s in (50, 75, 100)])
    assert stuck.reason(75) is not None
    assert stuck.reason(100) is None
    assert stuck.summary(100) == (
        "ready after 100 steps without convergence (colour error 0.050 > 0.02 on held-out rays)"
    )


def test_once_converged_it_stays_ready_and_a_waiver_skips_the_test():
    config = ReadinessConfig(window=2)
    readiness = Readiness(config)
    readiness.converged_at = 50
    readiness.probes.append(steady(75, rgb=0.5))  # a new keyframe made the probe worse
    assert readiness.reason(75) is None and not readiness.due(100)
    waived = Readiness(config)
    waived.waived = True
    assert waived.reason(0) is None and not waived.due(25)


def test_a_disabled_test_leaves_readiness_to_ready_steps():
    readiness = Readiness(ReadinessConfig(enabled=False))
    assert readiness.reason(0) is None and not readiness.due(25)
    assert readiness.summary(0) == ""


def test_a_real_probe_measures_colour_language_and_depth_of_held_out_rays():
    import math

    import numpy as np
    from small_engine import minilm_encoder, tiny_config

    from lerf_ros.cameras.intrinsics import Intrinsics
    from lerf_ros.data.synthetic.presets import default_scene
    from lerf_ros.data.synthetic.render import render_view
    from lerf_ros.data.synthetic.trajectory import orbit
    from lerf_ros.engine import LerfEngine
    from lerf_ros.features.encoders.registry import load_dense_encoder

    scene = default_scene()
    v = scene.view
    intrinsics = Intrinsics.from_fov(32, 24, math.radians(60.0))
    config = tiny_config()
    config.readiness.check_every = 1
    engine = LerfEngine(config, minilm_encoder(), load_dense_encoder("colour-patches"))
    poses = orbit(v.target, v.radius, v.height, 4, None, v.start_angle, v.arc)
    for index, pose in enumerate(poses):
        view = render_view(scene, intrinsics, pose)
        rgb = (view.rgb * 255).round().astype(np.uint8)
        depth = np.where(np.isfinite(view.depth), view.depth, 0.0).astype(np.float32)
        engine.add_frame(rgb, intrinsics, pose, float(index), force=True, depth=depth)
    engine.compute_pending_features()
    engine.train_step()
    probe = engine.trainer.readiness.last
    assert probe is not None and probe.step == 1
    assert 0 < probe.rgb_error < 1 and -1 <= probe.clip_cosine <= 1 and probe.depth_error > 0
    status = engine.status()
    assert set(status.held_out) == {"rgb_error", "clip_cosine", "depth_error"}
    assert status.message.startswith("not ready: ")
