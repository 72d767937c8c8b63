"""Mixed-client load against a running ``lerf_trainer``: clients mixing ``~/query``,
``~/get_targets`` and ``~/save`` while a monitor follows ``~/status`` and ``~/relevancy_image``.

What the issue's freeze broke, measured: calls that failed (a timeout, an exception, an
``internal error``), ``busy:`` answers (handled, counted apart), the longest gap between two
``~/status`` messages, and the training step rate idle and under load. Used by
``test/ros/test_node_under_load.py`` (about a minute) and ``benchmarks/node_load.py`` (minutes).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from sensor_msgs.msg import Image

from lerf_ros.ros.client import TrainerClient
from lerf_ros.ros.load import steps_per_second

KINDS = ("query", "get_targets", "query", "save")
"""What client ``i`` calls on its ``n``-th call: ``KINDS[(i + n) % 4]``."""
BUSY_BACKOFF = 0.5
"""Seconds a client waits before it asks again after a ``busy:`` answer."""
TEXTS = ("red ball", "blue box", "green mug", "yellow book", "wooden table")


@dataclass
class MixedLoadResult:
    """What one mixed load run measured."""

    clients: int
    seconds: float
    outcomes: Counter = field(default_factory=Counter)
    """(kind, outcome) -> calls; outcome is ok, declined (a clear success=false), failed, or
    busy (still refused when the load ended: handled, not failed)."""
    busy_answers: int = 0
    """``busy:`` answers received; the client asked again after BUSY_BACKOFF."""
    failures: list[str] = field(default_factory=list)
    """One line per failed call: a timeout, an exception or an ``internal error``."""
    declined: list[str] = field(default_factory=list)
    """Clear ``success=false`` answers other than busy (e.g. no target for a text)."""
    status_gap_s: float = 0.0
    """Longest time between two consecutive ``~/status`` stamps during the load."""
    status_messages: int = 0
    relevancy_images: int = 0
    idle_steps_per_second: float = 0.0
    loaded_steps_per_second: float = 0.0
    steps_during_load: int = 0
    wall_seconds: float = 0.0

    def count(self, outcome: str, kind: str | None = None) -> int:
        return sum(n for (k, o), n in self.outcomes.items() if o == outcome and kind in (None, k))

    @property
    def calls(self) -> int:
        return sum(self.outcomes.values())

    def summary(self) -> dict:
        return {
            "clients": self.clients,
            "seconds": round(self.wall_seconds, 1),
            "calls": self.calls,
            "ok": self.count("ok"),
            "busy_answers": self.busy_answers,
            "busy_at_end": self.count("busy"),
            "declined": self.count("declined"),
            "failed": self.count("failed"),
            "by_kind": {f"{k}/{o}": n for (k, o), n in sorted(self.outcomes.items())},
            "status_messages": self.status_messages,
            "status_max_gap_s": round(self.status_gap_s, 2),
            "relevancy_images": self.relevancy_images,
            "steps_per_second_idle": round(self.idle_steps_per_second, 3),
            "steps_per_second_under_load": round(self.loaded_steps_per_second, 3),
            "steps_during_load": self.steps_during_load,
            "first_failures": self.failures[:5],
            "first_declined": self.declined[:5],
        }


def _stamp(status) -> float:
    return status.stamp.sec + 1e-9 * status.stamp.nanosec


def max_gap(statuses: list) -> float:
    """Longest interval between consecutive status stamps (0 with fewer than two)."""
    stamps = [_stamp(s) for s in statuses]
    return max((b - a for a, b in itertools.pairwise(stamps)), default=0.0)


def _call(client: TrainerClient, kind: str, text: str, timeout: float):
    if kind == "query":
        return client.query(text, timeout=timeout)
    if kind == "get_targets":
        return client.get_targets(text, timeout=timeout)
    return client.save(timeout=timeout)  # ~/save of checkpoint_path itself


def run_mixed_load(
    node_name: str = "/lerf_trainer",
    clients: int = 8,
    seconds: float = 60.0,
    baseline_seconds: float = 10.0,
    timeout: float = 120.0,
) -> MixedLoadResult:
    """``clients`` threads calling back to back for ``seconds`` (each finishes its last call);
    the node must be ready. The idle step rate is measured first, over ``baseline_seconds``."""
    result = MixedLoadResult(clients, seconds)
    lock = threading.Lock()
    monitor = TrainerClient(node_name, "mixed_load_monitor")
    images: list[float] = []
    monitor.node.create_subscription(
        Image, f"{node_name.rstrip('/')}/relevancy_image", lambda _: images.append(1.0), 1
    )
    # The workers see busy answers themselves, to count them.
    workers = [
        TrainerClient(node_name, f"mixed_load_client_{i}", retry_busy=False) for i in range(clients)
    ]
    try:
        for client in [monitor, *workers]:
            if not client.wait_for_services(60):
                raise TimeoutError(f"{node_name} services are not available")
        monitor.status_history.clear()
        monitor.spin_for(baseline_seconds)
        result.idle_steps_per_second = steps_per_second(list(monitor.status_history))[0]
        start = threading.Barrier(clients + 1)
        deadline = [0.0]

        def attempt(kind: str, client: TrainerClient, text: str) -> tuple[str, str]:
            """(outcome, detail) of one call, retried after a back-off while it is busy."""
            while True:
                try:
                    response = _call(client, kind, text, timeout)
                except Exception as error:  # a timeout or a transport error is a failure
                    return "failed", str(error)
                message = str(response.message)
                if response.success:
                    return "ok", ""
                if not message.startswith("busy:"):
                    if "internal error" in message or not message:
                        return "failed", repr(message)
                    return "declined", message
                with lock:
                    result.busy_answers += 1
                # Busy says "try again": a client that retried at once would only load the
                # node with refusals. Give up (handled, not failed) when the load ends.
                if time.monotonic() + BUSY_BACKOFF >= deadline[0]:
                    return "busy", message
                time.sleep(BUSY_BACKOFF)

        def work(index: int, client: TrainerClient) -> None:
            start.wait()
            n = 0
            while time.monotonic() < deadline[0]:
                kind = KINDS[(index + n) % len(KINDS)]
                label = f"client {index} call {n} ({kind})"
                n += 1
                outcome, detail = attempt(kind, client, TEXTS[(index + n) % len(TEXTS)])
                with lock:
                    result.outcomes[(kind, outcome)] += 1
                    if outcome == "failed":
                        result.failures.append(f"{label}: {detail}")
                    elif outcome == "declined":
                        result.declined.append(f"{label}: {detail}")
                if outcome == "busy":
                    return  # still busy when the load ended: this client is done

        threads = [
            threading.Thread(target=work, args=(i, c), name=f"mixed-{i}", daemon=True)
            for i, c in enumerate(workers)
        ]
        for thread in threads:
            thread.start()
        monitor.status_history.clear()
        images.clear()
        deadline[0] = time.monotonic() + seconds
        start.wait()
        began = time.monotonic()
        while any(thread.is_alive() for thread in threads):
            monitor.spin_for(0.2)
        result.wall_seconds = time.monotonic() - began
        monitor.spin_for(1.2)  # the status after the last answer
        statuses = list(monitor.status_history)
        rate, steps = steps_per_second(statuses)
        result.loaded_steps_per_second, result.steps_during_load = rate, steps
        result.status_messages = len(statuses)
        result.status_gap_s = max_gap(statuses)
        result.relevancy_images = len(images)
    finally:
        for client in [monitor, *workers]:
            client.close()
    return result
