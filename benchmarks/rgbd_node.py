"""RGB vs RGB-D through the real node: time to the first correct answer of ``lerf_trainer``
(config/demo.yaml) on the live synthetic stream (``lerf-ros stream``, which publishes the
renderer's depth as 16UC1 mm), once with ``depth_topics`` as in demo.yaml and once with them
off; everything else is the same.

The clock starts when the node's services are up (the stream starts with the node) and runs
in wall time: rendering, streaming, keyframe features, training and the polling queries all
share the cores, as on a robot. Every ``POLL`` s each object is queried over ``~/query``; the
answer is correct when every object's best peak lies in its box. The readiness check is off
and ``ready_steps`` small, so answers count from early on (the gate is not what is timed).
An on-request group (``--only rgbd_node``): two nodes take minutes.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Options, Row
from benchmarks.scene import BOX_MARGIN, scene_dataset

GROUP = "rgbd_node"
READY_STEPS = 25
"""Queries answer after this many steps (the node needs a few to have a field at all)."""
POLL = 5.0
"""Seconds between two rounds of queries."""
TARGET_S = {"RGB": 45.0, "RGB-D": 20.0}


def missed_objects(probe, objects: list[dict]) -> list[str]:
    """Objects whose best peak (over ``~/query``) is not inside their box ±BOX_MARGIN."""
    missed = []
    for obj in objects:
        response = probe.query(obj["name"], timeout=60)
        if not response.success or not response.peaks:
            missed.append(obj["name"])
            continue
        position = response.peaks[0].position
        best = np.array([position.x, position.y, position.z])
        low = np.asarray(obj["box_min"]) - BOX_MARGIN
        high = np.asarray(obj["box_max"]) + BOX_MARGIN
        if not (np.all(best >= low) and np.all(best <= high)):
            missed.append(obj["name"])
    return missed


def node_first_answer(options: Options, with_depth: bool, cap: float) -> dict:
    """Start a node and the stream, poll until every answer is right or ``cap`` s pass."""
    from lerf_ros.ros.bringup import REPO_CONFIG, start_cli, start_trainer
    from lerf_ros.ros.client import TrainerClient

    objects = scene_dataset("default")[1]["objects"]
    logs = Path(tempfile.mkdtemp(prefix="lerf_rgbd_node_"))
    overrides: dict = {"ready_steps": READY_STEPS, "ready_check": False}
    if not with_depth:
        overrides["depth_topics"] = [""]  # the stream still publishes depth; nobody listens
    if options.cuda:
        overrides.update(device="cuda", torch_threads=0)
    params = REPO_CONFIG.parent / "demo.yaml"
    trainer = start_trainer(params, overrides, log_path=logs / "trainer.log")
    stream = start_cli(["stream", "--scene", "default", "--loop"], logs / "stream.log")
    outcome = {"seconds": None, "missed": ["(not checked)"], "rounds": 0, "status": None}
    try:
        with TrainerClient("/lerf_trainer", "rgbd_node_probe") as probe:
            if not probe.wait_for_services(120):
                raise RuntimeError(f"node did not start; log: {trainer.log()[-1500:]}")
            started = time.monotonic()
            while time.monotonic() - started < cap:
                outcome["missed"] = missed_objects(probe, objects)
                outcome["rounds"] += 1
                if not outcome["missed"]:
                    outcome["seconds"] = time.monotonic() - started
                    break
                probe.spin_for(POLL)
            probe.spin_for(1.5)  # the latest ~/status (1 Hz)
            outcome["status"] = probe.last_status
    finally:
        stream.stop()
        trainer.stop()
    return outcome


def rgbd_node_rows(options: Options) -> list[Row]:
    os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(110, 200)))
    from lerf_ros.ros.dds import apply_dds_environment

    apply_dds_environment()  # before rclpy creates a participant in this process
    cap = options.pick(60.0, 150.0, 300.0)
    device, rows, seconds = options.device_label(), [], {}
    for mode in ("RGB", "RGB-D"):
        outcome = node_first_answer(options, mode == "RGB-D", cap)
        status = outcome["status"]
        state = "no status received"
        if status is not None:
            state = (
                f"at the end: {status.step} steps, {status.keyframes} keyframes "
                f"({status.keyframes_with_depth} with depth)"
            )
        note = (
            f"real lerf_trainer (config/demo.yaml, ready_steps {READY_STEPS}, readiness check "
            f"off) on `lerf-ros stream --scene default`; wall time from services up; every "
            f"object queried every {POLL:g} s ({outcome['rounds']} rounds), best peak inside "
            f"box ±{BOX_MARGIN} m; {state}; target (offline) ≤ {TARGET_S[mode]:.0f} s"
        )
        print(f"[{GROUP}] {mode}: {outcome}", file=sys.stderr, flush=True)
        name = f"node, default: time to first correct answer, {mode}"
        seconds[mode] = outcome["seconds"]
        if outcome["seconds"] is None:
            note += f"; still wrong: {', '.join(outcome['missed'])}"
            rows.append(Row(GROUP, name, f"not reached in {cap:.0f} s", "", device, note=note))
        else:
            rows.append(Row(GROUP, name, outcome["seconds"], "s", device, note=note))
    if seconds["RGB"] is not None and seconds["RGB-D"] is not None:
        ratio: float | str = seconds["RGB"] / seconds["RGB-D"]
    elif seconds["RGB-D"] is not None:
        ratio = f"> {cap / seconds['RGB-D']:.1f}"
    else:
        ratio = "n/a (RGB-D not reached)"
    rows.append(
        Row(GROUP, "node, default: first-answer time ratio RGB / RGB-D", ratio, "x", device)
    )
    return rows
