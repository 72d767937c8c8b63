"""The real node trains online from a live synthetic stream and answers over DDS.

Three processes: ``lerf_trainer`` (config/demo.yaml: CPU preset, download-free test
encoders), ``lerf-ros stream`` (a synthetic room, looping), and this test as the client; the
last tests run the ``lerf-ros status | ask | save | load`` commands against the same node.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from geometry_msgs.msg import Point
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
from lerf_ros.srv import GetTargets

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def online(tmp_path_factory):
    logs = tmp_path_factory.mktemp("online")
    (logs / "checkpoints").mkdir()
    checkpoint = {"checkpoint_path": str(logs / "checkpoints" / "field.pt")}
    trainer = start_trainer(DEMO_PARAMS, checkpoint, log_path=logs / "trainer.log")
    stream = start_cli(["stream", "--scene", "default", "--loop"], logs / "stream.log")
    client = TrainerClient("/lerf_trainer", "online_test_client")
    markers = MarkerListener(client)
    client.checkpoints = logs / "checkpoints"
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
    early_targets = client.get_targets("red ball")
    assert early_targets.success is False and "not ready" in early_targets.message
    assert early_targets.error_code == GetTargets.Response.NOT_READY
    assert early_targets.header.frame_id == "map"
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
    assert_structured_targets(response)
    empty = client.get_targets("", timeout=60)
    assert not empty.success and empty.error_code == GetTargets.Response.INVALID_REQUEST
    assert "empty" in empty.message and empty.header.frame_id == "map"
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


def assert_structured_targets(response) -> None:
    """Structured grasps and goals: complete, in range, and the parallel arrays agree."""
    assert response.error_code == GetTargets.Response.SUCCESS
    assert response.header.frame_id == "map"
    assert response.grasps, response.message
    assert response.goals and len(response.goals) == len(response.navigation_goals)
    assert len(response.grasps) == len(response.grasp_poses)
    for grasp, pose, score in zip(
        response.grasps, response.grasp_poses, response.grasp_scores, strict=True
    ):
        assert grasp.pose == pose and grasp.score == score
        assert grasp.pose.header.frame_id == grasp.pre_grasp_pose.header.frame_id == "map"
        approach = grasp.approach
        assert math.isclose(math.hypot(approach.x, approach.y, approach.z), 1.0, abs_tol=1e-4)
        assert grasp.kind in (grasp.KIND_TOP, grasp.KIND_SIDE)
        assert grasp.width > 0 and 0.0 <= grasp.score <= 1.0
        assert grasp.peak < len(response.peaks)
        # the pre-grasp pose lies back along -approach, same orientation
        a, b = grasp.pose.pose.position, grasp.pre_grasp_pose.pose.position
        back = (a.x - b.x, a.y - b.y, a.z - b.z)
        along = back[0] * approach.x + back[1] * approach.y + back[2] * approach.z
        assert along > 0.01 and math.isclose(along, math.hypot(*back), rel_tol=1e-3)
        assert grasp.pre_grasp_pose.pose.orientation == grasp.pose.pose.orientation
    for goal, pose in zip(response.goals, response.navigation_goals, strict=True):
        assert goal.pose == pose and goal.pose.header.frame_id == "map"
        assert goal.distance > 0 and 0.0 <= goal.visibility <= 1.0
        assert 0.0 <= goal.score <= goal.visibility + 1e-6  # relevancy x visibility


def lerf_ros(*args, timeout: float = 240) -> subprocess.CompletedProcess:
    """The real ``lerf-ros`` command, as a user runs it (same ROS_DOMAIN_ID as this test)."""
    return subprocess.run(
        [sys.executable, "-m", "lerf_ros.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_checkpoint_names_are_confined_to_the_checkpoint_directory(online):
    trainer, client, _ = online
    assert client.wait_until_ready(timeout=READY_TIMEOUT), trainer.log()[-3000:]
    folder = client.checkpoints
    outside = folder.parent / "escaped.pt"
    for name in ("../escaped", str(outside), "/etc/lerf_escape.pt"):
        for call in (client.save, client.load):
            response = call(name, timeout=120)
            assert not response.success and "refused" in response.message, (name, response)
            assert response.path == ""
    assert not outside.exists()
    saved = client.save("kitchen", timeout=120)
    assert saved.success, saved.message
    assert saved.path == str((folder / "kitchen.pt").resolve()) and (folder / "kitchen.pt").exists()
    loaded = client.load("kitchen", timeout=120)
    assert loaded.success and loaded.path == saved.path, loaded.message
    missing = client.load("nothing_here", timeout=60)
    assert not missing.success and "nothing_here" in missing.message


def test_lerf_ros_status_ask_save_and_load_against_the_node(online):
    trainer, client, _ = online
    assert client.wait_until_ready(timeout=READY_TIMEOUT), trainer.log()[-3000:]
    status = lerf_ros("status", "--once", "--timeout", 30)
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("state=training ready=yes step=")
    assert len(status.stdout.splitlines()) == 1

    ask = lerf_ros("ask", "blue box", "--targets", "--json", "--timeout", 200)
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    assert answer["success"] and answer["error_code"] == "SUCCESS" and answer["frame_id"] == "map"
    best = Point(**dict(zip("xyz", answer["peaks"][0]["position"], strict=True)))
    assert inside(best, object_boxes()["blue box"]), answer["peaks"]
    assert answer["grasps"] and answer["goals"]
    assert {g["kind"] for g in answer["grasps"]} <= {"top", "side"}
    assert all(g["width"] > 0 and "pre_grasp_pose" in g for g in answer["grasps"])
    assert all({"distance", "visibility", "yaw"} <= set(g) for g in answer["goals"])

    table = lerf_ros("ask", "blue box", "--timeout", 120)
    assert table.returncode == 0, table.stderr
    assert "peaks:" in table.stdout and "relevancy" in table.stdout

    saved = lerf_ros("save", "from_cli", "--timeout", 120)
    assert saved.returncode == 0, saved.stderr
    assert (client.checkpoints / "from_cli.pt").exists(), saved.stdout
    loaded = lerf_ros("load", "from_cli", "--timeout", 120)
    assert loaded.returncode == 0 and "loaded" in loaded.stdout, loaded.stderr
    refused = lerf_ros("save", "../from_cli", "--timeout", 60)
    assert refused.returncode == 3 and "'..'" in refused.stderr, refused
    assert not (client.checkpoints.parent / "from_cli.pt").exists()
