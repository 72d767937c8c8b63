"""Fixtures for tests that run real nodes in separate processes over DDS (loopback only)."""

from __future__ import annotations

import pytest

rclpy = pytest.importorskip("rclpy", reason="rclpy is not installed (run scripts/setup.sh)")
try:
    import lerf_ros.msg  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the install
    pytest.skip(
        f"lerf_ros interfaces are not built ({error}); run scripts/setup.sh",
        allow_module_level=True,
    )

from lerf_ros.ros.bringup import NodeProcess  # noqa: E402

STARTED: list[NodeProcess] = []
"""Every child process the tests started through :class:`NodeProcess` (bringup, the CLI)."""

_init = NodeProcess.__init__


def _recording_init(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    STARTED.append(self)


NodeProcess.__init__ = _recording_init


def aborted_processes(processes: list[NodeProcess]) -> list[str]:
    """Names and log tails of processes whose log shows a C++ ``std::terminate``."""
    return [
        f"{p.name} (exit {p.process.poll()}):\n{p.log()[-2000:]}"
        for p in processes
        if not p.extra.get("abort_expected") and "terminate called" in p.log()
    ]


@pytest.fixture(scope="session", autouse=True)
def no_node_aborted():
    """No node, streamer or player that a test started may abort (``terminate called``) at
    any point of the session: checked on every log once all of them have stopped."""
    yield
    for process in STARTED:
        if process.alive():
            process.stop()
    aborted = aborted_processes(STARTED)
    assert not aborted, "processes aborted:\n" + "\n".join(aborted)
