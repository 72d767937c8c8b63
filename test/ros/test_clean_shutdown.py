"""SIGINT and SIGTERM end ``lerf_trainer``, ``lerf-ros stream`` and ``lerf-ros play`` cleanly:
exit code 0, no ``terminate called`` (a C++ ``std::terminate``), no traceback in the log, and
the trainer's final autosave written and loadable.

The abort this guards against: CPython 3.11 ends daemon threads still running at interpreter
finalization with ``pthread_exit``; one inside torch (GIL released) unwinds through a
``noexcept`` C++ frame and the runtime calls ``std::terminate`` (SIGABRT, exit code -6). The
trainer's relevancy-image thread renders after every query, so a node stopped right after a
query aborted. :mod:`lerf_ros.ros.spin` stops the work, waits for such threads and exits
without finalizing if one is still busy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from camera_stream_helpers import CameraListener, start_lerf_ros
from online_helpers import DEMO_PARAMS, READY_TIMEOUT

from lerf_ros.ros.bringup import NodeProcess, exit_problems, start_cli, start_trainer
from lerf_ros.ros.client import TrainerClient
from lerf_ros.ros.dds import dds_environment
from lerf_ros.training.checkpoint import load_checkpoint

STOP_SIGNALS = pytest.mark.parametrize(
    "stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"]
)
READY_STEPS = 30
"""Steps before the trainer answers queries (this test is about stopping, not quality)."""


# ------------------------------------------------------------------ the helper, in isolation

NODE_SCRIPT = textwrap.dedent(
    """
    import sys, threading, time
    import rclpy, torch
    from rclpy.executors import MultiThreadedExecutor
    from lerf_ros.ros.spin import spin_until_shutdown

    rclpy.init()
    node = rclpy.create_node("spin_test_node")
    node.create_timer(0.1, lambda: None)
    weights = torch.randn(400, 400, requires_grad=True)

    def busy():  # what the node's renderer and workers do: torch, GIL released
        while True:
            (weights @ weights).sum().backward()

    threading.Thread(target=busy, name="busy-torch", daemon=True).start()
    # Idle in a threading wait, like tqdm's monitor: safe at exit, so not waited for.
    threading.Thread(target=threading.Event().wait, name="idle-wait", daemon=True).start()

    def on_shutdown():
        time.sleep(float(sys.argv[2]))  # a final save, long enough for a second signal
        open(sys.argv[1], "w").write("saved")

    print("spinning", flush=True)
    sys.exit(spin_until_shutdown(node, MultiThreadedExecutor(2), on_shutdown, grace_s=1.0))
    """
)
"""A node with a daemon thread always busy in torch, ended by ``spin_until_shutdown``."""


def start_script(script: str, args: list[str], tmp_path) -> NodeProcess:
    path = tmp_path / "node.py"
    path.write_text(script)
    log_path = tmp_path / "node.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(path), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **dds_environment()},
        )
    return NodeProcess(process=process, log_path=log_path, name="spin_test_node")


def wait_for_line(node: NodeProcess, text: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in node.log():
        assert node.alive() and time.monotonic() < deadline, node.log()
        time.sleep(0.1)


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="3.14 no longer pthread_exits daemons")
def test_a_daemon_thread_inside_torch_at_exit_aborts_the_interpreter(tmp_path):
    """The cause, shown: returning from main while a daemon thread runs torch aborts."""
    script = textwrap.dedent(
        """
        import threading, time, torch
        weights = torch.randn(400, 400, requires_grad=True)
        def busy():
            while True:
                (weights @ weights).sum().backward()
        threading.Thread(target=busy, daemon=True).start()
        time.sleep(1.0)
        """
    )
    node = start_script(script, [], tmp_path)
    node.extra["abort_expected"] = True  # the session-wide no-abort check must skip this one
    assert node.process.wait(timeout=60) == -signal.SIGABRT, node.log()
    assert "terminate called" in node.log()
    with pytest.raises(AssertionError, match="killed by SIGABRT; log contains 'terminate called'"):
        node.assert_clean_exit()


@STOP_SIGNALS
def test_spin_until_shutdown_saves_and_exits_cleanly(stop_signal, tmp_path):
    saved = tmp_path / "saved"
    node = start_script(NODE_SCRIPT, [str(saved), "2.0"], tmp_path)
    try:
        wait_for_line(node, "spinning")
        time.sleep(0.5)  # spinning, and the busy thread inside torch
        node.process.send_signal(stop_signal)
        time.sleep(0.5)  # inside on_shutdown: a second signal must not cut the save short
        node.process.send_signal(stop_signal)
        node.process.wait(timeout=30)
    finally:
        node.stop()
    node.assert_clean_exit()
    assert saved.read_text() == "saved"
    assert "received while shutting down; still stopping" in node.log()
    # The busy thread was waited for, reported and left behind; the idle one was not.
    assert "threads still busy at exit (busy-torch)" in node.log()
    assert "rosout" not in node.log()  # no complaint about logging after the shutdown


def test_exit_problems_name_aborts_crashes_and_tracebacks():
    assert exit_problems(0, "[INFO] saved\n") == []
    assert exit_problems(-6, "terminate called without an active exception\n") == [
        "killed by SIGABRT",
        "log contains 'terminate called'",
    ]
    assert exit_problems(1, "Traceback (most recent call last):\n") == [
        "exit code 1",
        "log contains 'Traceback (most recent call last)'",
    ]
    assert exit_problems(None, "") == ["still running"]


# -------------------------------------------------------------------- streamer and player

STREAM_ARGS = ["--scene", "wall", "--views", "3", "--width", "48", "--height", "32"]


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    from lerf_ros.data.bags import write_bag
    from lerf_ros.data.synthetic.export import make_scene_dataset

    root = tmp_path_factory.mktemp("clean_shutdown")
    scene = make_scene_dataset(root / "scene", views=4, width=48, height=32, supersample=1)
    return write_bag(scene, root / "bag", rate_hz=10.0)


def stop_while_publishing(args: list[str], stop_signal: int, tmp_path) -> NodeProcess:
    """Run ``lerf-ros ARGS``, send ``stop_signal`` once images arrive, wait for the exit."""
    listener = CameraListener()
    process = start_lerf_ros(args, tmp_path / f"{args[0]}.log")
    try:
        assert listener.spin_until(lambda: listener.image_count >= 3, 90), process.log()
        process.process.send_signal(stop_signal)
        process.process.wait(timeout=30)
    finally:
        process.stop()
        listener.close()
    return process


@STOP_SIGNALS
def test_the_streamer_stops_cleanly(stop_signal, tmp_path):
    args = ["stream", *STREAM_ARGS, "--supersample", "1", "--rate", "10", "--loop"]
    streamer = stop_while_publishing(args, stop_signal, tmp_path)
    streamer.assert_clean_exit()
    assert "published" in streamer.log()


@STOP_SIGNALS
def test_the_player_stops_cleanly(stop_signal, bag, tmp_path):
    player = stop_while_publishing(["play", str(bag), "--loop"], stop_signal, tmp_path)
    player.assert_clean_exit()
    assert "published" in player.log()


# ------------------------------------------------------------------------------ the trainer


@pytest.mark.slow
def test_the_trainer_stops_cleanly_after_a_query_and_saves(tmp_path):
    checkpoint = tmp_path / "field.ckpt"
    # Autosave on, but its timer cannot fire during the test: the checkpoint can only be the
    # one written on shutdown.
    params = {
        "checkpoint_path": str(checkpoint),
        "autosave_interval": 3600.0,
        "ready_steps": READY_STEPS,
        "ready_check": False,  # a fixed budget: this test is about stopping
    }
    trainer = start_trainer(DEMO_PARAMS, params, log_path=tmp_path / "trainer.log")
    stream = start_cli(["stream", "--scene", "default", "--loop"], tmp_path / "stream.log")
    client = TrainerClient("/lerf_trainer", "clean_shutdown_client")
    try:
        assert client.wait_for_services(120), trainer.log()[-3000:]
        assert client.wait_until_ready(READY_TIMEOUT), trainer.log()[-3000:]
        # Each query starts the relevancy-image thread: SIGINT comes while it renders.
        for text in ("red ball", "blue box"):
            assert client.query(text, timeout=60).success, trainer.log()[-3000:]
        step = client.last_status.step
        assert not checkpoint.exists()
        trainer.process.send_signal(signal.SIGINT)
        trainer.process.wait(timeout=60)
    finally:
        client.close()
        stream.stop()
        trainer.stop()
    # Needs trainer_node.main() to end through lerf_ros.ros.spin.spin_until_shutdown: with
    # its own shutdown sequence the node aborts (exit code -6, "terminate called ...").
    trainer.assert_clean_exit()
    stream.assert_clean_exit()
    saved = load_checkpoint(checkpoint)
    assert saved["step"] >= step > 0
    assert len(saved["keyframes"]) >= 3
