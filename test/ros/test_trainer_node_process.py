"""A real ``lerf_trainer`` in its own process answers ``~/query`` over DDS."""

from __future__ import annotations

import pytest

from lerf_ros.ros.bringup import REPO_CONFIG, start_trainer
from lerf_ros.ros.client import TrainerClient
from lerf_ros.srv import Query


@pytest.fixture
def trainer(tmp_path):
    # The download-free encoders: with the default OpenCLIP weights missing offline, the node
    # would answer "engine failed to start" instead (test_node_faults covers that).
    node = start_trainer(
        REPO_CONFIG.parent / "demo.yaml",
        node_name="lerf_trainer_empty",
        log_path=tmp_path / "node.log",
    )
    yield node
    node.stop()


def test_query_before_any_frame_answers_not_ready(trainer):
    with TrainerClient("/lerf_trainer_empty") as client:
        assert client.wait_for_services(timeout=30), trainer.log()
        # Once the engine is built (demo.yaml's encoders, under this node name too: CI once
        # got the default OpenCLIP here because demo.yaml was keyed 'lerf_trainer:'), it is the
        # engine that says "not ready", not the loading node.
        assert client.wait_until(
            lambda: (
                client.last_status is not None
                and "loading encoders" not in client.last_status.message
            ),
            timeout=60,
        ), trainer.log()
        assert client.last_status.state != "error", client.last_status.message
        response = client.query("red ball", timeout=120)
        assert isinstance(response, Query.Response)
        assert response.success is False
        assert "not ready" in response.message
        assert response.elapsed_seconds >= 0.0
        # ~/status is published at 1 Hz and says the same.
        assert client.wait_until(lambda: client.last_status is not None, timeout=10)
        assert client.last_status.ready is False
    assert trainer.alive(), trainer.log()


def test_a_parameter_file_keyed_for_another_name_is_warned_about(tmp_path):
    keyed = tmp_path / "keyed.yaml"
    keyed.write_text("lerf_trainer:\n  ros__parameters:\n    torch_threads: 1\n")
    light = {"encoder": "colour-minilm", "dino": "none", "device": "cpu", "preset": "cpu"}
    node = start_trainer(
        keyed, light, node_name="lerf_trainer_renamed", log_path=tmp_path / "n.log"
    )
    try:
        with TrainerClient("/lerf_trainer_renamed") as client:
            assert client.wait_for_services(timeout=30), node.log()
            client.wait_until(lambda: "has no section for node" in node.log(), timeout=20)
        assert f"parameter file {keyed} has no section for node /lerf_trainer_renamed" in node.log()
        assert node.alive(), node.log()
    finally:
        node.stop()
