"""A checkpoint payload is a copy: training after the model lock is released cannot change it
(a payload that referenced the live weights and Adam moments no longer matched its digest)."""

from __future__ import annotations

import numpy as np
import torch
from small_engine import minilm_encoder, tiny_config

from lerf_ros.cameras.conventions import look_at
from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.engine import LerfEngine
from lerf_ros.engine.checkpoint_state import build_payload, detached_copy, field_copy
from lerf_ros.training.checkpoint import payload_digest

INTRINSICS = Intrinsics(16, 12, 14.0, 14.0, 8.0, 6.0)


def trained_engine(steps: int = 2) -> LerfEngine:
    torch.manual_seed(0)
    engine = LerfEngine(tiny_config(), minilm_encoder(), None)
    rng = np.random.default_rng(0)
    for index in range(3):
        angle = 2 * np.pi * index / 3
        image = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
        pose = look_at((np.cos(angle), np.sin(angle), 0.5), (0, 0, 0.3))
        engine.add_frame(image, INTRINSICS, pose, index, force=True)
    engine.compute_pending_features()
    for _ in range(steps):
        engine.train_step()
    return engine


def test_detached_copy_copies_every_tensor_and_keeps_the_structure():
    live = torch.ones(3)
    value = {"a": [live, (live, 2)], "b": "text", 3: {"c": live}}
    copied = detached_copy(value)
    live += 1
    assert copied["a"][0].tolist() == [1.0, 1.0, 1.0]
    assert isinstance(copied["a"][1], tuple) and copied["a"][1][1] == 2
    assert copied["b"] == "text" and copied[3]["c"].tolist() == [1.0, 1.0, 1.0]


def test_training_after_the_payload_was_built_does_not_change_it():
    engine = trained_engine()
    with engine.model_lock:
        field = field_copy(engine.trainer)
    payload = build_payload(field, engine.keyframes.snapshot(), engine.identity, engine.frame_id)
    digest = payload_digest(payload)
    for _ in range(3):
        assert engine.train_step() is not None  # moves every weight and Adam moment
    assert payload_digest(payload) == digest
    live = engine.trainer.model.state_dict()
    changed = [k for k, v in payload["model"].items() if not torch.equal(v, live[k].cpu())]
    assert changed, "training moved no weight: the test would not see an aliased payload"


def test_keyframes_keep_their_lens_model_through_a_checkpoint():
    from lerf_ros.engine.checkpoint_state import keyframe_from_dict, keyframe_to_dict
    from lerf_ros.training.keyframe_store import Keyframe

    for intrinsics in (
        Intrinsics(16, 12, 14.0, 14.0, 8.0, 6.0, (0.1, -0.02, 0.001, 0.0), "equidistant"),
        Intrinsics(
            16,
            12,
            14.0,
            14.0,
            8.0,
            6.0,
            (0.1, -0.02, 0.0, 0.0, 0.01, 0.2, 0.0, 0.01),
            "rational_polynomial",
        ),
    ):
        frame = Keyframe(
            id=3,
            image=torch.zeros(12, 16, 3, dtype=torch.uint8),
            intrinsics=intrinsics,
            c2w=look_at((1.0, 0.0, 0.5), (0, 0, 0.3)),
        )
        back = keyframe_from_dict(keyframe_to_dict(frame), torch.device("cpu"))
        assert back.intrinsics == intrinsics


def test_checkpoints_from_before_the_lens_model_load_as_plumb_bob():
    from lerf_ros.engine.checkpoint_state import keyframe_from_dict, keyframe_to_dict
    from lerf_ros.training.keyframe_store import Keyframe

    frame = Keyframe(
        id=1,
        image=torch.zeros(12, 16, 3, dtype=torch.uint8),
        intrinsics=Intrinsics(16, 12, 14.0, 14.0, 8.0, 6.0, (0.1, 0.0, 0.0, 0.0)),
        c2w=look_at((1.0, 0.0, 0.5), (0, 0, 0.3)),
    )
    data = keyframe_to_dict(frame)
    data["intrinsics"] = data["intrinsics"][:7]
    back = keyframe_from_dict(data, torch.device("cpu"))
    assert back.intrinsics.distortion_model == "plumb_bob"
    assert back.intrinsics.distortion == (0.1, 0.0, 0.0, 0.0)
