"""A node whose encoder fails to load (issue 7): it stays up, says ``error`` with the reason in
``~/status`` and answers every service with ``success=false`` and that reason."""

from __future__ import annotations

from online_helpers import DEMO_PARAMS

from lerf_ros.ros.bringup import start_trainer
from lerf_ros.ros.client import TrainerClient

MISSING = "some.missing.module:Class"


def test_an_encoder_that_fails_to_load_leaves_the_node_up_and_reporting(tmp_path):
    trainer = start_trainer(
        DEMO_PARAMS, {"encoder": MISSING}, node_name="lerf_trainer", log_path=tmp_path / "n.log"
    )
    client = TrainerClient("/lerf_trainer", "node_faults_client")
    try:
        assert client.wait_for_services(60), trainer.log()
        assert client.wait_until(
            lambda: client.last_status is not None and client.last_status.state == "error", 60
        ), trainer.log()
        status = client.last_status
        assert status.message.startswith("engine failed to start")
        assert "some.missing.module" in status.message
        assert not status.ready and status.step == 0
        for call in (client.query, client.get_targets):
            response = call("red ball", timeout=30)
            assert response.success is False
            assert response.message == status.message
        client.spin_for(2.5)  # still up and still publishing the reason
        assert trainer.alive(), trainer.log()
        assert client.last_status.state == "error" and client.last_status.message == status.message
        assert "engine failed to start" in trainer.log()
    finally:
        client.close()
        trainer.stop()
