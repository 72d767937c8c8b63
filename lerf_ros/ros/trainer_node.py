"""``lerf_trainer``: the node a robot runs.

Thin by design: it declares parameters, converts messages, and delegates to the ROS-free
engine. Every service callback catches its own errors and answers ``success=false`` with a
message; nothing escapes into rclpy's executor.
"""

from __future__ import annotations

import sys
import time
import traceback

import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node

from lerf_ros.msg import TrainingStatus
from lerf_ros.srv import GetTargets, Query


class LerfTrainerNode(Node):
    """Trains a LERF online from posed camera streams and answers language queries."""

    def __init__(self, **node_kwargs):
        super().__init__("lerf_trainer", **node_kwargs)
        self.fixed_frame = self.declare_parameter("fixed_frame", "map").value
        self.engine = None
        self._service_group = ReentrantCallbackGroup()
        self._timer_group = MutuallyExclusiveCallbackGroup()
        self.status_pub = self.create_publisher(TrainingStatus, "~/status", 10)
        self.create_service(Query, "~/query", self._on_query, callback_group=self._service_group)
        self.create_service(
            GetTargets, "~/get_targets", self._on_get_targets, callback_group=self._service_group
        )
        self.create_timer(1.0, self._publish_status, callback_group=self._timer_group)
        self.frames_received = 0
        self.frames_dropped = 0

    def _not_ready_reason(self) -> str | None:
        if self.engine is None:
            return "not ready: no keyframes received yet"
        return None

    def _publish_status(self) -> None:
        msg = TrainingStatus()
        msg.stamp = self.get_clock().now().to_msg()
        reason = self._not_ready_reason()
        msg.state = "waiting"
        msg.ready = reason is None
        msg.frames_received = self.frames_received
        msg.frames_dropped = self.frames_dropped
        msg.message = reason or ""
        self.status_pub.publish(msg)

    def _on_query(self, request: Query.Request, response: Query.Response) -> Query.Response:
        started = time.monotonic()
        response.frame_id = self.fixed_frame
        try:
            reason = self._not_ready_reason()
            if reason is not None:
                response.success = False
                response.message = reason
                return response
            response.success = False
            response.message = "query engine not available"
        except Exception as error:  # never let an exception escape a service callback
            self.get_logger().error(f"query failed: {error}\n{traceback.format_exc()}")
            response.success = False
            response.message = f"internal error: {error}"
        finally:
            response.elapsed_seconds = float(time.monotonic() - started)
        return response

    def _on_get_targets(
        self, request: GetTargets.Request, response: GetTargets.Response
    ) -> GetTargets.Response:
        reason = self._not_ready_reason()
        response.success = False
        response.message = reason or "targets not available"
        return response


def main(argv: list[str] | None = None) -> int:
    rclpy.init(args=argv if argv is not None else sys.argv)
    node = LerfTrainerNode()
    executor = MultiThreadedExecutor(num_threads=4)
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
