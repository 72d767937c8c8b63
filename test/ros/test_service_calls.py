"""``_serve`` sets GetTargets' ``error_code`` on every generic path (not ready, busy, bad
request, internal error, shutting down); responses without one (Query) are left alone.

The node-level paths (NOT_READY before ready, INVALID_REQUEST, SUCCESS over DDS) run in
``test/ros/test_online_training.py``; here the paths a trained node rarely takes.
"""

from __future__ import annotations

import threading

import pytest

from lerf_ros.errors import CheckpointError, NotReadyError, QueryError
from lerf_ros.ros.request_slots import RequestSlots
from lerf_ros.ros.service_calls import ServiceCalls
from lerf_ros.srv import GetTargets, Query

CODES = GetTargets.Response


class Logger:
    def __init__(self):
        self.errors: list[str] = []

    def error(self, text: str) -> None:
        self.errors.append(text)


class Calls(ServiceCalls):
    """The mixin with the attributes it expects, and no node."""

    def __init__(self, ready: str | None = None, stopping: bool = False):
        self.engine, self.engine_error = object(), None
        self.ready, self.stopping, self.logger = ready, stopping, Logger()

    def _not_ready(self):
        return self.ready

    def _stopping(self):
        return self.stopping

    def get_logger(self):
        return self.logger


def served(calls: Calls, answer, **kwargs):
    return calls._serve("get_targets", GetTargets.Response(), answer, needs_ready=True, **kwargs)


def raising(error: Exception):
    def answer():
        raise error

    return answer


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (QueryError("text is empty"), CODES.INVALID_REQUEST),
        (NotReadyError("not ready: 3 keyframes"), CODES.NOT_READY),
        (RuntimeError("boom"), CODES.FAILED),
    ],
)
def test_refusals_and_internal_errors_carry_their_code(error, code):
    calls = Calls()
    response = served(calls, raising(error))
    assert not response.success and response.error_code == code
    assert str(error) in response.message
    assert bool(calls.logger.errors) == (code == CODES.FAILED)  # only the unexpected is logged


def test_not_ready_and_shutting_down_are_answered_before_the_work():
    ran = []
    response = served(Calls(ready="not ready: loading encoders"), lambda: ran.append(1))
    assert (response.error_code, response.message) == (
        CODES.NOT_READY,
        "not ready: loading encoders",
    )
    response = served(Calls(stopping=True), lambda: ran.append(1))
    assert (response.error_code, response.message) == (CODES.FAILED, "shutting down")
    assert ran == []


def test_a_call_beyond_the_slots_is_busy():
    calls, slots = Calls(), RequestSlots("query", running=1, waiting=0)
    entered, release = threading.Event(), threading.Event()

    def slow():
        entered.set()
        release.wait(10)

    first = threading.Thread(target=served, args=(calls, slow), kwargs={"slots": slots})
    first.start()
    assert entered.wait(10)
    response = served(calls, slow, slots=slots)
    release.set()
    first.join(10)
    assert not response.success and response.error_code == CODES.BUSY
    assert response.message.startswith("busy:")


def test_a_checkpoint_problem_and_a_query_response_without_error_code():
    calls = Calls()
    refused = calls._serve(
        "save",
        GetTargets.Response(),
        raising(CheckpointError("name refused")),
        refusals=(CheckpointError,),
    )
    assert refused.error_code == CODES.FAILED
    query = calls._serve("query", Query.Response(), raising(QueryError("text is empty")))
    assert not query.success and query.message == "text is empty"
    assert not hasattr(query, "error_code")
