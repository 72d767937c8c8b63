"""What a robot's other nodes see of an answer: a subscriber that starts after the answer still
gets the markers, the relevancy cloud and the navigation goal (transient-local, depth 1), the
relevancy image is in the camera's optical frame, and Nav2's ``goal_pose`` resolves in the
node's namespace.

One namespaced node (``/robot1/lerf_trainer``) resumes from the session's trained field (a
checkpoint of ``trained_synthetic_engine``, so it is ready at once) while the synthetic camera
streams a walk (other views than the checkpoint's orbit, so new keyframes of this run's camera
arrive); one ``~/get_targets`` call feeds every test.
"""

from __future__ import annotations

import pytest
from geometry_msgs.msg import PoseStamped
from online_helpers import DEMO_PARAMS, READY_TIMEOUT
from sensor_msgs.msg import Image, PointCloud2
from visualization_msgs.msg import Marker, MarkerArray

from lerf_ros.ros.bringup import _spawn, start_cli, trainer_command
from lerf_ros.ros.client import TrainerClient
from lerf_ros.ros.query_outputs import LATCHED_QOS

pytestmark = pytest.mark.slow

NAMESPACE = "/robot1"
NODE = f"{NAMESPACE}/lerf_trainer"
OPTICAL_FRAME = "camera_optical"
"""The frame id of the synthetic stream's image headers (``lerf-ros stream``)."""


@pytest.fixture(scope="module")
def answered(trained_synthetic_engine, tmp_path_factory):
    """(client, get_targets response, relevancy images received, node) after one answer."""
    engine, _, _ = trained_synthetic_engine
    logs = tmp_path_factory.mktemp("latched")
    restored = len(engine.keyframe_views())
    params = {
        "checkpoint_path": str(engine.save(logs / "trained.ckpt")),
        "resume": True,
        "publish_nav2_goal": True,
        # The synthetic room's floor is z = 0 in map: goals must not hinge on detecting it.
        "ground_height": 0.0,
    }
    command = [*trainer_command(DEMO_PARAMS, params), "-r", f"__ns:={NAMESPACE}"]
    trainer = _spawn(command, logs / "trainer.log", "lerf_trainer", None)
    stream = start_cli(
        ["stream", "--loop", "--trajectory", "walk", "--views", "12", "--supersample", "1"],
        logs / "stream.log",
    )
    client = TrainerClient(NODE, "latched_test_client")
    images: list[Image] = []
    client.node.create_subscription(Image, f"{NODE}/relevancy_image", images.append, 1)
    try:
        assert client.wait_for_services(timeout=60), trainer.log()[-3000:]
        assert client.wait_until_ready(READY_TIMEOUT), trainer.log()[-3000:]
        # The relevancy image renders the latest keyframe's view: wait for one of this run's.
        assert client.wait_until(lambda: client.last_status.keyframes > restored, timeout=120), (
            trainer.log()[-3000:]
        )
        response = client.get_targets("blue box", timeout=300)
        assert response.success, response.message
        assert response.navigation_goals, response.message
        yield client, response, images, trainer
    finally:
        client.close()
        stream.stop()
        trainer.stop()


def late_subscriber(client, msg_type, topic: str) -> list:
    """Subscribe now (after the answer) with transient-local durability; received messages."""
    received: list = []
    client.node.create_subscription(msg_type, topic, received.append, LATCHED_QOS)
    return received


def test_a_late_subscriber_gets_markers_cloud_and_goals(answered):
    client, response, _, trainer = answered
    markers = late_subscriber(client, MarkerArray, f"{NODE}/markers")
    cloud = late_subscriber(client, PointCloud2, f"{NODE}/relevancy_cloud")
    goal = late_subscriber(client, PoseStamped, f"{NODE}/nav_goal")
    nav2_goal = late_subscriber(client, PoseStamped, f"{NAMESPACE}/goal_pose")
    assert client.wait_until(lambda: markers and cloud and goal and nav2_goal, timeout=20), (
        [len(markers), len(cloud), len(goal), len(nav2_goal)],
        trainer.log()[-3000:],
    )
    client.spin_for(0.5)  # depth 1: one message each, the last answer's
    assert [len(markers), len(cloud), len(goal), len(nav2_goal)] == [1, 1, 1, 1]
    assert markers[0].markers[0].action == Marker.DELETEALL
    assert "navigation_goals" in {m.ns for m in markers[0].markers[1:]}
    assert cloud[0].width > 0 and cloud[0].header.frame_id == "map"
    best = response.navigation_goals[0]
    for received in (goal[0], nav2_goal[0]):
        assert received.header.frame_id == "map"
        assert received.pose.position == best.pose.position
        assert received.pose.orientation == best.pose.orientation


def test_nav2_goal_is_published_in_the_node_namespace_only(answered):
    client, _, _, _ = answered
    assert client.node.count_publishers(f"{NAMESPACE}/goal_pose") == 1
    assert client.node.count_publishers("/goal_pose") == 0


def test_relevancy_image_is_in_the_camera_optical_frame(answered):
    client, _, images, trainer = answered
    assert client.wait_until(lambda: images, timeout=120), trainer.log()[-3000:]
    image = images[-1]
    assert image.header.frame_id == OPTICAL_FRAME
    assert image.width > 0 and image.height > 0
    # Stamped with the rendered keyframe's image stamp (the stream's clock), not zero.
    assert image.header.stamp.sec > 0
