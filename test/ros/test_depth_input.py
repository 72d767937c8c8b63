"""Depth topics into a running lerf_trainer over DDS: 16UC1, 32FC1 and compressedDepth depth
reaches keyframes; a silent depth topic trains colour only (counted); every bad depth image is
a counted depth drop while its colour frame still becomes a keyframe; the node stays up.

One node process for the module (it takes a while to start) with three cameras:
``c0`` (depth as sensor_msgs/Image: every encoding and the bad cases), ``c1`` (a
``/compressedDepth`` topic) and ``c2`` (a depth topic nobody publishes)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import rclpy
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from online_helpers import DEMO_PARAMS
from rclpy.context import Context
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.bags import write_bag
from lerf_ros.data.synthetic.export import make_scene_dataset
from lerf_ros.ros.bringup import start_cli, start_trainer
from lerf_ros.ros.client import TrainerClient
from lerf_ros.ros.conversions import (
    depth_to_compressed_depth,
    depth_to_image,
    intrinsics_to_camera_info,
    matrix_to_pose,
    rgb_to_image,
)

INTRINSICS = Intrinsics(64, 48, 50.0, 50.0, 32.0, 24.0)
CAMERAS = {"c0": Image, "c1": CompressedImage, "c2": None}
"""Camera -> the type its depth is published as (None: the depth topic stays silent)."""
DEPTH_TOPICS = ["/c0/depth/image_raw", "/c1/depth/image_raw/compressedDepth", "/c2/depth"]


@pytest.fixture
def probe():
    context = Context()
    rclpy.init(context=context)
    node = Node("depth_params_probe", context=context)
    yield node
    node.destroy_node()
    context.try_shutdown()


def test_depth_parameters_are_checked_before_anything_starts(probe):
    from types import SimpleNamespace

    from lerf_ros.configuration import ConfigError
    from lerf_ros.data.drops import DropLedger
    from lerf_ros.ros.camera_inputs import CameraInputs
    from lerf_ros.ros.node_config import NodeConfig

    def inputs(**fields):
        params = SimpleNamespace(**{**vars(NodeConfig()), **fields})
        groups = {"input_group": None, "pose_group": None, "on_drop": lambda *_: None}
        return CameraInputs(probe, params, DropLedger(), lambda frames: None, **groups)

    two = {"image_topics": ["/a", "/b"], "camera_info_topics": ["/ai", "/bi"]}
    two["pose_topics"] = ["/ap", "/bp"]
    with pytest.raises(ValueError, match="depth_topics must have one topic per camera"):
        inputs(**two, depth_topics=["/ad", "/bd", "/cd"])
    with pytest.raises(ValueError, match="depth_topics must have one topic per camera"):
        inputs(depth_topics=["/ad", "/bd"])
    # The default [''] is "no depth" for any number of cameras; '' leaves one camera out.
    assert not any(c.has_depth for c in inputs(**two).sync.cameras.values())
    sync = inputs(**two, depth_topics=["", "/bd/compressedDepth"]).sync
    assert [c.has_depth for c in sync.cameras.values()] == [False, True]
    for name in ("depth_scale", "depth_max"):
        for value in (0.0, -1.0, float("nan")):
            with pytest.raises(ConfigError, match=f"{name} must be a positive number"):
                NodeConfig(**{name: value})


def test_depth_conversions_round_trip_and_honour_step_and_byte_order():
    from lerf_ros.data.depth import DepthError
    from lerf_ros.ros.conversions import compressed_depth_to_metres, depth_image_to_metres

    depth = depth_metres()
    depth[5, 5] = np.nan  # no reading, as 0 after decoding
    expected = np.nan_to_num(depth)
    for encoding in ("16UC1", "32FC1"):
        msg = depth_to_image(depth, "optical", stamp(0), encoding)
        np.testing.assert_allclose(depth_image_to_metres(msg), expected, atol=5e-4 + 1e-7)
        # Padded rows (step > width x bytes) and big-endian data decode to the same depth.
        item = 2 if encoding == "16UC1" else 4
        kind = "u2" if encoding == "16UC1" else "f4"
        little = np.frombuffer(bytes(msg.data), f"<{kind}").reshape(48, 64)
        padded = np.zeros((48, 64 * item + 6), np.uint8)
        padded[:, : 64 * item] = little.astype(f">{kind}").view(np.uint8).reshape(48, -1)
        msg.data, msg.step, msg.is_bigendian = padded.tobytes(), 64 * item + 6, True
        np.testing.assert_allclose(depth_image_to_metres(msg), expected, atol=5e-4 + 1e-7)
        packed = depth_to_compressed_depth(depth, "optical", stamp(0), encoding)
        assert packed.format == f"{encoding}; compressedDepth png"
        decoded = compressed_depth_to_metres(packed)
        assert (decoded[expected == 0] == 0).all()
        # 32FC1 is quantised inverse depth (depth_quantization 100), truncated: a step is
        # d^2 / (100 - d) at depth d.
        tolerance = 5e-4 + 1e-7 if encoding == "16UC1" else expected**2 / (100 - expected) + 1e-4
        assert (np.abs(decoded - expected) <= tolerance).all()
    mono = depth_to_image(depth, "optical", stamp(0))
    mono.encoding = "mono16"
    np.testing.assert_allclose(depth_image_to_metres(mono, 0.002, 10.0), expected * 2, 1e-3)
    short = depth_to_image(depth, "optical", stamp(0))
    short.step = 10
    with pytest.raises(DepthError, match="step 10 is smaller"):
        depth_image_to_metres(short)
    huge = depth_to_image(depth, "optical", stamp(0))
    huge.height = 100_000
    with pytest.raises(DepthError, match="out of range"):
        depth_image_to_metres(huge)


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    logs = tmp_path_factory.mktemp("depth_input")
    overrides = {
        "image_topics": [f"/{c}/image_raw" for c in CAMERAS],
        "camera_info_topics": [f"/{c}/camera_info" for c in CAMERAS],
        "pose_topics": [f"/{c}/pose" for c in CAMERAS],
        "depth_topics": DEPTH_TOPICS,
        "pose_wait": 0.3,
        "ready_steps": 1_000_000,  # training is not what this module checks: keep CPUs free
    }
    trainer = start_trainer(DEMO_PARAMS, overrides, log_path=logs / "node.log")
    client = TrainerClient("/lerf_trainer", "depth_input_client")
    assert client.wait_for_services(60), trainer.log()
    # Frames offered before the encoders have loaded are dropped ("engine not started").
    assert client.wait_until(
        lambda: (
            client.last_status is not None and "loading encoders" not in client.last_status.message
        ),
        120,
    ), trainer.log()[-2000:]
    context = Context()
    rclpy.init(context=context)
    node = Node("depth_input_publisher", context=context)
    pubs = {}
    for camera, depth_type in CAMERAS.items():
        pubs[camera, "image"] = node.create_publisher(Image, f"/{camera}/image_raw", 10)
        pubs[camera, "info"] = node.create_publisher(CameraInfo, f"/{camera}/camera_info", 10)
        pubs[camera, "pose"] = node.create_publisher(PoseStamped, f"/{camera}/pose", 10)
        if depth_type is not None:
            topic = DEPTH_TOPICS[list(CAMERAS).index(camera)]
            pubs[camera, "depth"] = node.create_publisher(depth_type, topic, 10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(
        p.get_subscription_count() > 0 for p in pubs.values()
    ):
        time.sleep(0.1)
    for camera in CAMERAS:
        pubs[camera, "info"].publish(intrinsics_to_camera_info(INTRINSICS, "optical", stamp(0)))
    time.sleep(0.5)
    yield Rig(trainer, client, pubs)
    node.destroy_node()
    context.try_shutdown()
    client.close()
    trainer.stop()


def stamp(seconds: float) -> Time:
    return Time(sec=int(seconds), nanosec=int((seconds % 1) * 1e9))


def depth_metres(height: int = 48, width: int = 64) -> np.ndarray:
    """A plausible registered depth image: a slanted wall 1-3 m away, a hole of no readings."""
    depth = np.tile(np.linspace(1.0, 3.0, width, dtype=np.float32), (height, 1))
    depth[:4, :4] = 0.0
    return depth


class Rig:
    """The node, its client and the test's publishers; sends one posed frame at a time."""

    def __init__(self, trainer, client, pubs):
        self.trainer, self.client, self.pubs = trainer, client, pubs
        self.t = time.time() - 60.0
        self.x = 0.0

    def frame(self, camera: str, depth=None) -> None:
        """Pose, depth (a message, or None for none) and image of one new stamp; each frame
        0.2 m from the last so that every one becomes a keyframe."""
        self.t += 0.5
        self.x += 0.2
        pose = PoseStamped()
        pose.header.frame_id = "map"
        pose.header.stamp = stamp(self.t)
        c2w = np.eye(4)
        c2w[0, 3] = self.x
        pose.pose = matrix_to_pose(c2w)
        self.pubs[camera, "pose"].publish(pose)
        if depth is not None:
            depth.header.stamp = stamp(self.t)
            self.pubs[camera, "depth"].publish(depth)
        rgb = np.random.default_rng(int(self.t * 10)).integers(0, 255, (48, 64, 3), np.uint8)
        self.pubs[camera, "image"].publish(rgb_to_image(rgb, "optical", stamp(self.t)))

    def status(self):
        self.client.spin_for(1.2)  # a fresh ~/status (1 Hz)
        return self.client.last_status

    def wait(self, predicate, timeout: float = 15.0):
        assert self.client.wait_until(lambda: predicate(self.client.last_status), timeout), (
            f"{self.client.last_status}\n{self.trainer.log()[-3000:]}"
        )
        assert self.trainer.alive(), self.trainer.log()[-3000:]
        return self.client.last_status


def test_depth_in_every_encoding_reaches_keyframes(rig):
    before = rig.status()
    depth = depth_metres()
    cases = [
        ("c0", depth_to_image(depth, "optical", stamp(0), "16UC1")),
        ("c0", depth_to_image(depth, "optical", stamp(0), "32FC1")),
        ("c1", depth_to_compressed_depth(depth, "optical", stamp(0), "16UC1")),
        ("c1", depth_to_compressed_depth(depth, "optical", stamp(0), "32FC1")),
    ]
    for index, (camera, msg) in enumerate(cases, start=1):
        rig.frame(camera, msg)
        expected = before.keyframes_with_depth + index
        rig.wait(lambda s, n=expected: s.keyframes_with_depth >= n)
    status = rig.status()
    assert status.keyframes_with_depth == before.keyframes_with_depth + len(cases)
    assert status.frames_without_depth == before.frames_without_depth
    assert status.frames_dropped == before.frames_dropped, rig.trainer.log()[-2000:]
    assert "refused depth" not in status.message


def test_a_silent_depth_topic_trains_colour_only_and_is_counted(rig):
    before = rig.status()
    for _ in range(2):
        rig.frame("c2")
    status = rig.wait(lambda s: s.keyframes >= before.keyframes + 2)
    assert status.frames_without_depth == before.frames_without_depth + 2
    assert status.keyframes_with_depth == before.keyframes_with_depth
    assert status.frames_dropped == before.frames_dropped


def bad_depth_cases() -> list[tuple[str, str, object]]:
    """(name, expected reason in ~/status, message) of depth no node may train on."""
    good = depth_metres()
    unsupported = depth_to_image(good, "optical", stamp(0), "16UC1")
    unsupported.encoding = "8UC1"
    truncated = depth_to_image(good, "optical", stamp(0), "16UC1")
    truncated.data = bytes(truncated.data)[:100]
    garbage = depth_to_compressed_depth(good, "optical", stamp(0))
    garbage.data = b"\x00" * 12 + b"not a png at all"
    rvl = depth_to_compressed_depth(good, "optical", stamp(0))
    rvl.format = "16UC1; compressedDepth rvl"
    negative = good.copy()
    negative[10:20] = -1.0
    return [
        ("wrong size", "size mismatch", depth_to_image(depth_metres(24, 32), "optical", stamp(0))),
        ("unsupported encoding", "unsupported encoding", unsupported),
        ("all zero", "no reading", depth_to_image(good * 0, "optical", stamp(0))),
        (
            "all NaN",
            "no reading",
            depth_to_image(np.full_like(good, np.nan), "optical", stamp(0), "32FC1"),
        ),
        ("negative", "negative", depth_to_image(negative, "optical", stamp(0), "32FC1")),
        # Millimetres sent as 32FC1 metres.
        ("absurd", "absurd values", depth_to_image(good * 1000, "optical", stamp(0), "32FC1")),
        ("truncated data", "bad depth", truncated),
        ("compressedDepth without a PNG", "bad depth", garbage),
        ("compressedDepth rvl", "unsupported encoding", rvl),
    ]


def refused_depth(status) -> dict[str, int]:
    """Refused depth images by reason, as ~/status's message lists them."""
    _, _, listed = status.message.partition("refused depth: ")
    counts = (item.rpartition(" x") for item in listed.split(", ") if item)
    return {reason: int(count) for reason, _, count in counts}


def test_each_bad_depth_is_a_counted_depth_drop_and_its_colour_frame_trains(rig):
    for name, reason, msg in bad_depth_cases():
        before = rig.status()
        camera = "c1" if isinstance(msg, CompressedImage) else "c0"
        rig.frame(camera, msg)
        rig.wait(lambda s, b=before: s.keyframes > b.keyframes)
        status = rig.wait(lambda s, b=before: s.frames_without_depth > b.frames_without_depth)
        assert status.keyframes_with_depth == before.keyframes_with_depth, name
        assert status.frames_dropped == before.frames_dropped, (name, rig.trainer.log()[-2000:])
        key = reason if reason == "bad depth" else f"bad depth: {reason}"
        counted = refused_depth(status).get(key, 0) - refused_depth(before).get(key, 0)
        assert counted == 1, (name, status.message)
    log = rig.trainer.log()
    assert "bad depth" in log
    assert rig.trainer.alive(), log[-3000:]
    # Still serving: a query answers (not ready: ready_steps is out of reach here).
    response = rig.client.query("red ball", timeout=30)
    assert response.success is False and "not ready" in response.message


def test_a_bag_with_depth_played_through_the_node_gives_keyframes_with_depth(rig, tmp_path):
    """``lerf-ros make-bag`` output (16UC1 mm depth beside the image) replayed into camera c0
    (the bag's topics under the prefix /c0): after ~/reset every keyframe is the bag's."""
    scene = make_scene_dataset(
        tmp_path / "scene", "mug", views=6, width=48, height=32, supersample=1
    )
    start_ns = int((rig.t + 5.0) * 1e9)  # after every stamp this camera has seen
    bag = write_bag(
        scene,
        tmp_path / "bag",
        prefix="/c0",
        optical_frame="optical",
        start_ns=start_ns,
        rate_hz=4.0,
    )
    reset = rig.client.trigger("reset", timeout=30)
    assert reset.success, reset.message
    rig.wait(lambda s: s.keyframes == 0)
    player = start_cli(["play", str(bag)], tmp_path / "play.log")
    try:
        status = rig.wait(lambda s: s.keyframes_with_depth > 0, 30)
        assert player.process.wait(timeout=30) == 0, player.log()
    finally:
        player.stop()
    assert status.keyframes_with_depth <= status.keyframes
    assert rig.trainer.alive(), rig.trainer.log()[-3000:]
