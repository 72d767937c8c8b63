"""Each camera's subscriptions (image, camera info, pose or TF): messages are converted at the
edge and fed to the ROS-free :class:`~lerf_ros.data.frame_sync.FrameSync`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from lerf_ros.cameras.conventions import pose_from_translation_quaternion
from lerf_ros.data.depth import DepthError
from lerf_ros.data.drops import DropLedger
from lerf_ros.data.frame_sync import DropReport, FrameSync, MatchedFrame
from lerf_ros.extrinsics import camera_extrinsics
from lerf_ros.ros import conversions as conv

# Camera streams: best effort accepts both reliable and best-effort publishers.
CAMERA_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT)
POSE_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.BEST_EFFORT)


class CameraInputs:
    """Subscribes every camera's topics and feeds one :class:`FrameSync`; matched frames go to
    ``deliver``."""

    def __init__(
        self,
        node: Node,
        params,
        ledger: DropLedger,
        deliver: Callable[[list[MatchedFrame]], None],
        *,
        input_group,
        pose_group,
        on_drop: DropReport,
    ):
        p = params
        images, infos, poses = list(p.image_topics), list(p.camera_info_topics), list(p.pose_topics)
        if len(infos) != len(images):
            raise ValueError("image_topics and camera_info_topics must have the same length")
        self.node = node
        self.fixed_frame = p.fixed_frame
        self.deliver = deliver
        self.extrinsics = {
            f"camera{index}": pose_from_translation_quaternion(translation, quaternion)
            for index, (translation, quaternion) in enumerate(
                camera_extrinsics(p.extrinsic, len(images))
            )
        }
        """Pose of each camera's optical frame in its posed frame (the ``extrinsic`` parameter)."""
        self.rectified = {
            f"camera{index}": conv.is_rectified_topic(topic) for index, topic in enumerate(images)
        }
        """Cameras whose image topic is image_rect*: their CameraInfo's P, not K and D, applies."""
        self.tf_buffer = None
        if p.pose_source == "tf":
            self.tf_buffer = self._listen_to_tf()
            poses = poses if len(poses) == len(images) else [""] * len(images)
        if len(poses) != len(images):
            raise ValueError("pose_topics must have one topic per camera")
        depths = list(p.depth_topics)
        if not any(depths):  # the default [''] means no depth, whatever the camera count
            depths = [""] * len(images)
        if len(depths) != len(images):
            raise ValueError(
                f"depth_topics must have one topic per camera ('' for a camera without depth): "
                f"{len(depths)} for {len(images)} image topics"
            )
        self.depth_scale, self.depth_max = float(p.depth_scale), float(p.depth_max)
        names = [f"camera{index}" for index in range(len(images))]
        frames = list(p.optical_frames)
        self.tf_frames = {
            name: frames[index] if index < len(frames) else "" for index, name in enumerate(names)
        }
        """Optical frame per camera: looked up in TF (pose_source=tf) and the frame of the
        ~/relevancy_image rendered from its view; '' takes the image header's on the first
        image (whatever the pose source)."""
        self.sync = FrameSync(
            names,
            ledger,
            slop=p.pose_slop,
            pose_wait=p.pose_wait,
            lookup=self._tf_pose if self.tf_buffer is not None else None,
            on_drop=on_drop,
            on_warning=node.get_logger().warning,
            depth_cameras=[name for name, topic in zip(names, depths, strict=True) if topic],
        )
        pose_type = Odometry if p.pose_source == "odometry" else PoseStamped
        for name, image_topic, info_topic, pose_topic, depth_topic in zip(
            names, images, infos, poses, depths, strict=True
        ):
            compressed = image_topic.endswith("/compressed")
            node.create_subscription(
                CompressedImage if compressed else Image,
                image_topic,
                lambda msg, c=name, z=compressed: self._on_image(c, msg, z),
                CAMERA_QOS,
                callback_group=input_group,
            )
            node.create_subscription(
                CameraInfo,
                info_topic,
                lambda msg, c=name: self._on_info(c, msg),
                qos_profile_sensor_data,
                callback_group=input_group,
            )
            if depth_topic:
                packed = depth_topic.endswith("/compressedDepth")
                node.create_subscription(
                    CompressedImage if packed else Image,
                    depth_topic,
                    lambda msg, c=name, z=packed: self._on_depth(c, msg, z),
                    CAMERA_QOS,
                    callback_group=input_group,
                )
            if self.tf_buffer is not None:
                continue
            node.create_subscription(
                pose_type,
                pose_topic,
                lambda msg, c=name: self._on_pose(c, msg),
                POSE_QOS,
                # Own group: in the input group, behind its 10 Hz timer and the image callbacks
                # (the executor serves a busy group's first ready entity), poses starved for
                # seconds under query load and their images were dropped.
                callback_group=pose_group,
            )

    def _listen_to_tf(self):
        try:
            import tf2_ros
        except ImportError as error:
            raise ValueError(
                "pose_source=tf needs tf2_ros, which is not installed in this environment "
                "(use pose_source=pose or odometry, or run on a ROS 2 install with tf2_ros)"
            ) from error
        buffer = tf2_ros.Buffer()
        self._tf_listener = tf2_ros.TransformListener(buffer, self.node)
        return buffer

    # Every callback catches what a hostile message provokes: an exception escaping a callback
    # would stop the executor.
    def _on_info(self, camera: str, msg: CameraInfo) -> None:
        try:
            intrinsics = conv.camera_info_to_intrinsics(msg, rectified=self.rectified[camera])
        except Exception as error:
            self.sync.bad_camera_info(camera, str(error))
            return
        self.sync.camera_info(camera, intrinsics)

    def _on_pose(self, camera: str, msg) -> None:
        try:
            pose_msg = msg.pose.pose if isinstance(msg, Odometry) else msg.pose
            frame = msg.header.frame_id
            if frame and frame != self.fixed_frame:
                raise conv.InputError(f"pose is in {frame!r}, expected {self.fixed_frame!r}")
            stamp = conv.stamp_to_seconds(msg.header.stamp)
            c2w = conv.pose_to_matrix(pose_msg) @ self.extrinsics[camera]
        except Exception as error:
            self.sync.bad_pose(camera, str(error))
            return
        self.sync.pose(camera, stamp, c2w)

    def _on_image(self, camera: str, msg, compressed: bool) -> None:
        try:
            rgb = conv.compressed_to_rgb(msg) if compressed else conv.image_to_rgb(msg)
        except Exception as error:
            self.sync.bad_image(camera, str(error))
            return
        if not self.tf_frames[camera]:
            self.tf_frames[camera] = msg.header.frame_id
        self.deliver(self.sync.image(camera, conv.stamp_to_seconds(msg.header.stamp), rgb))

    def _on_depth(self, camera: str, msg, compressed: bool) -> None:
        try:
            stamp = conv.stamp_to_seconds(msg.header.stamp)
        except Exception:  # its colour image then waits for depth until pose_wait
            stamp = None
        try:
            decode = conv.compressed_depth_to_metres if compressed else conv.depth_image_to_metres
            metres = decode(msg, self.depth_scale, self.depth_max)
        except Exception as error:
            if not isinstance(error, DepthError):  # a fault no check foresaw: still a depth drop
                error = DepthError(f"depth cannot be decoded: {error}")
            self.deliver(self.sync.bad_depth(camera, stamp, error))
            return
        if stamp is None:
            self.deliver(self.sync.bad_depth(camera, None, DepthError("depth stamp unreadable")))
            return
        self.deliver(self.sync.depth(camera, stamp, metres))

    def match(self) -> None:
        """Deliver the frames whose pose came since the last image (the node's timer)."""
        self.deliver(self.sync.match())

    def _tf_pose(self, camera: str, stamp: float) -> np.ndarray | None:
        """Pose of the camera's optical frame in fixed_frame at ``stamp`` from TF, or None."""
        from rclpy.time import Time

        when = Time(nanoseconds=int(stamp * 1e9))
        frame = self.tf_frames[camera]
        try:
            if not self.tf_buffer.can_transform(self.fixed_frame, frame, when):
                return None
            transform = self.tf_buffer.lookup_transform(self.fixed_frame, frame, when)
        except Exception:  # tf2 raises several exception types for "not (yet) available"
            return None
        t, q = transform.transform.translation, transform.transform.rotation
        return pose_from_translation_quaternion((t.x, t.y, t.z), (q.x, q.y, q.z, q.w))
