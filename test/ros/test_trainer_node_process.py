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
        response = client.query("red ball", timeout=120)
        assert isinstance(response, Query.Response)
        assert response.success is False
        assert "not ready" in response.message
        assert response.elapsed_seconds >= 0.0
        # ~/status is published at 1 Hz and says the same.
        assert client.wait_until(lambda: client.last_status is not None, timeout=10)
        assert client.last_status.ready is False
    assert trainer.alive(), trainer.log()
