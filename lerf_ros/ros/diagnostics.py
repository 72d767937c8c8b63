"""``/diagnostics`` for the trainer node: :mod:`lerf_ros.health`'s entries, once a second.

The absolute topic is the one ``diagnostic_aggregator`` and ``rqt_robot_monitor`` read; each
entry is a ``diagnostic_msgs/DiagnosticStatus`` named ``<node>: <entry>`` with the node's name
as ``hardware_id``.
"""

from __future__ import annotations

import time
import traceback

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.clock import Clock, ClockType

from lerf_ros.health import HealthEntry, HealthMonitor, HealthReadings, HealthThresholds
from lerf_ros.ros.guards import QuietPublisher

TOPIC = "/diagnostics"
PERIOD_S = 1.0


def host_memory() -> tuple[int, int]:
    """Resident bytes of this process and the host's total bytes (0, 0 if unknown)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss, psutil.virtual_memory().total
    except Exception:  # psutil missing or /proc unreadable: report nothing rather than fail
        return 0, 0


def gpu_memory(device) -> tuple[int, int, int]:
    """Bytes allocated, reserved and in all on ``device`` when it is a CUDA device, else 0s."""
    if device is None or getattr(device, "type", "cpu") != "cuda":
        return 0, 0, 0
    import torch

    total = torch.cuda.get_device_properties(device).total_memory
    return torch.cuda.memory_allocated(device), torch.cuda.memory_reserved(device), total


def readings(node) -> HealthReadings:
    """What the trainer node knows now (its engine may be absent: loading or cleaned up)."""
    engine = node.engine
    ledger = node.ledger
    r = HealthReadings(
        lifecycle=node.lifecycle_state(),
        engine_error=node.engine_error or "",
        frames_received=ledger.frames_received,
        frames_dropped=ledger.frames_dropped,
        drop_reasons=ledger.reasons(),
    )
    r.host_rss, r.host_total = host_memory()
    if engine is not None:
        r.status = engine.status()
        worker = engine.feature_worker
        r.feature_queue, r.feature_queue_capacity = worker.queue.qsize(), worker.queue.maxsize
        r.feature_overflows = worker.overflows
        r.gpu_allocated, r.gpu_reserved, r.gpu_total = gpu_memory(engine.device)
    return r


def to_message(entries: list[HealthEntry], node_name: str, stamp) -> DiagnosticArray:
    array = DiagnosticArray()
    array.header.stamp = stamp
    for entry in entries:
        status = DiagnosticStatus(
            level=bytes([entry.level]),
            name=f"{node_name}: {entry.name}",
            message=entry.message,
            hardware_id=node_name,
        )
        status.values = [KeyValue(key=k, value=v) for k, v in entry.values.items()]
        array.status.append(status)
    return array


class DiagnosticsPublisher:
    """Publishes the node's health on ``/diagnostics`` at 1 Hz (steady clock, like ~/status)."""

    def __init__(self, node, callback_group, thresholds: HealthThresholds | None = None):
        self.node = node
        self.monitor = HealthMonitor(thresholds)
        self.publisher = QuietPublisher(
            node.create_publisher(DiagnosticArray, TOPIC, 10), node._stopping
        )
        node.create_timer(
            PERIOD_S,
            self.publish,
            callback_group=callback_group,
            clock=Clock(clock_type=ClockType.STEADY_TIME),
        )

    def publish(self) -> None:
        try:
            entries = self.monitor.update(readings(self.node), time.monotonic())
            stamp = self.node.get_clock().now().to_msg()
            self.publisher.publish(to_message(entries, self.node.get_name(), stamp))
        except Exception as error:  # a timer callback must not stop the executor
            if not self.node._stopping():
                self.node.get_logger().error(
                    f"diagnostics failed: {error}\n{traceback.format_exc()}"
                )
