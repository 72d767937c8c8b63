"""``lerf_trainer`` as a managed node: driven through ``~/change_state`` and ``~/get_state`` from
another process over DDS, the way Nav2's lifecycle manager drives it (transition ids), through
configure, activate, deactivate, activate, deactivate, cleanup, configure and shutdown."""

from __future__ import annotations

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from online_helpers import DEMO_PARAMS
from rclpy.lifecycle import TransitionCallbackReturn
from sensor_msgs.msg import CameraInfo, Image

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.ros.bringup import start_trainer
from lerf_ros.ros.client import TrainerClient
from lerf_ros.ros.conversions import intrinsics_to_camera_info, matrix_to_pose, rgb_to_image
from lerf_ros.srv import Checkpoint, GetTargets

NODE = "lerf_trainer_managed"
INTRINSICS = Intrinsics(64, 48, 50.0, 50.0, 32.0, 24.0)
FAST = {
    "managed": True,
    "depth_topics": [""],
    "ready_steps": 5,
    "ready_check": False,
    "torch_threads": 1,
}
"""The demo's encoders, ready after a few steps (the test needs an answer, not a good one)."""


class Lifecycle:
    """What Nav2's lifecycle manager calls, on the test client's node."""

    def __init__(self, client: TrainerClient, node: str):
        self.client = client
        self.node = node
        self.change = client.node.create_client(ChangeState, f"/{node}/change_state")
        self.get = client.node.create_client(GetState, f"/{node}/get_state")

    def _call(self, service, request, timeout: float = 120.0):
        assert service.wait_for_service(timeout_sec=30), service.srv_name
        future = service.call_async(request)
        assert self.client.wait_until(future.done, timeout), f"{service.srv_name} timed out"
        return future.result()

    def save(self) -> Checkpoint.Response:
        service = self.client.node.create_client(Checkpoint, f"/{self.node}/save")
        return self._call(service, Checkpoint.Request())

    def state(self) -> str:
        return self._call(self.get, GetState.Request()).current_state.label

    def transition(self, transition_id: int) -> bool:
        request = ChangeState.Request(transition=Transition(id=transition_id))
        return self._call(self.change, request).success


class FramePublisher:
    """A camera moving 10 cm per frame (every frame a keyframe), on the client's node."""

    def __init__(self, client: TrainerClient):
        node = client.node
        self.image = node.create_publisher(Image, "/camera/image_raw", 10)
        self.info = node.create_publisher(CameraInfo, "/camera/camera_info", 10)
        self.pose = node.create_publisher(PoseStamped, "/camera/pose", 10)
        self.rng = np.random.default_rng(0)
        self.count = 0

    def subscribed(self) -> bool:
        return self.image.get_subscription_count() > 0

    def publish(self, client: TrainerClient, frames: int) -> None:
        for _ in range(frames):
            self.count += 1
            # Camera info first: an image that comes before any is dropped.
            self.info.publish(intrinsics_to_camera_info(INTRINSICS, "camera", Time(sec=999)))
            stamp = Time(sec=1000 + self.count)
            c2w = np.eye(4)
            c2w[0, 3] = 0.1 * self.count
            rgb = (self.rng.random((48, 64, 3)) * 255).astype(np.uint8)
            image = rgb_to_image(rgb, "camera", stamp)
            info = intrinsics_to_camera_info(INTRINSICS, "camera", stamp)
            pose = PoseStamped(pose=matrix_to_pose(c2w))
            pose.header.frame_id, pose.header.stamp = "map", stamp
            self.pose.publish(pose)
            self.info.publish(info)
            self.image.publish(image)
            client.spin_for(0.15)


@pytest.fixture(scope="module")
def managed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lifecycle")
    params = {**FAST, "checkpoint_path": str(folder / "field.ckpt")}
    trainer = start_trainer(DEMO_PARAMS, params, node_name=NODE, log_path=folder / "node.log")
    client = TrainerClient(f"/{NODE}", "lifecycle_manager_test")
    try:
        assert client.wait_for_services(60), trainer.log()
        yield trainer, client, Lifecycle(client, NODE), FramePublisher(client)
    finally:
        client.close()
        trainer.stop()


def status_where(client: TrainerClient, predicate, timeout: float = 30.0):
    assert client.wait_until(
        lambda: client.last_status is not None and predicate(client.last_status), timeout
    ), client.last_status
    return client.last_status


def test_a_lifecycle_manager_drives_the_node_through_every_transition(managed):
    trainer, client, lifecycle, frames = managed
    # Waits for a manager: nothing built, no camera subscribed, answers say what to do.
    assert lifecycle.state() == "unconfigured"
    status_where(client, lambda s: s.state == "unconfigured")
    answer = client.query("red ball", timeout=30)
    assert not answer.success
    assert answer.message == "node is unconfigured: configure and activate it (lifecycle)"
    assert not frames.subscribed()

    assert lifecycle.transition(Transition.TRANSITION_CONFIGURE), trainer.log()
    assert lifecycle.state() == "inactive"
    assert "engine ready" in trainer.log()
    assert client.query("red ball").message == "node is inactive: activate it (lifecycle)"
    targets = client.get_targets("red ball")
    assert not targets.success and targets.error_code == GetTargets.Response.NOT_READY
    status_where(client, lambda s: s.state == "inactive" and not s.ready)
    assert not frames.subscribed()

    assert lifecycle.transition(Transition.TRANSITION_ACTIVATE), trainer.log()
    assert lifecycle.state() == "active"
    assert client.wait_until(frames.subscribed, 20), trainer.log()
    frames.publish(client, 4)  # a few: ready_keyframes is 3
    status_where(client, lambda s: s.step > 0 and s.state == "training", 60)
    assert client.wait_until_ready(120), client.last_status.message
    answer = client.query("red ball")
    assert "node is" not in answer.message and "not ready" not in answer.message, answer.message

    # Deactivate: no frames taken, training paused (the step stops), the field stays.
    assert lifecycle.transition(Transition.TRANSITION_DEACTIVATE)
    assert lifecycle.state() == "inactive"
    paused = status_where(client, lambda s: s.state == "inactive")
    client.spin_for(1.5)
    # At most the step under way when the pause came.
    assert client.last_status.step <= paused.step + 1, (paused, client.last_status)
    held = client.last_status.step
    client.spin_for(2.0)
    assert client.last_status.step == held, client.last_status
    assert client.last_status.state == "inactive"
    assert client.wait_until(lambda: not frames.subscribed(), 10)
    assert client.query("red ball").message == "node is inactive: activate it (lifecycle)"
    saved = lifecycle.save()  # the field is still there: it can be saved
    assert saved.success and saved.path.endswith("field.ckpt"), saved.message

    # Activate again: training resumes where it was.
    assert lifecycle.transition(Transition.TRANSITION_ACTIVATE)
    resumed = status_where(client, lambda s: s.step > held, 30)
    assert resumed.keyframes == paused.keyframes, (paused, resumed)

    # Cleanup drops the engine (and its memory); configure builds a new, empty one.
    assert lifecycle.transition(Transition.TRANSITION_DEACTIVATE)
    assert lifecycle.transition(Transition.TRANSITION_CLEANUP), trainer.log()
    assert lifecycle.state() == "unconfigured"
    status_where(client, lambda s: s.state == "unconfigured" and s.step == 0)
    assert "engine stopped and its memory freed" in trainer.log()
    assert lifecycle.transition(Transition.TRANSITION_CONFIGURE), trainer.log()
    rebuilt = status_where(client, lambda s: s.state == "inactive")
    assert rebuilt.step == 0 and rebuilt.keyframes == 0

    # Not every transition is allowed: activate → configure is refused, the state unchanged.
    assert not lifecycle.transition(Transition.TRANSITION_CONFIGURE)
    assert lifecycle.state() == "inactive"

    assert lifecycle.transition(Transition.TRANSITION_INACTIVE_SHUTDOWN), trainer.log()
    assert lifecycle.state() == "finalized"
    assert client.query("red ball").message.startswith("node is finalized")
    assert trainer.alive()
    code = trainer.stop()
    assert code == 0 and not trainer.exit_problems(), trainer.log()[-3000:]


def test_cleanup_leaves_no_reference_to_the_engine():
    """What frees the GPU memory: once cleanup has run, nothing holds the engine any more
    (the node in this process, its transitions called as the services call them)."""
    import gc
    import weakref

    import rclpy
    from rclpy.context import Context
    from rclpy.parameter import Parameter

    from lerf_ros.ros.trainer_node import LerfTrainerNode

    overrides = [
        Parameter("managed", value=True),
        Parameter("encoder", value="colour-minilm"),
        Parameter("dino", value="none"),
        Parameter("preset", value="cpu"),
        Parameter("device", value="cpu"),
        Parameter("torch_threads", value=1),
    ]
    context = Context()
    rclpy.init(context=context)
    node = LerfTrainerNode(context=context, parameter_overrides=overrides)
    try:
        assert node.lifecycle_state() == "unconfigured" and node.engine is None
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        engine = weakref.ref(node.engine)
        assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
        assert engine()._threads  # training and feature workers run
        assert node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
        assert node.trigger_cleanup() == TransitionCallbackReturn.SUCCESS
        gc.collect()
        assert engine() is None
        assert node.lifecycle_state() == "unconfigured"
    finally:
        node.shutdown()
        node.destroy_node()
        context.try_shutdown()
