"""``kill -9`` of a training node, then a restart with ``resume:=true``: training continues
from the last autosave with its keyframes and features, and nothing older than one autosave
interval is lost.

Processes: ``lerf_trainer`` (config/demo.yaml, autosave every AUTOSAVE s into a temporary
checkpoint), ``lerf-ros stream`` (the synthetic room, looping) and this test as the client.
The measured numbers are printed and written to ``crash_resume.json`` in the directory named
by ``LERF_ROS_RELIABILITY_OUT`` (if set), for docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from online_helpers import DEMO_PARAMS, READY_TIMEOUT

from lerf_ros.ros.bringup import start_cli, start_trainer
from lerf_ros.ros.client import TrainerClient
from lerf_ros.training.checkpoint import CheckpointError, load_checkpoint

pytestmark = pytest.mark.slow

AUTOSAVE = 10.0
"""Seconds between autosaves."""
READY_STEPS = 150
"""Steps before ready (a third of the demo's 450: this test is about resuming, not quality)."""
FIRST_SAVE_TIMEOUT = 240.0
"""Seconds to wait for an autosave holding trained steps and language features."""


def stamp_seconds(status) -> float:
    return status.stamp.sec + 1e-9 * status.stamp.nanosec


def saved_state(path: Path) -> dict | None:
    """Step, keyframes and keyframes with features of the checkpoint at ``path`` (or None)."""
    try:
        data = load_checkpoint(path)
    except CheckpointError:
        return None  # not written yet
    frames = data["keyframes"]
    return {
        "step": int(data["step"]),
        "keyframes": len(frames),
        "with_features": sum(frame["pyramid"] is not None for frame in frames),
        "mtime": path.stat().st_mtime,
    }


def report(numbers: dict) -> None:
    print("crash/resume:", json.dumps(numbers, indent=1))
    out = os.environ.get("LERF_ROS_RELIABILITY_OUT")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "crash_resume.json").write_text(json.dumps(numbers, indent=1) + "\n")


def test_kill_9_then_resume_continues_from_the_last_autosave(tmp_path):
    checkpoint = tmp_path / "field.ckpt"
    params = {
        "checkpoint_path": str(checkpoint),
        "autosave_interval": AUTOSAVE,
        "ready_steps": READY_STEPS,
        "ready_check": False,  # a fixed budget: this test is about resuming
    }
    started = time.monotonic()
    first = start_trainer(DEMO_PARAMS, params, log_path=tmp_path / "first.log")
    stream = start_cli(["stream", "--scene", "default", "--loop"], tmp_path / "stream.log")
    client = TrainerClient("/lerf_trainer", "crash_resume_client")
    second = None
    try:
        assert client.wait_for_services(60), first.log()[-3000:]
        # Train until an autosave holds trained steps and language features.
        deadline = time.monotonic() + FIRST_SAVE_TIMEOUT
        state = None
        while time.monotonic() < deadline:
            client.spin_for(1.0)
            state = saved_state(checkpoint)
            if state and state["step"] > 0 and state["with_features"] >= 3:
                break
        assert state and state["step"] > 0, f"no autosave with steps: {first.log()[-3000:]}"
        assert state["with_features"] >= 3, state
        first_save_seen = time.monotonic() - started
        client.spin_for(AUTOSAVE / 2)  # mid-interval: the worst moment to die is a random one
        assert first.alive(), first.log()[-3000:]

        killed_at = time.time()
        first.process.kill()  # SIGKILL: no shutdown handler, no final save
        first.process.wait(10)
        trained_until = max(
            (s.step for s in client.status_history if stamp_seconds(s) <= killed_at), default=0
        )
        stream.stop()
        saved = saved_state(checkpoint)
        assert saved is not None, "the checkpoint did not survive the kill"
        assert saved["step"] >= state["step"]
        # Nothing older than one autosave interval is lost: the checkpoint holds at least the
        # step the node had reached one interval (plus 2 s of status latency) before the kill.
        reached_before = max(
            (
                s.step
                for s in client.status_history
                if stamp_seconds(s) <= killed_at - AUTOSAVE - 2.0
            ),
            default=0,
        )
        assert saved["step"] >= reached_before, (saved, reached_before)
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

        client.status_history.clear()
        client.last_status = None
        restart = time.monotonic()
        second = start_trainer(
            DEMO_PARAMS, {**params, "resume": True}, log_path=tmp_path / "second.log"
        )
        assert client.wait_until(
            lambda: client.last_status is not None and client.last_status.step > 0, 90
        ), second.log()[-3000:]
        resumed = client.last_status
        found = re.search(r"resumed from .* at step (\d+)", second.log())
        assert found, second.log()[-3000:]
        assert int(found.group(1)) == saved["step"]
        assert resumed.step >= saved["step"], (resumed.step, saved)
        assert resumed.keyframes == saved["keyframes"], (resumed.keyframes, saved)
        resumed_after = time.monotonic() - restart

        # No frames arrive any more: readiness needs the restored features, and training goes on.
        assert client.wait_until_ready(READY_TIMEOUT), second.log()[-3000:]
        ready_after = time.monotonic() - restart
        response = client.query("red ball", timeout=60, return_cloud=True)
        assert response.success, response.message  # the field has surface seen by 3 views
        assert response.cloud.width > 0
        step_after_query = client.last_status.step
        client.spin_for(3.0)
        assert client.last_status.step > step_after_query, "training stopped after resuming"
        assert client.last_status.frames_received == 0  # every keyframe came from the checkpoint
        assert second.alive(), second.log()[-3000:]

        report(
            {
                "autosave_interval_s": AUTOSAVE,
                "first_usable_autosave_after_s": round(first_save_seen, 1),
                "seconds_since_last_save_at_kill": round(killed_at - saved["mtime"], 1),
                "step_at_kill": trained_until,
                "step_saved": saved["step"],
                "steps_lost": trained_until - saved["step"],
                "keyframes_saved": saved["keyframes"],
                "keyframes_with_features_saved": saved["with_features"],
                "step_resumed": int(found.group(1)),
                "keyframes_resumed": resumed.keyframes,
                "resumed_after_s": round(resumed_after, 1),
                "ready_after_restart_s": round(ready_after, 1),
                "query_cloud_points": response.cloud.width,
                "query_peaks": len(response.peaks),
                "temporary_files_left": len(leftovers),
                "test_seconds": round(time.monotonic() - started, 1),
            }
        )
    finally:
        client.close()
        stream.stop()
        if first.alive():
            first.process.kill()
        if second is not None:
            second.stop()
