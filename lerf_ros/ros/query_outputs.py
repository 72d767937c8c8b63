"""What an answered query publishes: the relevancy cloud, markers, navigation goals and,
rendered in the background, the relevancy heat map."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from lerf_ros.cameras.conventions import pose_from_translation_quaternion
from lerf_ros.ros import conversions as conv
from lerf_ros.ros.markers import query_markers

LATCHED_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
"""Outputs a late subscriber needs (markers, relevancy cloud, navigation goals): the publisher
keeps the last message and hands it to subscribers that ask for transient-local durability
(RViz or a planner started after the query). Volatile subscribers still match but get only new
messages: Nav2's bt_navigator subscribes goal_pose volatile, so it never drives to a goal
published before it started."""

ViewFrame = tuple[int, str, float]
"""(keyframe id, optical frame, stamp in seconds) of the keyframe a relevancy view renders."""


def latest_view_frame(engine, optical_frames: Mapping[str, str]) -> ViewFrame | None:
    """The latest keyframe's id, its camera's optical frame ('' if this run has not seen that
    camera) and its stamp: the view ``relevancy_view(keyframe_index=-1)`` renders; None
    without an engine or keyframes."""
    latest = engine.status().latest_keyframe if engine is not None else None
    if latest is None:
        return None
    keyframe_id, camera, stamp = latest
    return keyframe_id, optical_frames.get(camera, ""), stamp


def seconds_to_stamp(seconds: float) -> Time:
    nanoseconds = max(0, round(seconds * 1e9))
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def target_pose(target, frame_id: str, stamp) -> PoseStamped:
    """A grasp or navigation target (position, quaternion) as a ``PoseStamped``."""
    pose = PoseStamped()
    pose.header.frame_id = frame_id
    pose.header.stamp = stamp
    matrix = pose_from_translation_quaternion(target.position, target.quaternion)
    pose.pose = conv.matrix_to_pose(matrix)
    return pose


class QueryOutputs:
    """Publishes a query's results on the node's output topics."""

    def __init__(
        self,
        node: Node,
        *,
        cloud: Publisher,
        markers: Publisher,
        heatmap: Publisher,
        goals: list[Publisher],
        frame_id: str,
        robot_radius: float,
        heatmap_width: int,
        relevancy_view: Callable[..., dict],
        view_frame: Callable[[], ViewFrame | None] = lambda: None,
    ):
        """``goals``: where the best navigation goal goes (``~/nav_goal``, and ``goal_pose``
        in the node's namespace for Nav2 when asked for); ``relevancy_view`` is the engine's;
        ``view_frame`` says which camera's view it renders (:func:`latest_view_frame`)."""
        self.node = node
        self.cloud, self.markers, self.heatmap, self.goals = cloud, markers, heatmap, goals
        self.frame_id = frame_id
        self.robot_radius = robot_radius
        self.heatmap_width = heatmap_width
        self.relevancy_view = relevancy_view
        self.view_frame = view_frame
        self._heatmap_lock = threading.Lock()
        self._heatmap_next = None
        self._heatmap_busy = False

    def publish(self, result, cloud, stamp, targets=None) -> None:
        self.cloud.publish(cloud)
        self.markers.publish(
            query_markers(result, self.frame_id, stamp, targets, self.robot_radius)
        )
        # At most one heat map renders at a time, for the latest query: a burst of queries
        # must not start a thread (and a render under the model lock) per query.
        with self._heatmap_lock:
            self._heatmap_next = result
            if self._heatmap_busy:
                return
            self._heatmap_busy = True
        threading.Thread(target=self._heatmap_worker, name="lerf-heatmap", daemon=True).start()

    def publish_goal(self, goal: PoseStamped) -> None:
        for publisher in self.goals:
            publisher.publish(goal)

    def _heatmap_worker(self) -> None:
        while True:
            with self._heatmap_lock:
                result, self._heatmap_next = self._heatmap_next, None
                if result is None:
                    self._heatmap_busy = False
                    return
            self._publish_heatmap(result)

    def _publish_heatmap(self, result) -> None:
        """Render the query's relevancy from the latest keyframe's view (best effort)."""
        try:
            from lerf_ros.query.heatmap import overlay

            before = self.view_frame()
            view = self.relevancy_view(
                result.request.text,
                -1,
                result.selected_scale,
                result.request.negatives,
                width=self.heatmap_width,
            )
            frame_id, stamp = self._heatmap_header(before, self.view_frame())
            image = overlay(view["rgb"], view["relevancy"])
            self.heatmap.publish(conv.rgb_to_image(image, frame_id, stamp))
        except Exception as error:
            self.node.get_logger().warning(f"relevancy image failed: {error}")

    def _heatmap_header(self, before: ViewFrame | None, after: ViewFrame | None):
        """Frame and stamp of a heat map rendered between ``before`` and ``after``: the
        rendered keyframe's camera optical frame and stamp (where that camera was).

        A keyframe may arrive while the view renders: the view is then ``before``'s or a
        later one, the same camera's unless cameras differ. Without a known camera (keyframes
        restored from a checkpoint whose camera has sent no image in this run) or when two
        cameras' keyframes raced, the pixels belong to no frame we can name: they are stamped
        in the fixed frame at render time, which TF always resolves (RViz's Image display
        shows them; a Camera display would misplace them)."""
        if before is None or after is None or not after[1] or before[1] != after[1]:
            return self.frame_id, self.node.get_clock().now().to_msg()
        _, frame_id, seconds = before if before[0] == after[0] else after
        return frame_id, seconds_to_stamp(seconds)
