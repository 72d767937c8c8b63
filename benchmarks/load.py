"""Load through the real ROS node: 10 concurrent clients x 50 ``~/query`` calls while the node
trains on the live synthetic stream (the reliability issue's load target).

Not in the default run (the node needs ~2 min to become ready on two CPU cores, the 500
queries several more): ``--only load`` or ``--full``. The test suite runs a 10 x 5 version
(``test/ros/test_load.py``). Rows: failures, client-side p50 / p95 latency, the node's own
time per query, and the training step rate idle and under load.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from pathlib import Path

from benchmarks.common import Options, Row

CLIENTS = 10
READY_STEPS = 150
READY_TIMEOUT = 600.0


def load_rows(options: Options) -> list[Row]:
    queries = options.pick(5, 50)
    os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(110, 200)))
    from lerf_ros.ros.dds import apply_dds_environment

    apply_dds_environment()  # before rclpy creates a participant in this process
    from lerf_ros.ros.bringup import REPO_CONFIG, start_cli, start_trainer
    from lerf_ros.ros.client import TrainerClient
    from lerf_ros.ros.load import run_load

    params = REPO_CONFIG.parent / "demo.yaml"
    overrides = {"ready_steps": READY_STEPS, "ready_check": False}
    if options.cuda:
        overrides.update(device="cuda", torch_threads=0)
    logs = Path(tempfile.mkdtemp(prefix="lerf_load_"))
    started = time.monotonic()
    trainer = start_trainer(params, overrides, log_path=logs / "trainer.log")
    stream = start_cli(["stream", "--scene", "default", "--loop"], logs / "stream.log")
    try:
        with TrainerClient("/lerf_trainer", "load_benchmark_probe") as probe:
            if not probe.wait_for_services(90) or not probe.wait_until_ready(READY_TIMEOUT):
                raise RuntimeError(f"node not ready; log: {trainer.log()[-1500:]}")
            warm = probe.query("red ball", timeout=180)
            if not warm.success:
                raise RuntimeError(f"first query failed: {warm.message}")
            ready_after = time.monotonic() - started
            before = _frame_counts(probe)
            result = run_load("/lerf_trainer", CLIENTS, queries, timeout=600, baseline_seconds=30)
            after = _frame_counts(probe)
        log = trainer.log()
    finally:
        stream.stop()
        trainer.stop()
    summary = {**result.summary(), "ready_after_s": round(ready_after, 1)}
    out = os.environ.get("LERF_ROS_RELIABILITY_OUT")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / f"load_{CLIENTS}x{queries}.json").write_text(json.dumps(summary, indent=1))
    device = options.device_label()
    shape = f"{CLIENTS} clients x {queries} queries"
    note = (
        f"real lerf_trainer (config/demo.yaml, ready_steps {READY_STEPS}) training on the "
        f"live synthetic stream; {shape}; colour-minilm + colour-patches; client-side time"
    )
    drop = summary["step_rate_drop"]
    return [
        Row("load", f"failed calls, {shape}", len(result.failures), "calls", device, note=note),
        Row("load", f"query latency p50, {shape}", summary["latency_p50_s"], "s", device),
        Row("load", f"query latency p95, {shape}", summary["latency_p95_s"], "s", device),
        Row(
            "load",
            "node time per query p50 (no queueing)",
            summary["server_p50_s"],
            "s",
            device,
            note="Query.Response.elapsed_seconds",
        ),
        Row(
            "load",
            "streamed frames dropped during the load",
            after[1] - before[1],
            "frames",
            device,
            note=f"of {after[0] - before[0]} received while the clients ran; log lines "
            f"'no pose for stamp' in the whole run: {log.count('no pose for stamp')}",
        ),
        Row("load", "training steps/s idle", summary["steps_per_second_idle"], "steps/s", device),
        Row(
            "load",
            "training steps/s under load",
            summary["steps_per_second_under_load"],
            "steps/s",
            device,
            note=f"drop {drop:.0%} (queries and training share the cores and the model lock)"
            if drop is not None
            else "",
        ),
    ]


def _frame_counts(probe) -> tuple[int, int]:
    """(frames received, frames dropped) from the node's next ``~/status``."""
    seen = probe.last_status
    probe.wait_until(lambda: probe.last_status is not seen, 10)
    status = probe.last_status
    return int(status.frames_received), int(status.frames_dropped)
