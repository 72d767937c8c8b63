"""``lerf_trainer``: the node a robot runs.

Thin by design: it declares parameters and wires publishers, services and timers. Camera
topics are subscribed by :class:`~lerf_ros.ros.camera_inputs.CameraInputs`, which matches
images to poses with the ROS-free :class:`~lerf_ros.data.frame_sync.FrameSync`; training and
answers are the ROS-free :class:`lerf_ros.engine.LerfEngine`'s. Every callback catches its own
errors: bad input is a counted, logged drop; a failing service answers ``success=false`` with a
message.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import rclpy
from geometry_msgs.msg import PoseStamped
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image, PointCloud2
from std_srvs.srv import SetBool, Trigger
from visualization_msgs.msg import MarkerArray

from lerf_ros.data.drops import DropLedger
from lerf_ros.data.frame_sync import MatchedFrame
from lerf_ros.errors import CheckpointError, NotReadyError, QueryError
from lerf_ros.msg import TrainingStatus
from lerf_ros.ros import conversions as conv
from lerf_ros.ros.camera_inputs import CameraInputs
from lerf_ros.ros.parameter_files import unmatched_params_files
from lerf_ros.ros.parameters import declare, engine_config, target_config
from lerf_ros.ros.query_outputs import QueryOutputs, target_pose
from lerf_ros.srv import GetTargets, Query

SERVICE_QOS = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
"""Query services: requests wait in this queue while one is being answered (the default
depth of 10 would drop requests from an 11th concurrent client)."""

DROP_LOG_INTERVAL = 5.0
"""Seconds between two warnings about drops for the same reason (a broken stream drops every
frame; the counts are in ~/status)."""

QUERY_REFUSALS = (NotReadyError, QueryError)
"""What a query refuses with: the caller's message, not an internal error."""

CHECKPOINT_PROBLEMS = (NotReadyError, CheckpointError, OSError)
"""What ~/save and ~/load refuse with (nothing to save, a bad file, a disk problem)."""


class LerfTrainerNode(Node):
    """Trains a LERF online from posed camera streams and answers language queries."""

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
        self._timer_group = MutuallyExclusiveCallbackGroup()
        self._log_times: dict[str, float] = {}
        self._log_lock = threading.Lock()
        """Drops are logged from the input and the pose callback groups (two threads)."""

        self.target_config = target_config(self.p)
        self.status_pub = self.create_publisher(TrainingStatus, "~/status", 10)
        goals = [self.create_publisher(PoseStamped, "~/nav_goal", 10)]
        if self.p.publish_nav2_goal:
            goals.append(self.create_publisher(PoseStamped, "/goal_pose", 10))
        self.outputs = QueryOutputs(
            self,
            cloud=self.create_publisher(PointCloud2, "~/relevancy_cloud", 1),
            markers=self.create_publisher(MarkerArray, "~/markers", 10),
            heatmap=self.create_publisher(Image, "~/relevancy_image", 1),
            goals=goals,
            frame_id=self.fixed_frame,
            robot_radius=self.target_config.navigation.robot_radius,
            heatmap_width=int(self.p.relevancy_image_width),
            relevancy_view=lambda *args, **kwargs: self.engine.relevancy_view(*args, **kwargs),
        )
        sg = self._service_group
        # One query and one get_targets at a time (the model lock serialises them anyway):
        # concurrent callers wait in the service queue instead of occupying every executor
        # thread, which starved the camera callbacks and ~/status under load.
        self.create_service(
            Query,
            "~/query",
            self._on_query,
            qos_profile=SERVICE_QOS,
            callback_group=MutuallyExclusiveCallbackGroup(),
        )
        self.create_service(
            GetTargets,
            "~/get_targets",
            self._on_get_targets,
            qos_profile=SERVICE_QOS,
            callback_group=MutuallyExclusiveCallbackGroup(),
        )
        self.create_service(Trigger, "~/save", self._on_save, callback_group=sg)
        self.create_service(Trigger, "~/load", self._on_load, callback_group=sg)
        self.create_service(Trigger, "~/reset", self._on_reset, callback_group=sg)
        self.create_service(SetBool, "~/pause", self._on_pause, callback_group=sg)
        self.create_timer(1.0, self._publish_status, callback_group=self._timer_group)
        if self.p.autosave_interval > 0 and self.p.checkpoint_path:
            self.create_timer(
                self.p.autosave_interval, self._autosave, callback_group=self._timer_group
            )

        self.cameras = CameraInputs(
            self,
            self.p,
            self.ledger,
            self._offer,
            input_group=self._input_group,
            pose_group=self._pose_group,
            on_drop=self._log_drop,
        )
        # Images wait for poses that arrive after them: match them again every 0.1 s.
        self.create_timer(0.1, self.cameras.match, callback_group=self._input_group)
        threading.Thread(target=self._build_engine, name="lerf-engine-init", daemon=True).start()

    def _build_engine(self) -> None:
        """Load encoders and build the engine off the executor (loading can take a while)."""
        try:
            from lerf_ros.engine.build import build_engine

            checkpoint = self._checkpoint()
            resume = self.p.resume and checkpoint is not None and checkpoint.exists()
            engine = build_engine(
                engine_config(self.p),
                self.p.encoder,
                self.p.dino,
                encoder_checkpoint=self.p.encoder_checkpoint,
                frame_id=self.fixed_frame,
                threads=self.p.torch_threads,
                drops=self.ledger,
                resume_from=checkpoint if resume else None,
            )
            if resume:
                self.get_logger().info(f"resumed from {checkpoint} at step {engine.step}")
            engine.start()
            self.engine = engine
            self.get_logger().info(
                f"engine ready on {engine.device} (encoder {self.p.encoder}, dino {self.p.dino})"
            )
        except Exception as error:  # report in ~/status, keep serving
            self.engine_error = f"engine failed to start: {error}"
            self.get_logger().error(f"{self.engine_error}\n{traceback.format_exc()}")

    # -------------------------------------------------------------- frames
    def _offer(self, frames: list[MatchedFrame]) -> None:
        self.cameras.sync.offer(frames, self.engine, self.engine_error or "loading encoders")

    def _log_drop(self, reason: str, detail: str) -> None:
        with self._log_lock:
            now = time.monotonic()
            if now - self._log_times.get(reason, 0.0) <= DROP_LOG_INTERVAL:
                return
            self._log_times[reason] = now
        self.get_logger().warning(f"dropped frame: {reason}{': ' + detail if detail else ''}")

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
        self.status_pub.publish(msg)

    def _not_ready(self) -> str | None:
        if self.engine is None:
            return self.engine_error or "not ready: loading encoders"
        return self.engine.not_ready_reason()

    # ----------------------------------------------------------- services
    def _serve(
        self,
        service: str,
        response,
        answer: Callable[[], None],
        *,
        needs_ready: bool = False,
        refusals: tuple[type[Exception], ...] = QUERY_REFUSALS,
    ):
        """Answer one service call: ``success=false`` with the reason while there is no engine
        (or, ``needs_ready``, while it cannot answer yet); ``answer`` fills the response, and
        one of ``refusals`` becomes its message. Any other exception is logged with its
        traceback and answered as an internal error: none may escape a service callback."""
        try:
            reason = self._not_ready() if needs_ready or self.engine is None else None
            if reason is not None:
                response.success, response.message = False, reason
            else:
                answer()
        except refusals as error:
            response.success, response.message = False, str(error)
        except Exception as error:
            self.get_logger().error(f"{service} failed: {error}\n{traceback.format_exc()}")
            response.success, response.message = False, f"internal error: {error}"
        return response

    def _on_query(self, request: Query.Request, response: Query.Response) -> Query.Response:
        started = time.monotonic()
        response.frame_id = self.fixed_frame
        self._serve("query", response, lambda: self._query(request, response), needs_ready=True)
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
        return self._serve(
            "get_targets", response, lambda: self._targets(request, response), needs_ready=True
        )

    def _targets(self, request: GetTargets.Request, response: GetTargets.Response) -> None:
        from lerf_ros.targets.service import compute_targets

        answer = compute_targets(
            self.engine,
            request.text,
            list(request.negatives),
            int(request.max_results),
            self.target_config,
        )
        stamp = self.get_clock().now().to_msg()
        response.peaks = [conv.peak_to_msg(peak) for peak in answer.result.peaks]
        response.grasp_poses = [target_pose(t, self.fixed_frame, stamp) for t in answer.grasps]
        response.grasp_scores = [float(t.score) for t in answer.grasps]
        response.navigation_goals = [target_pose(t, self.fixed_frame, stamp) for t in answer.goals]
        response.success = bool(answer.result.peaks)
        response.message = answer.message
        cloud = conv.make_cloud(
            answer.result.points, answer.result.relevancy, self.fixed_frame, stamp
        )
        self.outputs.publish(answer.result, cloud, stamp, targets=answer)
        if response.navigation_goals:
            self.outputs.publish_goal(response.navigation_goals[0])

    def _checkpoint(self) -> Path | None:
        return Path(self.p.checkpoint_path) if self.p.checkpoint_path else None

    def _on_save(self, request, response):
        return self._serve_checkpoint(
            "save", response, lambda path: self.engine.save(path), "saved"
        )

    def _on_load(self, request, response):
        return self._serve_checkpoint(
            "load", response, lambda path: self.engine.load(path), "loaded"
        )

    def _serve_checkpoint(
        self, service: str, response, action: Callable[[Path], object], done: str
    ):
        def answer():
            path = self._checkpoint()
            if path is None:
                response.success, response.message = False, "parameter checkpoint_path is empty"
                return
            action(path)
            response.success, response.message = True, f"{done} {path}"

        return self._serve(service, response, answer, refusals=CHECKPOINT_PROBLEMS)

    def _on_reset(self, request, response):
        def reset():
            self.engine.reset()
            response.success, response.message = True, "field and keyframes cleared"

        return self._serve("reset", response, reset)

    def _on_pause(self, request, response):
        def pause():
            self.engine.pause(bool(request.data))
            response.success = True
            response.message = "paused" if request.data else "training"

        return self._serve("pause", response, pause)

    def _autosave(self) -> None:
        path = self._checkpoint()
        if self.engine is None or path is None:
            return
        try:
            self.engine.save(path)
        except NotReadyError:  # no keyframes yet: nothing to save
            pass
        except Exception as error:
            self.get_logger().error(f"autosave failed: {error}")

    def shutdown(self) -> None:
        """Stop training; save a final checkpoint when autosave is on."""
        if self.engine is not None:
            self.engine.stop()
            if self.p.autosave_interval > 0:
                self._autosave()


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
    executor = MultiThreadedExecutor(num_threads=4)
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.shutdown()
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
