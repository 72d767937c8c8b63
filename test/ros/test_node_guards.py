"""Requests that used to end or silence ``lerf_trainer`` (issue: node under load): a
``set_parameters`` request with an unknown parameter type (rclpy raised outside any handler and
the process exited 1) and ``use_sim_time:=true`` at run time (no /clock: ``~/status`` and
autosave stopped). One node process serves every check of this module."""

from __future__ import annotations

import time

import pytest
from online_helpers import DEMO_PARAMS
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import GetParameters, SetParameters

from lerf_ros.ros.bringup import start_trainer
from lerf_ros.ros.client import TrainerClient

NODE = "/lerf_trainer"


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """(process, client): the demo node without camera input, status followed by the client."""
    log = tmp_path_factory.mktemp("guards") / "node.log"
    trainer = start_trainer(DEMO_PARAMS, node_name="lerf_trainer", log_path=log)
    client = TrainerClient(NODE, "guards_client")
    try:
        assert client.wait_for_services(60), trainer.log()
        assert client.wait_until(lambda: client.last_status is not None, 30), trainer.log()
        yield trainer, client
    finally:
        client.close()
        trainer.stop()


def call(client: TrainerClient, srv_type, name: str, request, timeout: float = 10.0):
    """One raw call; None when no answer came within ``timeout``."""
    service = client.node.create_client(srv_type, name)
    try:
        assert service.wait_for_service(timeout_sec=10), f"{name} is not available"
        future = service.call_async(request)
        client.wait_until(future.done, timeout)
        return future.result() if future.done() else None
    finally:
        client.node.destroy_client(service)


def status_count_over(client: TrainerClient, seconds: float) -> int:
    client.status_history.clear()
    client.spin_for(seconds)
    return len(client.status_history)


def set_parameter(client, name: str, value: ParameterValue):
    request = SetParameters.Request(parameters=[Parameter(name=name, value=value)])
    return call(client, SetParameters, f"{NODE}/set_parameters", request)


def test_a_parameter_of_unknown_type_leaves_the_node_running(node):
    trainer, client = node
    set_parameter(client, "ready_steps", ParameterValue(type=42))  # rclpy cannot convert it
    assert status_count_over(client, 3.5) >= 2, trainer.log()[-3000:]
    assert trainer.alive(), trainer.log()[-3000:]
    log = trainer.log()
    assert log.count("a callback raised (#1;") == 1, log[-3000:]
    assert "Traceback" in log  # logged once, with where it came from
    # The parameter services still answer.
    good = set_parameter(
        client,
        "relevancy_image_width",
        ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=160),
    )
    assert good is not None and good.results[0].successful, good


def test_use_sim_time_at_run_time_is_refused_with_the_reason(node):
    trainer, client = node
    answer = set_parameter(
        client, "use_sim_time", ParameterValue(type=ParameterType.PARAMETER_BOOL, bool_value=True)
    )
    assert answer is not None, trainer.log()[-3000:]
    result = answer.results[0]
    assert not result.successful
    assert "use_sim_time" in result.reason and "/clock" in result.reason, result.reason
    current = call(
        client,
        GetParameters,
        f"{NODE}/get_parameters",
        GetParameters.Request(names=["use_sim_time"]),
    )
    assert current is not None and current.values[0].bool_value is False
    # ~/status goes on at ~1 Hz with stamps that advance (no simulated clock took over).
    assert status_count_over(client, 3.5) >= 2, trainer.log()[-3000:]
    stamps = [s.stamp.sec + 1e-9 * s.stamp.nanosec for s in client.status_history]
    assert stamps[-1] > stamps[0] > time.time() - 60, stamps
    # Switching it off (a no-op) is still allowed.
    off = set_parameter(
        client, "use_sim_time", ParameterValue(type=ParameterType.PARAMETER_BOOL, bool_value=False)
    )
    assert off is not None and off.results[0].successful, off
