"""The node-freeze issue's load for minutes: 8 clients mixing ``~/query``, ``~/get_targets``
and ``~/save`` against the real ``lerf_trainer`` (autosave every 5 s) while it trains on the
live synthetic stream, and a monitor following ``~/status`` and ``~/relevancy_image``.

Rows: failed calls (must be 0), ``busy:`` answers, the longest ``~/status`` gap, and training
steps/s idle and under load. ``python -m benchmarks.node_load --minutes 10`` (the default);
the test suite runs one minute of it (``test/ros/test_node_under_load.py``). Not part of
``benchmarks.run``: it takes minutes and needs the ROS interfaces built.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import Options, Row
from benchmarks.report import console, table

CLIENTS = 8
READY_STEPS = 150
READY_TIMEOUT = 600.0
AUTOSAVE = 5.0


def node_load_rows(options: Options, minutes: float = 10.0, clients: int = CLIENTS) -> list[Row]:
    os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(110, 200)))
    from lerf_ros.ros.dds import apply_dds_environment

    apply_dds_environment()  # before rclpy creates a participant in this process
    from lerf_ros.ros.bringup import REPO_CONFIG, start_cli, start_trainer
    from lerf_ros.ros.client import TrainerClient
    from lerf_ros.ros.mixed_load import run_mixed_load

    logs = Path(tempfile.mkdtemp(prefix="lerf_node_load_"))
    overrides = {
        "ready_steps": READY_STEPS,
        "ready_check": False,
        "checkpoint_path": str(logs / "field.ckpt"),
        "autosave_interval": AUTOSAVE,
    }
    if options.cuda:
        overrides.update(device="cuda", torch_threads=0)
    trainer = start_trainer(
        REPO_CONFIG.parent / "demo.yaml", overrides, log_path=logs / "trainer.log"
    )
    stream = start_cli(["stream", "--scene", "default", "--loop"], logs / "stream.log")
    try:
        with TrainerClient("/lerf_trainer", "node_load_probe") as probe:
            if not probe.wait_for_services(90) or not probe.wait_until_ready(READY_TIMEOUT):
                raise RuntimeError(f"node not ready; log: {trainer.log()[-1500:]}")
            warm = probe.query("red ball", timeout=180)
            if not warm.success:
                raise RuntimeError(f"first query failed: {warm.message}")
        result = run_mixed_load(
            "/lerf_trainer", clients, minutes * 60.0, baseline_seconds=30, timeout=300
        )
        alive = trainer.alive()
        tracebacks = trainer.log().count("Traceback")
    finally:
        stream.stop()
        trainer.stop()
    summary = result.summary()
    out = os.environ.get("LERF_ROS_RELIABILITY_OUT")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / f"node_load_{minutes:g}min.json").write_text(json.dumps(summary, indent=1))
    device = options.device_label()
    shape = f"{clients} mixed clients x {minutes:g} min"
    note = (
        f"real lerf_trainer (config/demo.yaml, ready_steps {READY_STEPS}, autosave "
        f"{AUTOSAVE:g} s) on the live synthetic stream; query/get_targets/save; node alive "
        f"after: {alive}, tracebacks in its log: {tracebacks}"
    )
    return [
        Row("node_load", f"failed calls, {shape}", result.count("failed"), "calls", device,
            note=note),
        Row("node_load", "calls answered", result.calls, "calls", device,
            note=json.dumps(summary["by_kind"])),
        Row("node_load", "busy: answers (each retried after 0.5 s)", result.busy_answers,
            "answers", device),
        Row("node_load", "longest ~/status gap", round(result.status_gap_s, 2), "s", device,
            note=f"{result.status_messages} status messages in {result.wall_seconds:.0f} s"),
        Row("node_load", "relevancy images received", result.relevancy_images, "images", device),
        Row("node_load", "training steps/s idle", round(result.idle_steps_per_second, 3),
            "steps/s", device),
        Row("node_load", "training steps/s under load",
            round(result.loaded_steps_per_second, 3), "steps/s", device,
            note=f"{result.steps_during_load} steps during the load"),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args(argv)
    options = Options(device=torch.device(args.device))
    began = time.monotonic()
    rows = node_load_rows(options, args.minutes, args.clients)
    print(console(rows))
    print("\n".join(table(rows)))
    print(f"({time.monotonic() - began:.0f} s)")
    return 1 if any(r.name.startswith("failed calls") and r.value for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
