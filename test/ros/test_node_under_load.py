"""The real node under the issue's loads (node frozen by concurrent clients), over DDS:

- 50 ``~/save`` calls in a row while it trains: every file written loads, digest intact;
- 8 clients mixing ``~/query``, ``~/get_targets`` and ``~/save`` with autosave on: no failed
  call (``busy:`` answers are counted apart), ``~/status`` at ~1 Hz throughout, training goes on;
- ``~/reset`` while ``~/get_targets`` calls are in flight: only clear answers, no traceback;
- SIGINT with queries still queued: a clean exit, no "context is invalid" traceback.

One node (config/demo.yaml, ``ready_steps`` lowered: this is about serving, not quality) and
one looping synthetic stream serve the whole module; the tests run in this order. The measured
numbers are printed; ``benchmarks/node_load.py`` runs the mixed load for minutes.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest
from online_helpers import DEMO_PARAMS, READY_TIMEOUT

from lerf_ros.ros.bringup import start_cli, start_trainer
from lerf_ros.ros.client import TrainerClient
from lerf_ros.ros.mixed_load import run_mixed_load
from lerf_ros.training.checkpoint import load_checkpoint, payload_digest

pytestmark = pytest.mark.slow

NODE = "/lerf_trainer"
READY_STEPS = 60
"""Steps before the node answers (the demo's 450 would spend a minute more before the load)."""
MAX_KEYFRAMES = 16
"""Fewer than the demo's 40: each checkpoint (keyframes with their features) is ~40 MB, not
~100 MB, which keeps 50 saves and their 50 verifications within a minute."""
AUTOSAVE = 5.0
SAVES = 50
LOAD_CLIENTS, LOAD_SECONDS = 8, 40.0
"""Calls start for 40 s; the last ones end up to ~45 s later (a call admitted as waiting
waits for two in progress): 60-90 s of load in all."""
MAX_STATUS_GAP = 3.0
"""Seconds: ~/status is published every second; before the fix it stopped for tens of seconds."""
RACERS = 2
"""get_targets callers: both in progress at once (two run at a time), none waiting."""
RACE_TIMEOUT = 180.0
"""Seconds for one get_targets: on two shared cores one takes tens of seconds while training
runs (it reads the field's density many times, each waiting its turn for the model lock)."""
NODE_ERRORS = ("Traceback", "internal error", "NoneType", "context is invalid", "terminate called")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """(process, client, checkpoint): a ready, training node fed by the looping stream."""
    folder = tmp_path_factory.mktemp("under_load")
    checkpoint = folder / "field.ckpt"
    params = {
        "checkpoint_path": str(checkpoint),
        "autosave_interval": AUTOSAVE,
        "ready_steps": READY_STEPS,
        "ready_check": False,  # a fixed budget: this test is about serving
        "max_keyframes": MAX_KEYFRAMES,
    }
    trainer = start_trainer(DEMO_PARAMS, params, log_path=folder / "node.log")
    stream = start_cli(["stream", "--scene", "default", "--loop"], folder / "stream.log")
    client = TrainerClient(NODE, "under_load_client")
    try:
        assert client.wait_for_services(60), trainer.log()[-3000:]
        assert client.wait_until(
            lambda: client.last_status is not None and client.last_status.step > 0, READY_TIMEOUT
        ), trainer.log()[-3000:]
        yield trainer, client, checkpoint
    finally:
        client.close()
        stream.stop()
        trainer.stop()


def errors_in(log: str) -> list[str]:
    return [line for line in log.splitlines() if any(e in line for e in NODE_ERRORS)]


def test_fifty_saves_in_a_row_while_training_all_load_intact(node, tmp_path):
    trainer, client, checkpoint = node
    began = time.monotonic()
    copies = []
    for n in range(SAVES):
        response = client.trigger("save", timeout=60)
        # One save at a time is admitted with two waiting: a lone caller is never busy.
        assert response.success, f"save {n}: {response.message}"
        copy = tmp_path / f"save_{n:02d}.ckpt"
        # A hard link is a copy here: a save never rewrites the file in place, it replaces it
        # (a new inode), so the link keeps exactly what this save wrote.
        os.link(checkpoint, copy)
        copies.append(copy)
    saving = time.monotonic() - began
    steps = []
    for copy in copies:
        data = load_checkpoint(copy)  # raises CheckpointError on a damaged file
        assert data["digest"] == payload_digest(data), copy
        steps.append(int(data["step"]))
    print(f"saves: {SAVES} in {saving:.1f} s, steps {steps[0]} -> {steps[-1]}")
    # Every copy was taken after its save answered: saves are serialised, so steps never go back.
    assert steps == sorted(steps), steps
    assert steps[-1] > steps[0], "training did not go on while saving"
    assert saving < 60, saving
    assert trainer.alive() and not errors_in(trainer.log()), errors_in(trainer.log())[:5]


def test_eight_mixed_clients_with_autosave_keep_status_and_training_going(node):
    trainer, client, _ = node
    assert client.wait_until_ready(READY_TIMEOUT), trainer.log()[-3000:]
    warm = client.query("red ball", timeout=120)  # the first query builds the candidate surface
    assert warm.success, warm.message
    result = run_mixed_load(NODE, LOAD_CLIENTS, LOAD_SECONDS, baseline_seconds=10, timeout=120)
    summary = result.summary()
    print("mixed load:", json.dumps(summary, indent=1))
    assert result.failures == [], result.failures[:5]
    # Busy answers were retried after a back-off; a call still refused when the load ended
    # (at most one per client) is handled, not answered. Most answered calls succeed.
    assert result.count("busy") <= LOAD_CLIENTS, summary
    assert result.count("ok") >= 0.5 * (result.calls - result.count("busy")), summary
    assert result.count("ok", "query") > 0 and result.count("ok", "save") > 0, summary
    assert result.status_gap_s <= MAX_STATUS_GAP, summary
    assert result.status_messages >= 0.8 * result.wall_seconds, summary
    assert result.steps_during_load > 0 and result.loaded_steps_per_second > 0, summary
    assert result.relevancy_images > 0, summary
    assert trainer.alive(), trainer.log()[-3000:]
    assert not errors_in(trainer.log()), errors_in(trainer.log())[:5]


def test_reset_while_get_targets_are_in_flight_answers_clearly(node):
    trainer, client, _ = node
    assert client.wait_until_ready(READY_TIMEOUT), trainer.log()[-3000:]
    answers: list[tuple[bool, str, float]] = []
    errors: list[str] = []
    in_flight = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def ask(index: int) -> None:
        with TrainerClient(NODE, f"reset_race_{index}") as caller:
            caller.wait_for_services(30)
            while not stop.is_set():
                with lock:
                    in_flight[0] += 1
                began = time.monotonic()
                try:
                    response = caller.get_targets("wooden table", timeout=RACE_TIMEOUT)
                except Exception as error:  # a timeout is a failure of the node
                    with lock:
                        errors.append(f"{type(error).__name__}: {error}")
                    return
                finally:
                    with lock:
                        in_flight[0] -= 1
                with lock:
                    answers.append(
                        (response.success, str(response.message), time.monotonic() - began)
                    )

    threads = [threading.Thread(target=ask, args=(i,), daemon=True) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    # Both calls are inside the engine (tens of seconds each) when the reset comes.
    client.wait_until(lambda: in_flight[0] == RACERS, 30)
    client.spin_for(3.0)
    with lock:
        racing = in_flight[0]
    reset = client.trigger("reset", timeout=RACE_TIMEOUT)
    client.spin_for(3.0)  # the callers go on against the emptied field
    stop.set()
    for thread in threads:
        thread.join(150)
    print("get_targets around the reset:", [(ok, round(s, 1)) for ok, _, s in answers])
    assert errors == [], errors
    assert racing > 0, "no get_targets call was in flight at the reset"
    assert reset.success, reset.message
    # Some were answered from the field (found or not), the last ones after the reset.
    assert any(ok or not message.startswith("not ready") for ok, message, _ in answers), answers
    for ok, message, _ in answers:
        assert ok or (message and "internal error" not in message), message
    last = answers[-1]
    assert not last[0] and last[1].startswith("not ready"), last
    assert trainer.alive() and not errors_in(trainer.log()), errors_in(trainer.log())[:5]


def test_sigint_with_queries_queued_exits_cleanly(node):
    trainer, client, _ = node
    # The stream refills the emptied field; queries only take time on a ready one.
    assert client.wait_until_ready(READY_TIMEOUT), trainer.log()[-3000:]
    stop = threading.Event()
    callers = [TrainerClient(NODE, f"sigint_{i}") for i in range(6)]

    def ask(caller: TrainerClient) -> None:
        while not stop.is_set():
            try:
                caller.query("blue box", timeout=10)
            except TimeoutError:
                return  # the node went away

    threads = [threading.Thread(target=ask, args=(c,), daemon=True) for c in callers]
    try:
        for caller in callers:
            assert caller.wait_for_services(30)
        for thread in threads:
            thread.start()
        client.spin_for(4.0)  # two queries in progress, two waiting, the rest busy
        before = len(trainer.log())
        trainer.process.send_signal(signal.SIGINT)
        code = trainer.process.wait(90)
        stop.set()
        # A caller finds the node gone within 2 x 10 s; closing its client while it still
        # waits in rclpy would abort this process at exit.
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        stop.set()
        for caller in callers:
            caller.close()
    tail = trainer.log()[before:]
    assert code == 0, tail[-3000:]
    assert not errors_in(tail), tail[-3000:]
