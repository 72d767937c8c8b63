"""RequestSlots bound the node's heavy service calls; ResetGate keeps reads and resets apart."""

from __future__ import annotations

import threading
import time

import pytest

from lerf_ros.ros.autosaver import Autosaver
from lerf_ros.ros.request_slots import RequestSlots, ResetGate


def test_beyond_running_plus_waiting_a_call_is_answered_busy_at_once():
    slots = RequestSlots("query", running=2, waiting=1)
    release = threading.Event()
    running = []
    lock = threading.Lock()
    peak = [0]

    def work():
        with lock:
            running.append(1)
            peak[0] = max(peak[0], len(running))
        release.wait(10)
        with lock:
            running.pop()
        return "done"

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(slots.call(work, lambda m: m)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while len(running) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # the third is admitted and waits for a turn
    began = time.monotonic()
    refused = slots.call(work, lambda message: message)
    assert time.monotonic() - began < 0.5  # answered at once, not queued
    assert refused.startswith("busy: 2 query request(s) in progress and 1 waiting"), refused
    assert slots.refused == 1
    release.set()
    for thread in threads:
        thread.join(10)
    assert results == ["done"] * 3 and peak[0] == 2
    assert slots.call(lambda: "again", lambda m: m) == "again"  # every slot came back


def test_a_slot_comes_back_when_the_work_raises():
    slots = RequestSlots("save", running=1, waiting=0)

    def fail():
        raise OSError("disk full")

    for _ in range(3):
        with pytest.raises(OSError):
            slots.call(fail, lambda m: m)
    assert slots.call(lambda: "ok", lambda m: m) == "ok"


def test_a_reset_waits_for_reads_in_progress_and_holds_new_ones_back():
    gate = ResetGate()
    events = []
    reading = threading.Event()
    finish_read = threading.Event()

    def read(name, hold=None):
        with gate.shared():
            events.append(f"{name} start")
            if hold is not None:
                reading.set()
                hold.wait(10)
            events.append(f"{name} end")

    def reset():
        with gate.exclusive():
            events.append("reset")

    first = threading.Thread(target=read, args=("first", finish_read))
    first.start()
    assert reading.wait(5)
    resetter = threading.Thread(target=reset)
    resetter.start()
    time.sleep(0.2)
    late = threading.Thread(target=read, args=("late",))
    late.start()
    time.sleep(0.2)
    assert events == ["first start"]  # the reset waits; the late read waits behind it
    finish_read.set()
    for thread in (first, resetter, late):
        thread.join(10)
    assert events == ["first start", "first end", "reset", "late start", "late end"]


def test_autosaver_saves_on_time_and_survives_a_failing_save():
    calls, errors = [], []

    def save():
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise OSError("disk full")

    saver = Autosaver(0.1, save, errors.append).start()
    time.sleep(0.55)
    saver.stop()
    count = len(calls)
    assert count >= 3 and len(errors) == 1 and isinstance(errors[0], OSError)
    time.sleep(0.25)
    assert len(calls) == count  # stopped
