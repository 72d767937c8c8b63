"""What an answered query publishes: the relevancy cloud, markers, navigation goals and,
rendered in the background, the relevancy heat map."""

from __future__ import annotations

import threading
from collections.abc import Callable

from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from rclpy.publisher import Publisher

from lerf_ros.cameras.conventions import pose_from_translation_quaternion
from lerf_ros.ros import conversions as conv
from lerf_ros.ros.markers import query_markers


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
    ):
        """``goals``: where the best navigation goal goes (``~/nav_goal``, and Nav2's
        ``/goal_pose`` when asked for); ``relevancy_view`` is the engine's."""
        self.node = node
        self.cloud, self.markers, self.heatmap, self.goals = cloud, markers, heatmap, goals
        self.frame_id = frame_id
        self.robot_radius = robot_radius
        self.heatmap_width = heatmap_width
        self.relevancy_view = relevancy_view
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

            view = self.relevancy_view(
                result.request.text,
                -1,
                result.selected_scale,
                result.request.negatives,
                width=self.heatmap_width,
            )
            image = overlay(view["rgb"], view["relevancy"])
            stamp = self.node.get_clock().now().to_msg()
            self.heatmap.publish(conv.rgb_to_image(image, self.frame_id, stamp))
        except Exception as error:
            self.node.get_logger().warning(f"relevancy image failed: {error}")
