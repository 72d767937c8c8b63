"""Two cameras into CameraInputs (the trainer's subscriptions) over DDS: each gets its own
extrinsic, a raw fisheye keeps K and its equidistant D, and an image_rect stream next to its
raw camera's CameraInfo becomes a pinhole camera with P's intrinsics."""

from __future__ import annotations

import math
import time
from types import SimpleNamespace

import numpy as np
import pytest
import rclpy
from geometry_msgs.msg import PoseStamped
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image

from lerf_ros.cameras.conventions import look_at, pose_from_translation_quaternion
from lerf_ros.data.drops import DropLedger
from lerf_ros.ros.camera_inputs import CameraInputs
from lerf_ros.ros.conversions import matrix_to_pose, rgb_to_image
from lerf_ros.ros.node_config import NodeConfig

FISHEYE_D = [0.04, -0.012, 0.003, -0.0007]
RATIONAL_D = [0.35, -0.12, 0.0008, -0.0011, 0.02, 0.62, -0.08, 0.05]
K = [30.0, 0.0, 32.5, 0.0, 31.0, 23.5, 0.0, 0.0, 1.0]
P = [28.0, 0.0, 31.0, 0.0, 0.0, 28.0, 25.0, 0.0, 0.0, 0.0, 1.0, 0.0]
EXTRINSICS = [
    [0.1, 0.0, 0.2, 0.0, 0.0, math.sin(0.3), math.cos(0.3)],
    [-0.3, 0.05, 0.0, math.sin(0.2), 0.0, 0.0, math.cos(0.2)],
]
TOPICS = {
    "image_topics": ["/fish/image_raw", "/stereo/left/image_rect"],
    "camera_info_topics": ["/fish/camera_info", "/stereo/left/camera_info"],
    "pose_topics": ["/fish/pose", "/stereo/left/pose"],
}


def camera_info(d: list[float], model: str) -> CameraInfo:
    msg = CameraInfo()
    msg.header.frame_id = "optical"
    msg.width, msg.height, msg.k, msg.p = 64, 48, K, P
    msg.d, msg.distortion_model = d, model
    return msg


def stamp_seconds(seconds: float) -> float:
    """``seconds`` as it comes back from a header stamp (whole nanoseconds)."""
    stamp = stamp_of(seconds)
    return stamp.sec + 1e-9 * stamp.nanosec


def stamp_of(seconds: float):
    msg = PoseStamped()
    msg.header.stamp.sec = int(seconds)
    msg.header.stamp.nanosec = int((seconds % 1) * 1e9)
    return msg.header.stamp


@pytest.fixture(scope="module")
def ros():
    context = Context()
    rclpy.init(context=context)
    node = Node("camera_inputs_probe", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    yield node, executor
    executor.shutdown()
    node.destroy_node()
    context.try_shutdown()


def inputs_for(node: Node, frames: list, **fields) -> CameraInputs:
    params = SimpleNamespace(**{**vars(NodeConfig(**TOPICS)), **fields})
    groups = {"input_group": None, "pose_group": None, "on_drop": lambda *_: None}
    return CameraInputs(node, params, DropLedger(), frames.extend, **groups)


def test_bad_extrinsic_lengths_are_refused(ros):
    node, _ = ros
    with pytest.raises(ValueError, match=r"extrinsic must hold 7 or 14 numbers .* got 21"):
        inputs_for(node, [], extrinsic=EXTRINSICS[0] * 3)


def test_each_camera_gets_its_extrinsic_and_its_camera_model(ros):
    node, executor = ros
    frames: list = []
    inputs = inputs_for(node, frames, extrinsic=EXTRINSICS[0] + EXTRINSICS[1])
    publishers = {
        name: [node.create_publisher(kind, topic, 10) for topic in TOPICS[key]]
        for name, kind, key in (
            ("info", CameraInfo, "camera_info_topics"),
            ("pose", PoseStamped, "pose_topics"),
            ("image", Image, "image_topics"),
        )
    }
    infos = [camera_info(FISHEYE_D, "equidistant"), camera_info(RATIONAL_D, "rational_polynomial")]
    poses = [look_at([1.0, 2.0, 1.0], [0.0, 0.0, 0.0]), look_at([-1.0, 0.5, 2.0], [0.3, 0, 0])]
    now = time.time()
    deadline = time.monotonic() + 15.0

    def spin_until(done) -> bool:
        while time.monotonic() < deadline and not done():
            executor.spin_once(timeout_sec=0.05)
        return done()

    states = list(inputs.sync.cameras.values())

    def calibrated() -> bool:
        for publisher, msg in zip(publishers["info"], infos, strict=True):
            publisher.publish(msg)
        return all(state.intrinsics is not None for state in states)

    assert spin_until(calibrated), "camera info never arrived"
    # Poses either side of the image stamp: the image is matched to them.
    for stamp in (now - 0.02, now):
        for publisher, c2w in zip(publishers["pose"], poses, strict=True):
            msg = PoseStamped(pose=matrix_to_pose(c2w))
            msg.header.frame_id, msg.header.stamp = "map", stamp_of(stamp)
            publisher.publish(msg)
    last_pose = stamp_seconds(now)
    assert spin_until(lambda: all(s.poses.latest == last_pose for s in states)), "no poses"
    rgb = np.zeros((48, 64, 3), np.uint8)
    for publisher in publishers["image"]:
        publisher.publish(rgb_to_image(rgb, "optical", stamp_of(now - 0.01)))

    def delivered() -> bool:
        inputs.match()
        return len({frame.camera for frame in frames}) == 2

    assert spin_until(delivered), f"frames of {sorted({f.camera for f in frames})} only"
    by_camera = {frame.camera: frame for frame in frames}
    for index, name in enumerate(("camera0", "camera1")):
        e = EXTRINSICS[index]
        expected = poses[index] @ pose_from_translation_quaternion(e[:3], e[3:])
        np.testing.assert_allclose(by_camera[name].pose, expected, atol=1e-6)
    fisheye, rectified = by_camera["camera0"].intrinsics, by_camera["camera1"].intrinsics
    assert fisheye.distortion_model == "equidistant" and fisheye.distortion == tuple(FISHEYE_D)
    assert (fisheye.fx, fisheye.fy, fisheye.cx, fisheye.cy) == (30.0, 31.0, 32.5, 23.5)
    assert not rectified.has_distortion
    assert (rectified.fx, rectified.fy, rectified.cx, rectified.cy) == (28.0, 28.0, 31.0, 25.0)
