"""Run-time parameter changes on a running ``lerf_trainer`` over DDS, as ``ros2 param set`` and
rqt_reconfigure make them (the node's SetParameters / DescribeParameters / GetParameters
services, called from a second node): a start-up parameter refuses a change, numbers show their
ranges, a bad value is refused with a reason and the old value stays, and a live change acts on
the next frame, query or target request; ``pause`` and ``~/pause`` agree.

One node process for the module, fed by the test's own camera publishers (a few posed colour +
depth frames, so that depth gives query candidates whatever the field learnt)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import rclpy
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from online_helpers import DEMO_PARAMS
from rcl_interfaces.srv import DescribeParameters, GetParameters, SetParameters
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter, parameter_value_to_python
from sensor_msgs.msg import CameraInfo, Image
from std_srvs.srv import SetBool

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.ros.bringup import start_trainer
from lerf_ros.ros.client import TrainerClient
from lerf_ros.ros.conversions import (
    depth_to_image,
    intrinsics_to_camera_info,
    matrix_to_pose,
    rgb_to_image,
)

NODE = "/lerf_trainer"
INTRINSICS = Intrinsics(64, 48, 50.0, 50.0, 32.0, 24.0)
OVERRIDES = {
    "ready_steps": 3,
    "ready_check": False,  # a few steps: this module is about parameters, not training
    "torch_threads": 1,
    "keyframe_max_interval": 0.0,
}


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    log = tmp_path_factory.mktemp("live_parameters") / "node.log"
    trainer = start_trainer(DEMO_PARAMS, OVERRIDES, node_name="lerf_trainer", log_path=log)
    client = TrainerClient(NODE, "live_parameters_client")
    context = Context()
    rclpy.init(context=context)
    node = Node("live_parameters_camera", context=context)
    try:
        assert client.wait_for_services(60), trainer.log()
        pubs = {
            "image": node.create_publisher(Image, "/camera/image_raw", 10),
            "info": node.create_publisher(CameraInfo, "/camera/camera_info", 10),
            "pose": node.create_publisher(PoseStamped, "/camera/pose", 10),
            "depth": node.create_publisher(Image, "/camera/depth/image_raw", 10),
        }
        yield Rig(trainer, client, pubs)
    finally:
        node.destroy_node()
        context.try_shutdown()
        client.close()
        trainer.stop()


def stamp(seconds: float) -> Time:
    return Time(sec=int(seconds), nanosec=round((seconds % 1) * 1e9) % 1_000_000_000)


class Rig:
    """The node, its client and the camera publishers."""

    def __init__(self, trainer, client: TrainerClient, pubs):
        self.trainer, self.client, self.pubs = trainer, client, pubs
        self.t = time.time() - 120.0
        self.x = 0.0

    # ------------------------------------------------------------ parameters
    def call(self, srv_type, service: str, request, timeout: float = 15.0):
        client = self.client.node.create_client(srv_type, f"{NODE}/{service}")
        try:
            assert client.wait_for_service(timeout_sec=15), f"{service} is not available"
            future = client.call_async(request)
            assert self.client.wait_until(future.done, timeout), f"{service}: no answer"
            return future.result()
        finally:
            self.client.node.destroy_client(client)

    def set(self, **values):
        """SetParameters, as ``ros2 param set`` calls it: the first refusal, else success."""
        messages = [Parameter(name, value=v).to_parameter_msg() for name, v in values.items()]
        request = SetParameters.Request(parameters=messages)
        results = self.call(SetParameters, "set_parameters", request).results
        assert len(results) == len(messages)
        return next((r for r in results if not r.successful), results[-1])

    def get(self, name: str):
        response = self.call(GetParameters, "get_parameters", GetParameters.Request(names=[name]))
        return parameter_value_to_python(response.values[0])

    def describe(self, *names: str):
        request = DescribeParameters.Request(names=list(names))
        return {
            d.name: d
            for d in self.call(DescribeParameters, "describe_parameters", request).descriptors
        }

    # ---------------------------------------------------------------- frames
    def wait_for_engine(self) -> None:
        """Frames offered while the encoders load are dropped: wait until they loaded."""
        assert self.client.wait_until(
            lambda: (
                self.client.last_status is not None
                and "loading encoders" not in self.client.last_status.message
                and self.pubs["image"].get_subscription_count() > 0
            ),
            240,  # loading the encoders on a busy 2-core machine
        ), self.trainer.log()[-2000:]
        self.pubs["info"].publish(intrinsics_to_camera_info(INTRINSICS, "optical", stamp(0)))
        self.client.spin_for(0.5)

    def frame(self, image_after_pose: float = 0.0) -> None:
        """A pose, then depth and image ``image_after_pose`` seconds later; 0.2 m on from the
        last frame."""
        self.t += 2.0
        self.x += 0.2
        pose = PoseStamped()
        pose.header.frame_id = "map"
        pose.header.stamp = stamp(self.t)
        c2w = np.eye(4)
        c2w[0, 3] = self.x
        pose.pose = matrix_to_pose(c2w)
        self.pubs["pose"].publish(pose)
        at = stamp(self.t + image_after_pose)
        wall = np.tile(np.linspace(1.0, 2.0, 64, dtype=np.float32), (48, 1))
        self.pubs["depth"].publish(depth_to_image(wall, "optical", at, "16UC1"))
        rgb = np.random.default_rng(int(self.t)).integers(0, 255, (48, 64, 3), np.uint8)
        self.pubs["image"].publish(rgb_to_image(rgb, "optical", at))

    def status(self):
        self.client.spin_for(1.2)  # a fresh ~/status (1 Hz)
        return self.client.last_status

    def wait(self, predicate, timeout: float = 20.0):
        assert self.client.wait_until(lambda: predicate(self.client.last_status), timeout), (
            f"{self.client.last_status}\n{self.trainer.log()[-3000:]}"
        )
        return self.client.last_status


def test_a_start_up_parameter_refuses_a_change_and_keeps_its_value(rig):
    result = rig.set(max_keyframes=10)
    assert not result.successful
    assert "read-only" in result.reason and "max_keyframes" in result.reason
    assert rig.get("max_keyframes") == 40  # config/demo.yaml's


def test_describe_shows_ranges_of_numbers_and_which_parameters_are_live(rig):
    described = rig.describe("query_min_relevancy", "query_max_results", "max_keyframes", "pause")
    relevancy = described["query_min_relevancy"]
    assert not relevancy.read_only
    (fp,) = relevancy.floating_point_range
    assert (fp.from_value, fp.to_value) == (0.0, 1.0)
    (ints,) = described["query_max_results"].integer_range
    assert (ints.from_value, ints.to_value, ints.step) == (1, 100, 1)
    assert described["max_keyframes"].read_only and described["max_keyframes"].integer_range
    assert not described["pause"].read_only
    assert described["pause"].description.startswith("Training paused")


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("query_min_relevancy", -0.1, "out of range"),
        ("query_min_relevancy", math.nan, "out of range"),
        ("query_max_results", 0, "out of range"),
        ("query_max_results", "5", "Wrong parameter type"),
        ("standoff_distance", -1.0, "out of range"),
        ("ground_height", math.inf, "ground_height must be a finite number"),
        ("grasp_approach", "diagonal", "grasp.approach must be auto, top or side, not 'diagonal'"),
    ],
)
def test_a_bad_value_is_refused_with_a_reason_and_the_old_value_stays(rig, name, value, reason):
    before = rig.get(name)
    result = rig.set(**{name: value})
    assert not result.successful and reason in result.reason, result.reason
    after = rig.get(name)
    assert after == before or (math.isnan(after) and math.isnan(before))  # ground_height NaN


def test_keyframe_thresholds_change_the_next_selection(rig):
    rig.wait_for_engine()
    assert rig.set(keyframe_min_translation=1000.0, keyframe_min_rotation_deg=180.0).successful
    start = rig.status()
    for _ in range(3):
        rig.frame()
    rig.wait(lambda s: s.frames_received >= start.frames_received + 3)
    held = rig.status()
    # The first frame ever is a keyframe whatever the thresholds; then none of 0.2 m apart.
    assert held.keyframes - start.keyframes <= 1, held
    assert rig.set(keyframe_min_translation=0.05, keyframe_min_rotation_deg=5.0).successful
    for _ in range(3):
        rig.frame()
    after = rig.wait(lambda s: s.keyframes >= held.keyframes + 3)
    assert after.keyframes == held.keyframes + 3


def test_pose_slop_changes_matching(rig):
    before = rig.status()
    rig.frame(image_after_pose=0.3)  # slop 0.05: no pose for it (dropped after pose_wait)
    dropped = rig.wait(lambda s: s.frames_dropped > before.frames_dropped)
    assert dropped.keyframes == before.keyframes
    assert rig.set(pose_slop=0.5).successful
    assert rig.get("pose_slop") == 0.5
    rig.frame(image_after_pose=0.3)
    matched = rig.wait(lambda s: s.keyframes > before.keyframes)
    assert matched.frames_dropped == dropped.frames_dropped


def test_pause_parameter_and_pause_service_agree(rig):
    assert rig.set(pause=True).successful
    rig.wait(lambda s: s.state == "paused", 10)
    step = rig.status().step
    assert rig.status().step == step  # no training while paused
    answer = rig.call(SetBool, "pause", SetBool.Request(data=False))
    assert answer.success, answer.message
    assert rig.get("pause") is False
    rig.wait(lambda s: s.state != "paused", 10)
    answer = rig.call(SetBool, "pause", SetBool.Request(data=True))
    assert answer.success and rig.get("pause") is True
    rig.wait(lambda s: s.state == "paused", 10)


def test_query_and_target_settings_change_the_next_answer(rig):
    assert rig.set(pause=False).successful
    ready = rig.wait(lambda s: s.ready, 180)
    assert ready.keyframes >= 3
    assert rig.set(query_min_views=1, query_min_relevancy=1.0).successful
    nothing = rig.client.query("red ball")
    assert nothing.success and not nothing.peaks, nothing.message
    assert "nothing above relevancy 1.00" in nothing.message
    assert rig.set(query_min_relevancy=0.0, query_max_results=1, query_max_scale=0.1).successful
    some = rig.client.query("red ball")
    assert some.success and len(some.peaks) == 1, some.message
    assert some.selected_scale <= 0.1 + 1e-6
    assert rig.set(ground_height=0.37).successful
    targets = rig.client.get_targets("red ball")
    assert "ground z = 0.37" in targets.message, targets.message
    assert rig.set(ground_height=-0.25).successful
    assert "ground z = -0.25" in rig.client.get_targets("red ball").message
    assert rig.trainer.alive(), rig.trainer.log()[-3000:]
