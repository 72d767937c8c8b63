"""Property-based tests of frame validation (``validate_frame`` / ``LerfEngine.add_frame``):
NaN/inf/non-orthonormal poses, zero/NaN intrinsics, wrong image shapes and dtypes are counted
drops naming the problem, never exceptions, and what is accepted trains to finite losses."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from small_engine import minilm_encoder, tiny_config

from lerf_ros.cameras.conventions import look_at
from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.engine import MAX_POSITION, LerfEngine, validate_frame
from lerf_ros.training.config import LerfConfig

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
W, H = 16, 12
GOOD_INTRINSICS = Intrinsics(W, H, 14.0, 14.0, 8.0, 6.0)
GOOD_POSE = look_at((1.0, 0.0, 0.5), (0.0, 0.0, 0.3))


def good_image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)


wild_float = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, -1.0, 1e300, math.nan, math.inf]),
)
small_float = st.floats(-10.0, 10.0)


@st.composite
def intrinsics(draw):
    """Valid, nearly valid and broken calibrations (or something that is not one at all)."""
    kind = draw(st.sampled_from(["good", "wild", "size", "distortion", "not intrinsics"]))
    if kind == "good":
        return GOOD_INTRINSICS
    if kind == "not intrinsics":
        return draw(st.sampled_from([None, (W, H, 14.0, 14.0, 8.0, 6.0), "camera_info"]))
    width, height, fx, fy, cx, cy = W, H, 14.0, 14.0, 8.0, 6.0
    distortion: tuple[float, ...] = ()
    if kind == "wild":
        fx, fy, cx, cy = (draw(wild_float) for _ in range(4))
    elif kind == "size":
        width, height = draw(st.integers(-5, 40)), draw(st.integers(-5, 40))
    else:
        distortion = tuple(draw(st.lists(wild_float, max_size=8)))
    return Intrinsics(width, height, fx, fy, cx, cy, distortion)


def rotation(draw) -> np.ndarray:
    q = np.array([draw(st.floats(-1, 1)) for _ in range(4)])
    assume(np.linalg.norm(q) > 1e-3)
    from lerf_ros.cameras.conventions import pose_from_translation_quaternion

    return pose_from_translation_quaternion((0.0, 0.0, 0.0), q / np.linalg.norm(q))[:3, :3]


@st.composite
def poses(draw):
    """Rigid poses, perturbed ones (scaled, sheared, reflected, NaN/inf entries, far away)
    and arrays of the wrong shape or type."""
    kind = draw(
        st.sampled_from(
            ["rigid", "far", "perturbed", "reflected", "non-finite", "last row", "shape", "junk"]
        )
    )
    pose = np.eye(4)
    if kind in ("rigid", "far", "perturbed", "reflected", "non-finite", "last row"):
        pose[:3, :3] = rotation(draw)
        pose[:3, 3] = [draw(small_float) for _ in range(3)]
    if kind == "far":
        pose[:3, 3] *= draw(st.sampled_from([1e4, 1e5, 1e6, 1e20, 1e39, 1e300]))
    elif kind == "perturbed":
        pose[:3, :3] += draw(hnp.arrays(np.float64, (3, 3), elements=st.floats(-0.5, 0.5)))
    elif kind == "reflected":
        pose[:3, 0] *= -1
    elif kind == "non-finite":
        pose[draw(st.integers(0, 3)), draw(st.integers(0, 3))] = draw(
            st.sampled_from([math.nan, math.inf, -math.inf])
        )
    elif kind == "last row":
        pose[3, draw(st.integers(0, 3))] += draw(st.sampled_from([1e-3, 1.0, -1.0]))
    elif kind == "shape":
        return draw(
            hnp.arrays(
                np.float64, st.sampled_from([(3, 4), (4, 3), (16,), (4, 4, 1), (0,), ()]),
                elements=small_float,
            )
        )  # fmt: skip
    elif kind == "junk":
        return draw(st.sampled_from([None, "identity", [[1, 2], [3]], {"x": 1}, object()]))
    return pose


@st.composite
def images(draw):
    """Right-sized uint8 RGB images, and wrong sizes, dtypes and channel counts."""
    kind = draw(st.sampled_from(["good", "size", "dtype", "channels", "junk"]))
    if kind == "good":
        return good_image(draw(st.integers(0, 3)))
    if kind == "size":
        shape = (draw(st.integers(0, 20)), draw(st.integers(0, 20)), 3)
        return np.zeros(shape, np.uint8)
    if kind == "dtype":
        dtype = draw(st.sampled_from([np.float32, np.float64, np.uint16, np.int8, bool]))
        return np.zeros((H, W, 3), dtype)
    if kind == "channels":
        shape = draw(st.sampled_from([(H, W), (H, W, 1), (H, W, 4), (H, W, 3, 1), (3, H, W)]))
        return np.zeros(shape, np.uint8)
    return draw(st.sampled_from([None, b"\x00" * (H * W * 3), [[0] * 3] * (H * W)]))


def check_accepted(image, camera, pose) -> None:
    assert isinstance(camera, Intrinsics)
    camera.validate()
    assert image.dtype == np.uint8 and image.shape == (camera.height, camera.width, 3)
    assert pose.shape == (4, 4) and pose.dtype == np.float64 and np.isfinite(pose).all()
    assert np.allclose(pose[:3, :3].T @ pose[:3, :3], np.eye(3), atol=1e-3)
    assert np.linalg.det(pose[:3, :3]) > 0.99
    assert np.abs(pose[:3, 3]).max() <= MAX_POSITION


@SETTINGS
@given(image=images(), camera=intrinsics(), c2w=poses())
@example(good_image(), GOOD_INTRINSICS, GOOD_POSE)
@example(good_image(), Intrinsics(W, H, 0.0, 0.0, 8.0, 6.0), GOOD_POSE)
@example(good_image(), Intrinsics(W, H, math.nan, 14.0, 8.0, 6.0), GOOD_POSE)
@example(good_image(), GOOD_INTRINSICS, np.full((4, 4), math.nan))
@example(good_image(), GOOD_INTRINSICS, np.diag([1.0, 1.0, 2.0, 1.0]))
@example(np.zeros((H + 1, W, 3), np.uint8), GOOD_INTRINSICS, GOOD_POSE)
def test_validate_frame_raises_value_error_or_returns_a_rigid_pose(image, camera, c2w):
    try:
        pose = validate_frame(image, camera, c2w)
    except ValueError as error:
        assert str(error) and "\n" not in str(error)
        return
    check_accepted(image, camera, pose)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: steadier than two on a shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def engine():
    config = LerfConfig.cpu()
    config.device = "cpu"
    config.keyframes.max_keyframes = 8
    return LerfEngine(config, minilm_encoder(), None)


@SETTINGS
@given(
    image=images(),
    camera=intrinsics(),
    c2w=poses(),
    stamp=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5)),
    force=st.booleans(),
)
@example(good_image(), GOOD_INTRINSICS, GOOD_POSE, math.nan, True)
@example(good_image(), GOOD_INTRINSICS, GOOD_POSE, math.inf, False)
def test_add_frame_never_raises_and_counts_every_invalid_frame(
    engine, image, camera, c2w, stamp, force
):
    received, dropped = engine.drops.frames_received, engine.drops.frames_dropped
    decision = engine.add_frame(image, camera, c2w, stamp, force=force)
    assert engine.drops.frames_received == received + 1
    invalid = decision.reason.startswith("invalid frame: ")
    assert engine.drops.frames_dropped == dropped + int(invalid)
    if invalid:
        assert not decision.accepted and "\n" not in decision.reason
    else:
        check_accepted(image, camera, validate_frame(image, camera, c2w))
        assert math.isfinite(stamp)
    for keyframe in engine.keyframes.snapshot():
        assert np.isfinite(keyframe.c2w).all() and math.isfinite(keyframe.stamp)
        assert np.abs(keyframe.c2w[:3, 3]).max() <= MAX_POSITION
    assert len(engine.keyframes.snapshot()) <= engine.config.keyframes.max_keyframes


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    camera=st.one_of(
        st.just(GOOD_INTRINSICS),
        st.builds(
            Intrinsics,
            st.just(W),
            st.just(H),
            st.sampled_from([1e-6, 1e-2, 1e4, 1e9]),
            st.sampled_from([1e-6, 14.0, 1e9]),
            st.sampled_from([-W, 0.0, 2.0 * W]),
            st.sampled_from([-H, 0.0, 2.0 * H]),
            st.sampled_from([(), (1e3, -1e3, 0.5, -0.5), (-5.0, 0.0, 0.0, 0.0, 50.0)]),
        ),
    ),
    far=st.sampled_from([0.0, 1e3, MAX_POSITION - 1.0]),
)
@example(GOOD_INTRINSICS, MAX_POSITION - 1.0)
def test_the_most_extreme_accepted_frames_train_to_finite_weights(camera, far):
    """What validation lets through must not poison training: before MAX_POSITION existed, a
    camera beyond float32's range (1e39 m) was accepted and every later step failed."""
    torch.manual_seed(0)
    engine = LerfEngine(tiny_config(), minilm_encoder(), None)
    for index, eye in enumerate([(1.0, 0.0, 0.5), (0.0, 1.0, 0.5), (-1.0, 0.0, 0.5)]):
        decision = engine.add_frame(
            good_image(index), GOOD_INTRINSICS, look_at(eye, (0, 0, 0.3)), index, force=True
        )
        assert decision.accepted
    extreme = look_at((0.5, 0.5, 0.5), (0, 0, 0.3))
    extreme[:3, 3] += far
    decision = engine.add_frame(good_image(9), camera, extreme, 10.0, force=True)
    assert decision.accepted, decision
    for _ in range(2):
        stats = engine.train_step()
        assert stats is not None and math.isfinite(stats.loss)
    for parameter in engine.trainer.model.parameters():
        assert torch.isfinite(parameter).all()
