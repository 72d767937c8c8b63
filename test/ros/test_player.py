"""``lerf-ros play`` in a child process: a subscriber in this process receives the bag over DDS."""

from __future__ import annotations

import signal

import numpy as np
import pytest
from camera_stream_helpers import CameraListener, start_lerf_ros

from lerf_ros.cameras import pose_from_translation_quaternion
from lerf_ros.data.bags import decode, read_messages, write_bag
from lerf_ros.data.synthetic.export import make_scene_dataset
from lerf_ros.ros.conversions import pose_to_matrix

VIEWS = 10


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    root = tmp_path_factory.mktemp("player")
    scene = make_scene_dataset(root / "scene", views=VIEWS, width=48, height=32, supersample=1)
    return write_bag(scene, root / "bag", rate_hz=10.0)


@pytest.fixture
def listener():
    listener = CameraListener()
    yield listener
    listener.close()


def recorded(bag) -> tuple[dict, dict]:
    """Stamp -> rgb image and stamp -> pose matrix, as the bag holds them."""
    images, poses = {}, {}
    for topic, msgtype, timestamp, data in read_messages(bag):
        msg = decode(data, msgtype)
        if topic == "/camera/image_raw":
            images[timestamp] = np.asarray(msg.data, np.uint8).reshape(msg.height, msg.width, 3)
        elif topic == "/camera/pose":
            p, q = msg.pose.position, msg.pose.orientation
            poses[timestamp] = pose_from_translation_quaternion(
                (p.x, p.y, p.z), (q.x, q.y, q.z, q.w)
            )
    return images, poses


def test_play_delivers_the_bag(bag, listener, tmp_path):
    # Start paused, resume once this side sees the publishers: no frame is lost to discovery.
    args = ["play", str(bag), "--rate", "2", "--start-paused"]
    player = start_lerf_ros(args, tmp_path / "play.log")
    try:
        assert listener.spin_until(listener.publishers_seen, 20), player.log()
        listener.spin_until(lambda: False, 0.3)
        assert not listener.images and player.alive()  # paused: nothing published yet
        player.process.send_signal(signal.SIGUSR1)
        listener.spin_until(lambda: len(listener.images) >= VIEWS, 20)
        assert player.process.wait(timeout=10) == 0, player.log()
        listener.spin_until(lambda: len(listener.infos) >= VIEWS, 1)  # stragglers
    finally:
        player.stop()
    images, poses = recorded(bag)
    assert len(listener.images) >= 0.9 * VIEWS, player.log()
    assert len(listener.poses) >= 0.9 * VIEWS and len(listener.infos) >= 0.9 * VIEWS
    for stamp, rgb in listener.images.items():
        np.testing.assert_array_equal(rgb, images[stamp])
    for stamp, msg in listener.poses.items():
        np.testing.assert_allclose(pose_to_matrix(msg.pose), poses[stamp], atol=1e-12)
        assert msg.header.frame_id == "map"
    assert set(listener.infos) <= set(images)
    assert listener.image_frame_ids == {"camera_optical"}
    log = player.log()
    assert "skipping /tf" in log  # tf2_msgs is not installed: one warning, the rest plays
    assert f"/camera/image_raw: {VIEWS}" in log


def test_loop_repeats_until_interrupted(bag, listener, tmp_path):
    args = ["play", str(bag), "--rate", "4", "--loop", "--topics", "/camera/image_raw"]
    player = start_lerf_ros(args, tmp_path / "loop.log")
    try:
        assert listener.spin_until(lambda: listener.image_count > VIEWS + 2, 25), player.log()
        assert player.alive(), player.log()
        player.process.send_signal(signal.SIGINT)
        assert player.process.wait(timeout=10) == 0, player.log()
    finally:
        player.stop()
    assert len(listener.images) <= VIEWS < listener.image_count  # passes repeat the stamps
    assert not listener.poses  # --topics: only images were published
