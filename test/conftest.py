"""Suite-wide settings (DDS on loopback with a domain id unique to this test session) and the
session-wide LERF trained on the synthetic scene (``trained_synthetic_engine``)."""

from __future__ import annotations

import json
import os
import random

import pytest

# Set before anything imports rclpy, and inherited by the node processes the tests start.
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


# ----------------------------------------------------------------------------------------------
# One LERF trained on the synthetic default scene, shared by the end-to-end tests of a session.

SYNTHETIC_VIEWS = 30
"""Views of the shared synthetic scene (128 x 96, an orbit around the table)."""
HOLDOUT_EVERY = 8
"""Views 0, 8, 16, 24 are held out: never added to the engine, used to test novel views."""
SYNTHETIC_STEPS = 700
"""Training steps of the shared engine (LerfConfig.cpu(), seed 0)."""
SYNTHETIC_THREADS = 1
"""torch threads while training. On a 2-core machine shared with other work one thread is
steadier: measured 0.4-0.6 s/step with one thread under load, against 0.2-10 s/step with two
(two spinning threads stall whenever another process holds a core)."""


@pytest.fixture(scope="session")
def trained_synthetic_engine(tmp_path_factory):
    """(engine, dataset, scene_json): a LerfEngine trained for SYNTHETIC_STEPS steps on the
    training views (every view but each HOLDOUT_EVERY-th) of ``make_scene_dataset``'s default
    scene, with the colour-minilm / colour-patches test encoders. Built once per session;
    tests must not add frames to it or train it further."""
    import torch

    from lerf_ros.data.datasets import load_dataset
    from lerf_ros.data.synthetic.export import make_scene_dataset
    from lerf_ros.engine import LerfEngine
    from lerf_ros.features.encoders.registry import load_dense_encoder, load_encoder
    from lerf_ros.training.config import LerfConfig

    threads = torch.get_num_threads()
    torch.set_num_threads(SYNTHETIC_THREADS)
    try:
        root = make_scene_dataset(
            tmp_path_factory.mktemp("synthetic") / "default", views=SYNTHETIC_VIEWS
        )
        dataset = load_dataset(root)
        scene = json.loads((root / "scene.json").read_text())
        config = LerfConfig.cpu()
        config.device = "cpu"
        config.trainer.seed = 0
        # The region of interest is the room, as ``lerf-ros train`` sets it from scene.json.
        config.scene.box_min = tuple(float(v) for v in dataset.scene_box.minimum)
        config.scene.box_max = tuple(float(v) for v in dataset.scene_box.maximum)
        engine = LerfEngine(
            config,
            load_encoder("colour-minilm"),
            load_dense_encoder("colour-patches"),
            frame_id=dataset.frame_id,
        )
        for index, frame in enumerate(dataset.frames):
            if index % HOLDOUT_EVERY != 0:
                decision = engine.add_frame(
                    frame.image, frame.intrinsics, frame.c2w, float(index), force=True
                )
                assert decision.accepted, decision
        engine.compute_pending_features()
        for _ in range(SYNTHETIC_STEPS):
            engine.train_step()
        assert engine.step == SYNTHETIC_STEPS and engine.ready, engine.status()
    finally:
        torch.set_num_threads(threads)
    return engine, dataset, scene


@pytest.fixture
def one_torch_thread():
    """torch on one intra-op thread for the test (restored after): on a small machine shared
    with other work, tiny ops on two threads wait on busy cores (a 40-point MLP pass measured
    25x slower). Use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
