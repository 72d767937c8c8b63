"""A small synchronous client for a running ``lerf_trainer``: used by the demo, the CLI and tests.

It owns its own rclpy ``Context`` so several clients (and tests) can live in one process
without fighting over the global one, and it never blocks in ``spin()``: every wait is a
bounded ``spin_once`` loop, so a missing server cannot hang the caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSDurabilityPolicy, QoSProfile, QoSReliabilityPolicy
from std_srvs.srv import Trigger

from lerf_ros.msg import TrainingStatus
from lerf_ros.srv import Checkpoint, GetTargets, Query

BUSY_BACKOFF = 0.5
"""Seconds before a call answered ``busy:`` is sent again (see ``retry_busy``)."""
CHECKPOINT_SERVICES = ("save", "load")
"""Services of type ``lerf_ros/srv/Checkpoint``; the node's other triggers are
``std_srvs/Trigger``."""


class TrainerClient:
    """Calls ``~/query``, ``~/get_targets``, ``~/save``/``~/load`` (with a checkpoint name)
    and ``~/reset`` of the node named ``node_name`` and follows its ``~/status``."""

    def __init__(
        self,
        node_name: str = "/lerf_trainer",
        client_name: str = "lerf_client",
        retry_busy: bool = True,
    ):
        """``retry_busy``: a ``busy:`` answer (the node has as many calls in progress and
        waiting as it takes) is asked again after :data:`BUSY_BACKOFF` seconds until the
        call's timeout; off, it is returned like any ``success=false`` answer."""
        self.retry_busy = retry_busy
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = Node(client_name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        base = node_name.rstrip("/")
        self.query_client = self.node.create_client(Query, f"{base}/query")
        self.targets_client = self.node.create_client(GetTargets, f"{base}/get_targets")
        self._base = base
        self._triggers: dict[str, Any] = {}
        self.last_status: TrainingStatus | None = None
        self.status_history: list[TrainingStatus] = []
        qos = QoSProfile(
            depth=10,
            reliability=QoSReliabilityPolicy.RELIABLE,
            durability=QoSDurabilityPolicy.VOLATILE,
        )
        self.node.create_subscription(TrainingStatus, f"{base}/status", self._on_status, qos)

    def _on_status(self, msg: TrainingStatus) -> None:
        self.last_status = msg
        self.status_history.append(msg)
        del self.status_history[:-1000]

    def spin_for(self, seconds: float) -> None:
        """Process callbacks for ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=min(0.05, max(0.0, deadline - time.monotonic())))

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Spin until ``predicate()`` is true or ``timeout`` seconds pass; returns the predicate."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            self.executor.spin_once(timeout_sec=0.05)
        return predicate()

    def wait_for_services(self, timeout: float = 30.0) -> bool:
        return self.wait_until(
            lambda: self.query_client.service_is_ready() and self.targets_client.service_is_ready(),
            timeout,
        )

    def wait_until_ready(self, timeout: float) -> bool:
        """Wait for a ``~/status`` message with ``ready`` true."""
        return self.wait_until(lambda: bool(self.last_status and self.last_status.ready), timeout)

    def _call(self, client: Any, request: Any, timeout: float) -> Any:
        if not client.wait_for_service(timeout_sec=min(timeout, 30.0)):
            raise TimeoutError(f"service {client.srv_name} is not available")
        deadline = time.monotonic() + timeout
        while True:
            future = client.call_async(request)
            while not future.done() and time.monotonic() < deadline:
                self.executor.spin_once(timeout_sec=0.05)
            if not future.done():
                future.cancel()
                raise TimeoutError(
                    f"service {client.srv_name} did not answer within {timeout:.0f} s"
                )
            response = future.result()
            busy = not response.success and str(response.message).startswith("busy:")
            if not (busy and self.retry_busy) or time.monotonic() + BUSY_BACKOFF >= deadline:
                return response
            self.spin_for(BUSY_BACKOFF)

    def query(self, text: str, timeout: float = 60.0, **fields: Any) -> Query.Response:
        """Call ``~/query``; ``fields`` set further request fields (negatives, scale, ...)."""
        return self._call(self.query_client, Query.Request(text=text, **fields), timeout)

    def get_targets(self, text: str, timeout: float = 60.0, **fields: Any) -> GetTargets.Response:
        """Call ``~/get_targets``."""
        return self._call(self.targets_client, GetTargets.Request(text=text, **fields), timeout)

    def trigger(self, service: str, timeout: float = 60.0) -> Any:
        """Call the node's ``~/<service>`` without arguments: ``reset`` (``std_srvs/Trigger``),
        or ``save``/``load`` of ``checkpoint_path`` itself (``lerf_ros/srv/Checkpoint``)."""
        if service in CHECKPOINT_SERVICES:
            return self.checkpoint(service, "", timeout)
        return self._call(self.service_client(Trigger, service), Trigger.Request(), timeout)

    def checkpoint(self, service: str, name: str = "", timeout: float = 120.0) -> Any:
        """Call ``~/save`` or ``~/load`` (``service``) with a file ``name`` in the directory of
        the node's ``checkpoint_path`` (``''``: that file itself)."""
        if service not in CHECKPOINT_SERVICES:
            raise ValueError(f"checkpoint service must be save or load, not {service!r}")
        request = Checkpoint.Request(name=name)
        return self._call(self.service_client(Checkpoint, service), request, timeout)

    def save(self, name: str = "", timeout: float = 120.0) -> Checkpoint.Response:
        """Call ``~/save`` (see :meth:`checkpoint`)."""
        return self.checkpoint("save", name, timeout)

    def load(self, name: str = "", timeout: float = 120.0) -> Checkpoint.Response:
        """Call ``~/load`` (see :meth:`checkpoint`)."""
        return self.checkpoint("load", name, timeout)

    def service_client(self, srv_type: Any, service: str) -> Any:
        """The (cached) client of the node's ``~/<service>`` of type ``srv_type``."""
        client = self._triggers.get(service)
        if client is None:
            client = self.node.create_client(srv_type, f"{self._base}/{service}")
            self._triggers[service] = client
        return client

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()

    def __enter__(self) -> TrainerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
