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
