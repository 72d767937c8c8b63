"""``lerf_trainer``: the node a robot runs.

Thin by design: it declares parameters and wires publishers, services and timers. Camera
topics are subscribed by :class:`~lerf_ros.ros.camera_inputs.CameraInputs`, which matches
images to poses with the ROS-free :class:`~lerf_ros.data.frame_sync.FrameSync`; training and
answers are the ROS-free :class:`lerf_ros.engine.LerfEngine`'s. Every callback catches its own
errors: bad input is a counted, logged drop; a failing service answers ``success=false`` with a
message; whatever still escapes (rclpy's own parameter service) is logged and counted by the
spin loop, which keeps going.

Threads: ``~/status`` has its own callback group and never waits on the model lock; autosave
runs on its own thread; the heavy services share a reentrant group behind
:class:`~lerf_ros.ros.request_slots.RequestSlots` (a few in progress, a few waiting, the rest
answered ``busy:`` at once), so camera input, poses and status always find a free thread.
"""

from __future__ import annotations

import sys
import threading
import time

import rclpy
from geometry_msgs.msg import PoseStamped
from rcl_interfaces.msg import SetParametersResult
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.lifecycle import LifecycleNode
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image, PointCloud2
from std_srvs.srv import SetBool, Trigger
from visualization_msgs.msg import MarkerArray

from lerf_ros.data.drops import DropLedger
from lerf_ros.data.frame_sync import MatchedFrame
from lerf_ros.msg import TrainingStatus
from lerf_ros.ros import conversions as conv
from lerf_ros.ros.autosaver import Autosaver
from lerf_ros.ros.base_height import BaseHeight
from lerf_ros.ros.diagnostics import DiagnosticsPublisher
from lerf_ros.ros.guards import GuardedExecutor, QuietPublisher
from lerf_ros.ros.lifecycle import ManagedLifecycle
from lerf_ros.ros.live_parameters import LiveParameters
from lerf_ros.ros.parameter_files import unmatched_params_files
from lerf_ros.ros.parameters import declare, target_config
from lerf_ros.ros.query_outputs import LATCHED_QOS, QueryOutputs, latest_view_frame
from lerf_ros.ros.request_slots import RequestSlots, ResetGate
from lerf_ros.ros.service_calls import ServiceCalls
from lerf_ros.ros.spin import spin_until_shutdown
from lerf_ros.ros.target_messages import fill_targets
from lerf_ros.srv import Checkpoint, GetTargets, Query

SERVICE_QOS = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
"""Query services: requests wait in this queue until the executor takes them (the default
depth of 10 would drop requests from an 11th concurrent client)."""

QUERY_SLOTS = (2, 2)
"""~/query and ~/get_targets together: in progress, waiting; more are answered ``busy:``."""
CHECKPOINT_SLOTS = (1, 2)
"""~/save, ~/load and ~/reset together: in progress, waiting."""
EXECUTOR_THREADS = sum(QUERY_SLOTS) + sum(CHECKPOINT_SLOTS) + 5
"""Every admitted service call may hold a thread; the rest serve camera input, poses, status,
~/pause with the parameter services, and ``busy:`` answers."""

SIM_TIME_REFUSED = (
    "use_sim_time cannot be switched on while the node runs: without a /clock publisher "
    "~/status would stop; set it when the node starts"
)

DROP_LOG_INTERVAL = 5.0
"""Seconds between two warnings about drops for the same reason (a broken stream drops every
frame; the counts are in ~/status)."""


class LerfTrainerNode(ManagedLifecycle, ServiceCalls, LifecycleNode):
    """Trains a LERF online from posed camera streams and answers language queries; a managed
    node (see :mod:`~lerf_ros.ros.lifecycle`) that starts by itself unless ``managed``."""

    def __init__(self, **node_kwargs):
        super().__init__("lerf_trainer", **node_kwargs)
        self.p = declare(self)
        self.fixed_frame = self.p.fixed_frame
        self.engine = None
        self.engine_error: str | None = None
        self.ledger = DropLedger()
        """Frames received and dropped, by reason: counted here and by the engine alike."""
        self._service_group = ReentrantCallbackGroup()
        self._input_group = MutuallyExclusiveCallbackGroup()
        self._pose_group = MutuallyExclusiveCallbackGroup()
        self._status_group = MutuallyExclusiveCallbackGroup()
        self._query_slots = RequestSlots("query", *QUERY_SLOTS)
        self._checkpoint_slots = RequestSlots("save/load/reset", *CHECKPOINT_SLOTS)
        self._reset_gate = ResetGate()
        self._save_lock = threading.Lock()
        """~/save and autosave write the same file: one at a time."""
        self.stopping = False
        """Set at shutdown: from then on publishing is skipped quietly."""
        self._log_times: dict[str, float] = {}
        self._log_lock = threading.Lock()
        self._lifecycle_lock = threading.Lock()
        """Orders starting the engine against shutdown (the engine is built on a thread)."""
        """Drops are logged from the input and the pose callback groups (two threads)."""

        self.target_config = target_config(self.p)
        self.base_height = BaseHeight(self, self.fixed_frame, self.p.base_frame)
        self.status_pub = self._publisher(TrainingStatus, "~/status", 10)
        goals = [self._publisher(PoseStamped, "~/nav_goal", LATCHED_QOS)]
        if self.p.publish_nav2_goal:  # relative: a namespaced Nav2 listens on <ns>/goal_pose
            goals.append(self._publisher(PoseStamped, "goal_pose", LATCHED_QOS))
        self.outputs = QueryOutputs(
            self,
            cloud=self._publisher(PointCloud2, "~/relevancy_cloud", LATCHED_QOS),
            markers=self._publisher(MarkerArray, "~/markers", LATCHED_QOS),
            heatmap=self._publisher(Image, "~/relevancy_image", 1),
            goals=goals,
            frame_id=self.fixed_frame,
            robot_radius=self.target_config.navigation.robot_radius,
            heatmap_width=int(self.p.relevancy_image_width),
            relevancy_view=self._relevancy_view,
            view_frame=lambda: latest_view_frame(self.engine, self.cameras.tf_frames),
        )
        # Reentrant, bounded by RequestSlots: a mutually exclusive group made rclpy's executor
        # busy-loop (holding the GIL) while its one call waited on the model lock.
        sg = self._service_group
        for srv_type, name, callback in (
            (Query, "~/query", self._on_query),
            (GetTargets, "~/get_targets", self._on_get_targets),
        ):
            self.create_service(
                srv_type, name, callback, qos_profile=SERVICE_QOS, callback_group=sg
            )
        self.create_service(Checkpoint, "~/save", self._on_save, callback_group=sg)
        self.create_service(Checkpoint, "~/load", self._on_load, callback_group=sg)
        self.create_service(Trigger, "~/reset", self._on_reset, callback_group=sg)
        self.create_service(SetBool, "~/pause", self._on_pause, callback_group=sg)
        # A steady clock: ~/status goes on whatever happens to use_sim_time and /clock.
        self.create_timer(
            1.0,
            self._publish_status,
            callback_group=self._status_group,
            clock=Clock(clock_type=ClockType.STEADY_TIME),
        )
        self.diagnostics = DiagnosticsPublisher(self, self._status_group)
        self.add_on_set_parameters_callback(self._check_parameters)
        self.live = LiveParameters(self, self.p)  # before any engine: see _new_engine
        self.autosaver = None
        if self.p.autosave_interval > 0 and self.p.checkpoint_path:
            self.autosaver = Autosaver(
                self.p.autosave_interval,
                self._autosave,
                lambda error: self.get_logger().error(f"autosave failed: {error}"),
            ).start()
        # Last: unmanaged, this subscribes the cameras and starts loading the encoders.
        self._start_lifecycle()

    def _publisher(self, msg_type, topic: str, qos: QoSProfile | int) -> QuietPublisher:
        return QuietPublisher(self.create_publisher(msg_type, topic, qos), self._stopping)

    def _stopping(self) -> bool:
        return self.stopping or not self.context.ok()

    def _new_engine(self):
        engine = super()._new_engine()
        self.live.attach(engine)  # parameter changes made while it was built
        return engine

    def _release_engine(self) -> None:
        self.live.attach(None)  # lifecycle cleanup: the dropped engine's memory is freed

    def _check_parameters(self, parameters) -> SetParametersResult:
        """Refuse run-time changes that would silence the node."""
        for parameter in parameters:
            if parameter.name == "use_sim_time" and parameter.value is True:
                return SetParametersResult(successful=False, reason=SIM_TIME_REFUSED)
        return SetParametersResult(successful=True)

    # -------------------------------------------------------------- frames
    def _offer(self, frames: list[MatchedFrame]) -> None:
        self.cameras.sync.offer(frames, self.engine, self.engine_error or "loading encoders")

    def _log_drop(self, reason: str, detail: str) -> None:
        with self._log_lock:
            now = time.monotonic()
            if now - self._log_times.get(reason, 0.0) <= DROP_LOG_INTERVAL:
                return
            self._log_times[reason] = now
        # A refused depth image costs the frame its depth only: say so, not "dropped frame".
        what = "refused depth" if reason.startswith("bad depth") else "dropped frame"
        self.get_logger().warning(f"{what}: {reason}{': ' + detail if detail else ''}")

    # ------------------------------------------------------------- status
    def _publish_status(self) -> None:
        msg = TrainingStatus()
        msg.stamp = self.get_clock().now().to_msg()
        msg.frames_received = self.ledger.frames_received
        msg.frames_dropped = self.ledger.frames_dropped
        if self.engine is None:
            msg.state = "error" if self.engine_error else "waiting"
            msg.ready = False
            msg.message = self.engine_error or "not ready: loading encoders"
        else:
            s = self.engine.status()
            msg.state, msg.ready, msg.step, msg.keyframes = s.state, s.ready, s.step, s.keyframes
            msg.rays_per_second = float(s.rays_per_second)
            msg.rgb_loss, msg.clip_loss, msg.dino_loss = s.rgb_loss, s.clip_loss, s.dino_loss
            msg.loss_names = list(s.losses)
            msg.loss_values = [float(v) for v in s.losses.values()]
            msg.message = s.message
            msg.keyframes_with_depth = s.keyframes_with_depth
        msg.frames_without_depth = self.ledger.frames_without_depth
        # Refused depth is not a dropped frame (its colour image trained): said in the message.
        depth_drops = self.ledger.depth_reasons()
        if depth_drops:
            listed = ", ".join(
                f"{reason} x{count}" for reason, count in sorted(depth_drops.items())
            )
            msg.message = f"{msg.message}; refused depth: {listed}".lstrip("; ")
        self._lifecycle_status(msg)
        self.status_pub.publish(msg)

    def _on_query(self, request: Query.Request, response: Query.Response) -> Query.Response:
        started = time.monotonic()
        response.frame_id = self.fixed_frame
        self._serve(
            "query",
            response,
            self._read(lambda: self._query(request, response)),
            needs_ready=True,
            slots=self._query_slots,
        )
        response.elapsed_seconds = float(time.monotonic() - started)
        return response

    def _query(self, request: Query.Request, response: Query.Response) -> None:
        result = self.engine.query(
            request.text,
            list(request.negatives),
            float(request.scale),
            int(request.max_results),
            float(request.min_relevancy),
            bool(request.return_cloud),
        )
        stamp = self.get_clock().now().to_msg()
        response.peaks = [conv.peak_to_msg(peak) for peak in result.peaks]
        response.selected_scale = float(result.selected_scale)
        cloud = conv.make_cloud(result.points, result.relevancy, self.fixed_frame, stamp)
        if request.return_cloud:
            response.cloud = cloud
        response.success = True
        response.message = result.summary()
        self.outputs.publish(result, cloud, stamp)

    def _on_get_targets(
        self, request: GetTargets.Request, response: GetTargets.Response
    ) -> GetTargets.Response:
        response.header.frame_id = self.fixed_frame  # set on refusals too
        response.header.stamp = self.get_clock().now().to_msg()
        return self._serve(
            "get_targets",
            response,
            self._read(lambda: self._targets(request, response)),
            needs_ready=True,
            slots=self._query_slots,
        )

    def _targets(self, request: GetTargets.Request, response: GetTargets.Response) -> None:
        from lerf_ros.targets.service import compute_targets

        answer = compute_targets(
            self.engine,
            request.text,
            list(request.negatives),
            int(request.max_results),
            self.target_config,
            base_z=self.base_height.z(self.target_config.navigation.base_frame),
        )
        stamp = self.get_clock().now().to_msg()
        fill_targets(response, answer, self.fixed_frame, stamp)
        cloud = conv.make_cloud(
            answer.result.points, answer.result.relevancy, self.fixed_frame, stamp
        )
        self.outputs.publish(answer.result, cloud, stamp, targets=answer)
        if response.navigation_goals:
            self.outputs.publish_goal(response.navigation_goals[0])

    def _on_reset(self, request, response):
        def reset():
            with self._reset_gate.exclusive():
                self.engine.reset()
            response.success, response.message = True, "field and keyframes cleared"

        return self._serve("reset", response, reset, slots=self._checkpoint_slots)

    def _on_pause(self, request, response):
        def pause():
            self.live.set_pause(bool(request.data))  # the pause parameter follows
            response.success = True
            response.message = "paused" if request.data else "training"

        return self._serve("pause", response, pause)

    def shutdown(self) -> None:
        """Stop autosaving and training; save a final checkpoint when autosave is on."""
        with self._lifecycle_lock:  # an engine still being built will not start now
            if self.stopping:  # already done by the lifecycle 'shutdown' transition
                return
            self.stopping = True
        if self.autosaver is not None:
            self.autosaver.stop()
        if self.engine is not None:
            self.engine.stop()
            if self.autosaver is not None:
                try:
                    self._autosave()
                except Exception as error:
                    self.get_logger().error(f"final save failed: {error}")


def main(argv: list[str] | None = None) -> int:
    argv = argv if argv is not None else sys.argv
    rclpy.init(args=argv)
    try:
        node = LerfTrainerNode()
    except ValueError as error:
        print(f"lerf_trainer: {error}", file=sys.stderr)
        rclpy.try_shutdown()
        return 2
    for warning in unmatched_params_files(argv, node.get_fully_qualified_name()):
        node.get_logger().warning(warning)
    executor = GuardedExecutor(node.get_logger(), num_threads=EXECUTOR_THREADS)
    return spin_until_shutdown(node, executor, on_shutdown=node.shutdown)


if __name__ == "__main__":
    sys.exit(main())
