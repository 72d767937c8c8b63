"""Concurrent query load against a running ``lerf_trainer``: latency percentiles, failures,
and the training step rate without and with the load.

Used by the load test (``test/ros/test_load.py``, a small load) and by ``benchmarks/load.py``
(10 clients x 50 queries). Every client is a :class:`TrainerClient` with its own rclpy context,
in its own thread, calling ``~/query`` back to back.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from lerf_ros.ros.client import TrainerClient


@dataclass
class LoadResult:
    """What one load run measured."""

    clients: int
    queries_per_client: int
    latencies: list[float] = field(default_factory=list)
    """Seconds from request to response, as each client saw it (successful calls)."""
    server_seconds: list[float] = field(default_factory=list)
    """``elapsed_seconds`` the node reported for the same calls (its own work, no queueing)."""
    failures: list[str] = field(default_factory=list)
    """One line per call that failed: success=false, a timeout, or an exception."""
    baseline_steps_per_second: float = 0.0
    loaded_steps_per_second: float = 0.0
    wall_seconds: float = 0.0
    steps_during_load: int = 0

    @property
    def calls(self) -> int:
        return self.clients * self.queries_per_client

    def summary(self) -> dict:
        def percentile(values: list[float], q: float) -> float | None:
            if not values:
                return None
            ordered = sorted(values)
            index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
            return round(ordered[index], 3)

        drop = None
        if self.baseline_steps_per_second > 0:
            drop = 1.0 - self.loaded_steps_per_second / self.baseline_steps_per_second
        return {
            "clients": self.clients,
            "queries_per_client": self.queries_per_client,
            "calls": self.calls,
            "failures": len(self.failures),
            "latency_p50_s": percentile(self.latencies, 50),
            "latency_p95_s": percentile(self.latencies, 95),
            "latency_max_s": percentile(self.latencies, 100),
            "server_p50_s": percentile(self.server_seconds, 50),
            "server_p95_s": percentile(self.server_seconds, 95),
            "queries_per_second": round(len(self.latencies) / self.wall_seconds, 2)
            if self.wall_seconds
            else None,
            "wall_s": round(self.wall_seconds, 1),
            "steps_per_second_idle": round(self.baseline_steps_per_second, 3),
            "steps_per_second_under_load": round(self.loaded_steps_per_second, 3),
            "step_rate_drop": round(drop, 3) if drop is not None else None,
            "steps_during_load": self.steps_during_load,
            "first_failures": self.failures[:5],
        }


def _stamp(status) -> float:
    return status.stamp.sec + 1e-9 * status.stamp.nanosec


def steps_per_second(statuses: list) -> tuple[float, int]:
    """Training rate over a list of ``~/status`` messages: (steps/s, steps)."""
    if len(statuses) < 2:
        return 0.0, 0
    first, last = statuses[0], statuses[-1]
    seconds = _stamp(last) - _stamp(first)
    steps = int(last.step) - int(first.step)
    return (steps / seconds if seconds > 0 else 0.0), steps


def measure_step_rate(monitor: TrainerClient, seconds: float) -> float:
    """Steps per second the node reports over the next ``seconds``."""
    monitor.status_history.clear()
    monitor.spin_for(seconds)
    return steps_per_second(list(monitor.status_history))[0]


def run_load(
    node_name: str = "/lerf_trainer",
    clients: int = 10,
    queries: int = 50,
    texts: list[str] | None = None,
    timeout: float = 300.0,
    baseline_seconds: float = 20.0,
) -> LoadResult:
    """``clients`` threads, each calling ``~/query`` ``queries`` times back to back, while the
    node trains. The node must be ready (``~/status`` ready) before this is called."""
    texts = texts or ["red ball", "blue box", "green mug", "yellow book", "wooden table"]
    result = LoadResult(clients, queries)
    lock = threading.Lock()
    monitor = TrainerClient(node_name, "load_monitor")
    workers = [TrainerClient(node_name, f"load_client_{i}") for i in range(clients)]
    try:
        for client in [monitor, *workers]:
            if not client.wait_for_services(60):
                raise TimeoutError(f"{node_name} services are not available")
        monitor.wait_until(lambda: monitor.last_status is not None, 10)
        result.baseline_steps_per_second = measure_step_rate(monitor, baseline_seconds)
        start = threading.Barrier(clients + 1)

        def work(index: int, client: TrainerClient) -> None:
            start.wait()
            for n in range(queries):
                text = texts[(index + n) % len(texts)]
                began = time.perf_counter()
                try:
                    response = client.query(text, timeout=timeout)
                except Exception as error:  # a timeout or a transport error is a failure too
                    with lock:
                        result.failures.append(f"client {index} call {n}: {error}")
                    continue
                seconds = time.perf_counter() - began
                with lock:
                    if response.success:
                        result.latencies.append(seconds)
                        result.server_seconds.append(float(response.elapsed_seconds))
                    else:
                        result.failures.append(f"client {index} call {n}: {response.message}")

        threads = [
            threading.Thread(target=work, args=(i, c), name=f"load-{i}", daemon=True)
            for i, c in enumerate(workers)
        ]
        for thread in threads:
            thread.start()
        monitor.status_history.clear()
        start.wait()
        began = time.perf_counter()
        while any(thread.is_alive() for thread in threads):
            monitor.spin_for(0.5)
        result.wall_seconds = time.perf_counter() - began
        monitor.spin_for(1.2)  # one more status after the last answer
        rate, steps = steps_per_second(list(monitor.status_history))
        result.loaded_steps_per_second, result.steps_during_load = rate, steps
    finally:
        for client in [monitor, *workers]:
            client.close()
    return result
