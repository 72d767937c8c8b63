"""``lerf_trainer``: the node a robot runs.

Thin by design: it declares parameters, converts messages at the edge, and delegates to the
ROS-free :class:`lerf_ros.engine.LerfEngine`. Every callback catches its own errors: bad input
is a counted, logged drop; a failing service answers ``success=false`` with a message.
"""

from __future__ import annotations

import math
import sys
import threading
import time
import traceback
from collections import deque
from pathlib import Path

import rclpy
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
from std_srvs.srv import SetBool, Trigger
from visualization_msgs.msg import MarkerArray

from lerf_ros.cameras.conventions import pose_from_translation_quaternion
from lerf_ros.data.pose_buffer import PoseBuffer
from lerf_ros.msg import TrainingStatus
from lerf_ros.ros import conversions as conv
from lerf_ros.ros.markers import query_markers
from lerf_ros.ros.parameter_files import unmatched_params_files
from lerf_ros.ros.parameters import declare, engine_config, target_config
from lerf_ros.srv import GetTargets, Query

TIME_JUMP_BACK = 2.0
"""Seconds: a stamp this far behind the last one is a clock reset, not a late frame."""

MAX_STAMP_AHEAD = 3600.0
"""Seconds ahead of this machine's clock beyond which an image's stamp is a broken clock; the
same bound as ``lerf_ros.engine.MAX_STAMP_AHEAD`` (not imported here: the engine module loads
torch, which the node does off the executor, in ``_build_engine``)."""

SERVICE_QOS = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
"""Query services: requests wait in this queue while one is being answered (the default
depth of 10 would drop requests from an 11th concurrent client)."""

# Camera streams: best effort accepts both reliable and best-effort publishers.
CAMERA_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT)


class CameraInput:
    """One camera's latest calibration, pose history and images waiting for a pose."""

    def __init__(self, name: str, slop: float):
        self.name = name
        self.intrinsics = None
        self.info_error: str | None = "no camera info received yet"
        self.poses = PoseBuffer(slop=slop)
        self.pending: deque = deque(maxlen=30)
        self.last_stamp: float | None = None
        self.last_pose_arrival = -math.inf
        """time.monotonic() of the last valid pose message."""
        self.pose_lock = threading.Lock()
        """Guards ``poses`` and ``last_pose_arrival``: poses arrive in their own callback group
        (see _subscribe_cameras), images are matched in the input group."""
        self.tf_frame = ""
        """Optical frame looked up in TF (pose_source=tf); '' uses the image header's."""


class LerfTrainerNode(Node):
    """Trains a LERF online from posed camera streams and answers language queries."""

    def __init__(self, **node_kwargs):
        super().__init__("lerf_trainer", **node_kwargs)
        self.p = declare(self)
        self.fixed_frame = self.p.fixed_frame
        self.engine = None
        self.engine_error: str | None = None
        self._service_group = ReentrantCallbackGroup()
        self._input_group = MutuallyExclusiveCallbackGroup()
        self._pose_group = MutuallyExclusiveCallbackGroup()
        self._timer_group = MutuallyExclusiveCallbackGroup()
        self._log_times: dict[str, float] = {}
        self._drop_lock = threading.Lock()
        """Drops are counted from the input and the pose callback groups (two threads)."""
        self._last_query = None
        self._heatmap_lock = threading.Lock()
        self._heatmap_next = None
        self._heatmap_busy = False
        self._extrinsic = pose_from_translation_quaternion(
            self.p.extrinsic[:3], self.p.extrinsic[3:]
        )

        self.status_pub = self.create_publisher(TrainingStatus, "~/status", 10)
        self.cloud_pub = self.create_publisher(PointCloud2, "~/relevancy_cloud", 1)
        self.marker_pub = self.create_publisher(MarkerArray, "~/markers", 10)
        self.heatmap_pub = self.create_publisher(Image, "~/relevancy_image", 1)
        self.goal_pub = self.create_publisher(PoseStamped, "~/nav_goal", 10)
        self.nav2_goal_pub = (
            self.create_publisher(PoseStamped, "/goal_pose", 10)
            if self.p.publish_nav2_goal
            else None
        )
        self.target_config = target_config(self.p)
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
        self.create_timer(0.1, self._match_pending, callback_group=self._input_group)
        if self.p.autosave_interval > 0 and self.p.checkpoint_path:
            self.create_timer(
                self.p.autosave_interval, self._autosave, callback_group=self._timer_group
            )

        self.cameras = self._subscribe_cameras()
        self.frames_received = 0
        self.frames_dropped = 0
        threading.Thread(target=self._build_engine, name="lerf-engine-init", daemon=True).start()

    # ------------------------------------------------------------- set-up
    def _subscribe_cameras(self) -> list[CameraInput]:
        p = self.p
        images, infos, poses = list(p.image_topics), list(p.camera_info_topics), list(p.pose_topics)
        if len(infos) != len(images):
            raise ValueError("image_topics and camera_info_topics must have the same length")
        if p.pose_source not in ("pose", "odometry", "tf"):
            raise ValueError(f"pose_source must be pose, odometry or tf, not {p.pose_source!r}")
        self.tf_buffer = None
        if p.pose_source == "tf":
            try:
                import tf2_ros
            except ImportError as error:
                raise ValueError(
                    "pose_source=tf needs tf2_ros, which is not installed in this environment "
                    "(use pose_source=pose or odometry, or run on a ROS 2 install with tf2_ros)"
                ) from error
            self.tf_buffer = tf2_ros.Buffer()
            self._tf_listener = tf2_ros.TransformListener(self.tf_buffer, self)
            poses = poses if len(poses) == len(images) else [""] * len(images)
        if len(poses) != len(images):
            raise ValueError("pose_topics must have one topic per camera")
        cameras = []
        for index, (image_topic, info_topic, pose_topic) in enumerate(
            zip(images, infos, poses, strict=True)
        ):
            camera = CameraInput(f"camera{index}", p.pose_slop)
            cameras.append(camera)
            group = self._input_group
            if image_topic.endswith("/compressed"):
                self.create_subscription(
                    CompressedImage,
                    image_topic,
                    lambda msg, c=camera: self._on_image(c, msg, compressed=True),
                    CAMERA_QOS,
                    callback_group=group,
                )
            else:
                self.create_subscription(
                    Image,
                    image_topic,
                    lambda msg, c=camera: self._on_image(c, msg),
                    CAMERA_QOS,
                    callback_group=group,
                )
            self.create_subscription(
                CameraInfo,
                info_topic,
                lambda msg, c=camera: self._on_info(c, msg),
                qos_profile_sensor_data,
                callback_group=group,
            )
            frames = list(p.optical_frames)
            camera.tf_frame = frames[index] if index < len(frames) else ""
            if self.tf_buffer is not None:
                continue
            pose_type = Odometry if p.pose_source == "odometry" else PoseStamped
            self.create_subscription(
                pose_type,
                pose_topic,
                lambda msg, c=camera: self._on_pose(c, msg),
                QoSProfile(depth=100, reliability=ReliabilityPolicy.BEST_EFFORT),
                # Own group: in the input group, behind its 10 Hz timer and the image callbacks
                # (the executor serves a busy group's first ready entity), poses starved for
                # seconds under query load and their images were dropped.
                callback_group=self._pose_group,
            )
        return cameras

    def _build_engine(self) -> None:
        """Load encoders and build the engine off the executor (loading can take a while)."""
        try:
            import torch

            from lerf_ros.engine import LerfEngine
            from lerf_ros.features.encoders.registry import load_dense_encoder, load_encoder

            if self.p.torch_threads > 0:
                torch.set_num_threads(int(self.p.torch_threads))
            options = {"checkpoint": self.p.encoder_checkpoint} if self.p.encoder_checkpoint else {}
            encoder = load_encoder(self.p.encoder, **options)
            dense = load_dense_encoder(self.p.dino)
            engine = LerfEngine(engine_config(self.p), encoder, dense, frame_id=self.fixed_frame)
            checkpoint = Path(self.p.checkpoint_path) if self.p.checkpoint_path else None
            if self.p.resume and checkpoint is not None and checkpoint.exists():
                engine.load(checkpoint)
                self.get_logger().info(f"resumed from {checkpoint} at step {engine.step}")
            engine.start()
            self.engine = engine
            self.get_logger().info(
                f"engine ready on {engine.device} (encoder {self.p.encoder}, dino {self.p.dino})"
            )
        except Exception as error:  # report in ~/status, keep serving
            self.engine_error = f"engine failed to start: {error}"
            self.get_logger().error(f"{self.engine_error}\n{traceback.format_exc()}")

    # -------------------------------------------------------------- inputs
    def _drop(self, reason: str, detail: str = "") -> None:
        with self._drop_lock:
            self.frames_dropped += 1
            if self.engine is not None:
                self.engine.drops[reason] += 1
            now = time.monotonic()
            if now - self._log_times.get(reason, 0.0) > 5.0:  # rate-limited per reason
                self._log_times[reason] = now
                self.get_logger().warning(
                    f"dropped frame: {reason}{': ' + detail if detail else ''}"
                )

    def _on_info(self, camera: CameraInput, msg: CameraInfo) -> None:
        try:
            camera.intrinsics = conv.camera_info_to_intrinsics(msg)
            camera.info_error = None
        except Exception as error:  # InputError, or anything a hostile message provokes
            # Images are dropped until a valid calibration arrives again: training on a
            # stale one after the camera announced a broken one would be a silent guess.
            camera.intrinsics = None
            camera.info_error = str(error)

    def _on_pose(self, camera: CameraInput, msg) -> None:
        try:
            pose_msg = msg.pose.pose if isinstance(msg, Odometry) else msg.pose
            frame = msg.header.frame_id
            if frame and frame != self.fixed_frame:
                raise conv.InputError(f"pose is in {frame!r}, expected {self.fixed_frame!r}")
            stamp = conv.stamp_to_seconds(msg.header.stamp)
            if stamp - time.time() > MAX_STAMP_AHEAD:
                raise conv.InputError(f"stamp {stamp - time.time():.0f} s in the future")
            c2w = conv.pose_to_matrix(pose_msg) @ self._extrinsic
            with camera.pose_lock:
                camera.poses.add(stamp, c2w)
                camera.last_pose_arrival = time.monotonic()
        except Exception as error:  # InputError, or anything a hostile message provokes
            self._drop("bad pose", str(error))

    def _on_image(self, camera: CameraInput, msg, compressed: bool = False) -> None:
        self.frames_received += 1
        try:
            rgb = conv.compressed_to_rgb(msg) if compressed else conv.image_to_rgb(msg)
        except Exception as error:  # an escaping exception would stop the executor
            self._drop("bad image", str(error))
            return
        stamp = conv.stamp_to_seconds(msg.header.stamp)
        if stamp - time.time() > MAX_STAMP_AHEAD:
            # Before it becomes last_stamp: one such frame would make every later one look
            # like a clock reset.
            self._drop("stamp in the future", f"{stamp - time.time():.0f} s ahead")
            return
        if camera.last_stamp is not None and stamp <= camera.last_stamp:
            if camera.last_stamp - stamp > TIME_JUMP_BACK:
                # A clock reset (bag loop, simulator restart): follow it instead of dropping
                # every frame from now on.
                self.get_logger().warning(
                    f"{camera.name}: time jumped back {camera.last_stamp - stamp:.1f} s; "
                    "following the new clock"
                )
            else:
                self._drop("stamp not increasing", f"{stamp:.3f} after {camera.last_stamp:.3f}")
                return
        camera.last_stamp = stamp
        if camera.intrinsics is None:
            self._drop("no valid camera info", camera.info_error or "")
            return
        if self.tf_buffer is not None and not camera.tf_frame:
            camera.tf_frame = msg.header.frame_id
        if len(camera.pending) == camera.pending.maxlen:  # a burst without poses
            camera.pending.popleft()
            self._drop("too many images waiting for poses")
        camera.pending.append((stamp, rgb, camera.intrinsics, time.monotonic()))
        self._match_pending()

    def _match_pending(self) -> None:
        """Give images whose pose has arrived to the engine; drop those that waited too long."""
        for camera in self.cameras:
            still_waiting = deque(maxlen=camera.pending.maxlen)
            while camera.pending:
                stamp, rgb, intrinsics, arrived = camera.pending.popleft()
                with camera.pose_lock:
                    pose = (
                        self._tf_pose(camera, stamp)
                        if self.tf_buffer
                        else camera.poses.lookup(stamp)
                    )
                    gone = pose is None and self._pose_not_coming(camera, stamp, arrived)
                if pose is not None:
                    self._offer(camera, stamp, rgb, intrinsics, pose)
                elif gone:
                    self._drop("no pose for stamp", f"{stamp:.3f}")
                else:
                    still_waiting.append((stamp, rgb, intrinsics, arrived))
            camera.pending = still_waiting

    def _pose_not_coming(self, camera: CameraInput, stamp: float, arrived: float) -> bool:
        """Whether an image still without a pose should be dropped. With pose topics: once the
        pose stream has gone past its stamp, or when it waited ``pose_wait`` and no pose came
        for ``pose_wait`` either. Poses that keep coming, only late (the executor behind under
        query load), are waited for: by the wall clock alone, such images were all dropped."""
        now = time.monotonic()
        waited = now - arrived > self.p.pose_wait
        if self.tf_buffer is not None:
            return waited
        silent = now - camera.last_pose_arrival > self.p.pose_wait
        return camera.poses.passed(stamp) or (waited and silent)

    def _tf_pose(self, camera: CameraInput, stamp: float):
        """Pose of the camera's optical frame in fixed_frame at ``stamp`` from TF, or None."""
        from rclpy.time import Time

        when = Time(nanoseconds=int(stamp * 1e9))
        try:
            if not self.tf_buffer.can_transform(self.fixed_frame, camera.tf_frame, when):
                return None
            transform = self.tf_buffer.lookup_transform(self.fixed_frame, camera.tf_frame, when)
        except Exception:  # tf2 raises several exception types for "not (yet) available"
            return None
        t, q = transform.transform.translation, transform.transform.rotation
        return pose_from_translation_quaternion((t.x, t.y, t.z), (q.x, q.y, q.z, q.w))

    def _offer(self, camera, stamp, rgb, intrinsics, pose) -> None:
        if self.engine is None:
            self._drop("engine not started", self.engine_error or "loading encoders")
            return
        try:
            decision = self.engine.add_frame(rgb, intrinsics, pose, stamp, camera.name)
        except Exception as error:
            self._drop("engine rejected frame", str(error))
            return
        if not decision.accepted and decision.reason.startswith("invalid frame"):
            self.frames_dropped += 1
            now = time.monotonic()
            if now - self._log_times.get("invalid", 0.0) > 5.0:
                self._log_times["invalid"] = now
                self.get_logger().warning(f"dropped frame: {decision.reason}")

    # ------------------------------------------------------------- status
    def _publish_status(self) -> None:
        msg = TrainingStatus()
        msg.stamp = self.get_clock().now().to_msg()
        msg.frames_received = self.frames_received
        msg.frames_dropped = self.frames_dropped
        if self.engine is None:
            msg.state = "error" if self.engine_error else "waiting"
            msg.ready = False
            msg.message = self.engine_error or "not ready: loading encoders"
        else:
            s = self.engine.status()
            msg.state, msg.ready, msg.step, msg.keyframes = s.state, s.ready, s.step, s.keyframes
            msg.rays_per_second = float(s.rays_per_second)
            msg.rgb_loss, msg.clip_loss, msg.dino_loss = s.rgb_loss, s.clip_loss, s.dino_loss
            msg.message = s.message
        self.status_pub.publish(msg)

    def _not_ready(self) -> str | None:
        if self.engine is None:
            return self.engine_error or "not ready: loading encoders"
        return self.engine.not_ready_reason()

    # ----------------------------------------------------------- services
    def _on_query(self, request: Query.Request, response: Query.Response) -> Query.Response:
        started = time.monotonic()
        response.frame_id = self.fixed_frame
        try:
            reason = self._not_ready()
            if reason is not None:
                response.success, response.message = False, reason
                return response
            from lerf_ros.engine import NotReadyError, QueryError

            try:
                result = self.engine.query(
                    request.text,
                    list(request.negatives),
                    float(request.scale),
                    int(request.max_results),
                    float(request.min_relevancy),
                    bool(request.return_cloud),
                )
            except (QueryError, NotReadyError) as error:
                response.success, response.message = False, str(error)
                return response
            stamp = self.get_clock().now().to_msg()
            response.peaks = [conv.peak_to_msg(peak) for peak in result.peaks]
            response.selected_scale = float(result.selected_scale)
            cloud = conv.make_cloud(result.points, result.relevancy, self.fixed_frame, stamp)
            if request.return_cloud:
                response.cloud = cloud
            response.success = True
            response.message = result.summary()
            self._publish_query_outputs(result, cloud, stamp)
        except Exception as error:  # never let an exception escape a service callback
            self.get_logger().error(f"query failed: {error}\n{traceback.format_exc()}")
            response.success, response.message = False, f"internal error: {error}"
        finally:
            response.elapsed_seconds = float(time.monotonic() - started)
        return response

    def _publish_query_outputs(self, result, cloud, stamp, targets=None) -> None:
        self.cloud_pub.publish(cloud)
        radius = self.target_config.navigation.robot_radius
        self.marker_pub.publish(query_markers(result, self.fixed_frame, stamp, targets, radius))
        self._last_query = result
        # At most one heat map renders at a time, for the latest query: a burst of queries
        # must not start a thread (and a render under the model lock) per query.
        with self._heatmap_lock:
            self._heatmap_next = result
            if self._heatmap_busy:
                return
            self._heatmap_busy = True
        threading.Thread(target=self._heatmap_worker, name="lerf-heatmap", daemon=True).start()

    def _heatmap_worker(self) -> None:
        while True:
            with self._heatmap_lock:
                result, self._heatmap_next = self._heatmap_next, None
                if result is None:
                    self._heatmap_busy = False
                    return
            self._publish_heatmap(result)

    def _publish_heatmap(self, result) -> None:
        """Render the last query's relevancy from the latest keyframe's view (best effort)."""
        try:
            from lerf_ros.query.heatmap import overlay

            view = self.engine.relevancy_view(
                result.request.text,
                -1,
                result.selected_scale,
                result.request.negatives,
                width=int(self.p.relevancy_image_width),
            )
            image = overlay(view["rgb"], view["relevancy"])
            self.heatmap_pub.publish(
                conv.rgb_to_image(image, self.fixed_frame, self.get_clock().now().to_msg())
            )
        except Exception as error:
            self.get_logger().warning(f"relevancy image failed: {error}")

    def _on_get_targets(
        self, request: GetTargets.Request, response: GetTargets.Response
    ) -> GetTargets.Response:
        try:
            reason = self._not_ready()
            if reason is not None:
                response.success, response.message = False, reason
                return response
            from lerf_ros.engine import NotReadyError, QueryError
            from lerf_ros.targets.service import compute_targets

            try:
                answer = compute_targets(
                    self.engine,
                    request.text,
                    list(request.negatives),
                    int(request.max_results),
                    self.target_config,
                )
            except (QueryError, NotReadyError) as error:
                response.success, response.message = False, str(error)
                return response
            stamp = self.get_clock().now().to_msg()
            response.peaks = [conv.peak_to_msg(peak) for peak in answer.result.peaks]
            response.grasp_poses = [self._pose(t, stamp) for t in answer.grasps]
            response.grasp_scores = [float(t.score) for t in answer.grasps]
            response.navigation_goals = [self._pose(t, stamp) for t in answer.goals]
            response.success = bool(answer.result.peaks)
            response.message = answer.message
            cloud = conv.make_cloud(
                answer.result.points, answer.result.relevancy, self.fixed_frame, stamp
            )
            self._publish_query_outputs(answer.result, cloud, stamp, targets=answer)
            if response.navigation_goals:
                self.goal_pub.publish(response.navigation_goals[0])
                if self.nav2_goal_pub is not None:
                    self.nav2_goal_pub.publish(response.navigation_goals[0])
        except Exception as error:
            self.get_logger().error(f"get_targets failed: {error}\n{traceback.format_exc()}")
            response.success, response.message = False, f"internal error: {error}"
        return response

    def _pose(self, target, stamp) -> PoseStamped:
        pose = PoseStamped()
        pose.header.frame_id = self.fixed_frame
        pose.header.stamp = stamp
        matrix = pose_from_translation_quaternion(target.position, target.quaternion)
        pose.pose = conv.matrix_to_pose(matrix)
        return pose

    def _checkpoint(self) -> Path | None:
        return Path(self.p.checkpoint_path) if self.p.checkpoint_path else None

    def _on_save(self, request, response):
        return self._trigger(response, lambda e, path: (e.save(path), f"saved {path}")[1])

    def _on_load(self, request, response):
        return self._trigger(response, lambda e, path: (e.load(path), f"loaded {path}")[1])

    def _trigger(self, response, action):
        try:
            path = self._checkpoint()
            if self.engine is None:
                response.success, response.message = False, self._not_ready() or "no engine"
            elif path is None:
                response.success, response.message = False, "parameter checkpoint_path is empty"
            else:
                response.message = action(self.engine, path)
                response.success = True
        except Exception as error:
            response.success, response.message = False, str(error)
        return response

    def _on_reset(self, request, response):
        if self.engine is None:
            response.success, response.message = False, self._not_ready() or "no engine"
        else:
            self.engine.reset()
            response.success, response.message = True, "field and keyframes cleared"
        return response

    def _on_pause(self, request, response):
        if self.engine is None:
            response.success, response.message = False, self._not_ready() or "no engine"
        else:
            self.engine.pause(bool(request.data))
            response.success = True
            response.message = "paused" if request.data else "training"
        return response

    def _autosave(self) -> None:
        path = self._checkpoint()
        if self.engine is None or path is None or self.engine.trainer is None:
            return
        try:
            self.engine.save(path)
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
