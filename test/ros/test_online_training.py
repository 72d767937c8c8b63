"""The real node trains online from a live synthetic stream and answers over DDS.

Three processes: ``lerf_trainer`` (config/demo.yaml: CPU preset, download-free test
encoders), ``lerf-ros stream`` (a synthetic room, looping), and this test as the client.
"""

from __future__ import annotations

import pytest
from online_helpers import (
    DEMO_PARAMS,
    READY_TIMEOUT,
    MarkerListener,
    explain_answer,
    inside,
    object_boxes,
)
from visualization_msgs.msg import Marker

from lerf_ros.ros.bringup import start_cli, start_trainer
from lerf_ros.ros.client import TrainerClient
from lerf_ros.ros.markers import NAMESPACES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def online(tmp_path_factory):
    logs = tmp_path_factory.mktemp("online")
    trainer = start_trainer(DEMO_PARAMS, log_path=logs / "trainer.log")
    stream = start_cli(["stream", "--scene", "default", "--loop"], logs / "stream.log")
    client = TrainerClient("/lerf_trainer", "online_test_client")
    markers = MarkerListener(client)
    yield trainer, client, markers
    client.close()
    stream.stop()
    trainer.stop()


def test_status_goes_from_not_ready_to_ready(online):
    trainer, client, _ = online
    assert client.wait_for_services(timeout=60), trainer.log()[-3000:]
    assert client.wait_until(lambda: client.last_status is not None, timeout=30)
    assert client.status_history[0].ready is False
    early = client.query("red ball")
    assert early.success is False and "not ready" in early.message
    assert client.wait_until_ready(timeout=READY_TIMEOUT), trainer.log()[-3000:]
    status = client.last_status
    assert status.state == "training" and status.keyframes > 0 and status.step > 0
    assert status.frames_received > status.keyframes


def test_every_object_is_found_inside_its_box_while_training_continues(online):
    trainer, client, _ = online
    assert client.wait_until_ready(timeout=READY_TIMEOUT), trainer.log()[-3000:]
    step_before = client.last_status.step
    for name, box in object_boxes().items():
        response = client.query(name, return_cloud=True)
        assert response.success, response.message
        assert response.frame_id == "map"
        assert response.peaks, explain_answer(client, name, response) + trainer.log()[-3000:]
        best = response.peaks[0]
        assert inside(best.position, box), (name, best.position, box)
        assert response.cloud.width > 0 and response.cloud.header.frame_id == "map"
        assert [f.name for f in response.cloud.fields] == ["x", "y", "z", "relevancy"]
    client.spin_for(2.5)
    assert client.last_status.step > step_before, "training stopped while serving queries"


def test_get_targets_returns_poses_in_the_fixed_frame_and_markers(online):
    trainer, client, markers = online
    assert client.wait_until_ready(timeout=READY_TIMEOUT), trainer.log()[-3000:]
    before = len(markers.arrays)
    # The first get_targets imports open3d and plans against a field that keeps training on
    # the same two cores: allow minutes, not seconds.
    response = client.get_targets("blue box", timeout=300)
    assert response.success, response.message
    assert response.navigation_goals and response.peaks
    box = object_boxes()["blue box"]
    assert inside(response.peaks[0].position, box)
    for pose in [*response.grasp_poses, *response.navigation_goals]:
        assert pose.header.frame_id == "map"
    assert len(response.grasp_scores) == len(response.grasp_poses)
    goal = response.navigation_goals[0].pose.position
    assert abs(goal.z) < 0.1, "navigation goal must be on the floor"
    assert client.wait_until(lambda: len(markers.arrays) > before, timeout=10)
    array = markers.arrays[-1]
    assert array.markers[0].action == Marker.DELETEALL
    drawn = array.markers[1:]
    assert drawn and {m.header.frame_id for m in drawn} == {"map"}
    assert {m.ns for m in drawn} <= set(NAMESPACES)
    assert {"peaks", "navigation_goals"} <= {m.ns for m in drawn}
    types = {m.ns: m.type for m in drawn}
    assert types["peaks"] == Marker.SPHERE and types["navigation_goals"] == Marker.ARROW
