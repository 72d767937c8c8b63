"""Poses stamped in the future must not jam the real node (issue: 2,400 valid poses 70 s to
3,500 s ahead pushed every real pose out of the 2,000-pose buffer; afterwards 548 of 550 real
frames were dropped as unmatched, for up to an hour).

Through the real ``lerf_trainer`` over DDS: flood its pose topic with 2,400 such poses, then
stream real frames; every real frame must be matched (and become a keyframe: each moves the
camera 10 cm) and the flood must be counted as "pose stamp in the future" drops.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import rclpy
from geometry_msgs.msg import PoseStamped
from online_helpers import DEMO_PARAMS
from rclpy.context import Context
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.ros.bringup import start_trainer
from lerf_ros.ros.client import TrainerClient
from lerf_ros.ros.conversions import intrinsics_to_camera_info, matrix_to_pose, rgb_to_image

INTRINSICS = Intrinsics(64, 48, 50.0, 50.0, 32.0, 24.0)
FUTURE_POSES = 3000
"""Well over the 2,000 poses the buffer holds (without the fix they filled it), so that more
than 2,000 reach the node even when best effort loses some on the way."""
REAL_FRAMES = 20
BATCH = 25
"""Future poses published back to back, then a pause: the node's pose subscription is best
effort with a queue of 100, and a flood faster than its callback drops messages unseen (the
test wants most of them in the buffer's way). Batches of 50 lost 531 of 2,400 on a clean CI
run, right after the engine had loaded."""


def stamp(seconds: float):
    from builtin_interfaces.msg import Time

    return Time(sec=int(seconds), nanosec=int((seconds % 1) * 1e9))


def pose_msg(t: float, x: float = 0.0) -> PoseStamped:
    matrix = np.eye(4)
    matrix[0, 3] = x
    msg = PoseStamped()
    msg.header.frame_id = "map"
    msg.header.stamp = stamp(t)
    msg.pose = matrix_to_pose(matrix)
    return msg


def fresh_status(client):
    """The next ``~/status`` (1 Hz) after this call."""
    seen = client.last_status
    assert client.wait_until(lambda: client.last_status is not seen, 5)
    return client.last_status


@pytest.fixture
def node_and_publishers(tmp_path):
    trainer = start_trainer(
        DEMO_PARAMS, {"pose_wait": 0.3}, node_name="lerf_trainer", log_path=tmp_path / "node.log"
    )
    client = TrainerClient("/lerf_trainer", "future_poses_client")
    context = Context()
    rclpy.init(context=context)
    pub_node = Node("future_poses_publisher", context=context)
    try:
        assert client.wait_for_services(60), trainer.log()
        pubs = {
            "image": pub_node.create_publisher(Image, "/camera/image_raw", 10),
            "info": pub_node.create_publisher(CameraInfo, "/camera/camera_info", 10),
            "pose": pub_node.create_publisher(PoseStamped, "/camera/pose", 100),
        }
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not all(
            p.get_subscription_count() > 0 for p in pubs.values()
        ):
            time.sleep(0.1)
        yield trainer, client, pubs
    finally:
        pub_node.destroy_node()
        context.try_shutdown()
        client.close()
        trainer.stop()


def test_a_flood_of_future_poses_is_dropped_and_real_frames_still_match(node_and_publishers):
    trainer, client, pubs = node_and_publishers
    # The engine up first, so that the real frames below can become keyframes.
    assert client.wait_until(
        lambda: (
            client.last_status is not None
            and client.last_status.message != "not ready: loading encoders"
        ),
        60,
    ), trainer.log()[-2000:]
    before = fresh_status(client)

    now = time.time()
    for index, ahead in enumerate(np.linspace(70.0, 3500.0, FUTURE_POSES)):
        pubs["pose"].publish(pose_msg(now + float(ahead), x=-5.0))
        if index % BATCH == BATCH - 1:
            time.sleep(0.1)
    client.spin_for(1.0)  # the last batch handled
    flooded = fresh_status(client)
    dropped = flooded.frames_dropped - before.frames_dropped
    # All counted (no image was sent: every drop here is a pose). Best effort may lose a few
    # on the way; most must have reached the node, or this test would not test the buffer.
    assert 2000 < dropped <= FUTURE_POSES, (dropped, trainer.log()[-2000:])
    assert flooded.frames_received == before.frames_received
    assert "dropped frame: pose stamp in the future" in trainer.log()

    pubs["info"].publish(intrinsics_to_camera_info(INTRINSICS, "camera_optical", stamp(1.0)))
    client.spin_for(0.3)
    rng = np.random.default_rng(0)
    for index in range(REAL_FRAMES):
        t = time.time()
        pubs["pose"].publish(pose_msg(t, x=0.1 * index))
        rgb = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        pubs["image"].publish(rgb_to_image(rgb, "camera_optical", stamp(t)))
        if index == 0:
            # The first keyframe builds the model inside the image callback (seconds on two
            # cores): frames sent meanwhile overflow the best-effort image queue unseen.
            client.wait_until(
                lambda: client.last_status.frames_received > flooded.frames_received, 20
            )
        client.spin_for(0.3)
    # Frames are counted once the engine took them (keyframes cost it a little each).
    client.wait_until(
        lambda: client.last_status.frames_received - flooded.frames_received >= REAL_FRAMES, 20
    )
    after = fresh_status(client)
    received = after.frames_received - flooded.frames_received
    # Best effort: with training hogging the cores, a few images can be lost on the way
    # (never counted). Before the fix nearly every frame that arrived was dropped.
    assert received >= REAL_FRAMES // 2, (received, trainer.log()[-2000:])
    # None of them dropped (before the fix: nearly all, as "no pose for stamp")...
    assert after.frames_dropped == flooded.frames_dropped, trainer.log()[-2000:]
    assert "no pose for stamp" not in trainer.log()
    # ...and every one a keyframe: matched with its own pose (10 cm apart), not a stale one.
    assert after.keyframes - before.keyframes == received, (after.keyframes, received)
    assert trainer.alive(), trainer.log()[-2000:]
