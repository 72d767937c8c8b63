"""Where a LerfEngine training step's time goes (the profile behind docs/benchmarks.md's
"GPU training step profile"): mean step and target-sampling time, then torch.profiler's
kernel and host tables of a few steps.

.venv/bin/python -m benchmarks.profile_step [cuda|cpu]
"""

from __future__ import annotations

import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

from benchmarks.common import Options, sync
from benchmarks.scene import preset, scene_engine

WARM_UP_STEPS = 10
PROFILED_STEPS = 5


def main(device_name: str) -> None:
    device = torch.device(device_name)
    name, config = preset(Options(device))
    engine, feature_seconds = scene_engine(Options(device), config)
    for _ in range(WARM_UP_STEPS):
        engine.train_step()
    # Past the proposal warm-up: proposal fields then get gradients every 5th step.
    engine.training.fast_forward(config.sampler.proposal_warmup)
    steps = 30 if device.type == "cuda" else 3

    def mean_seconds(fn) -> float:
        sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        sync(device)
        return (time.perf_counter() - start) / steps

    step = mean_seconds(engine.train_step)
    sample = mean_seconds(engine.training.sample_batch)
    rays = config.trainer.rays_per_batch
    print(
        f"preset {name}: step {step * 1000:.1f} ms = {rays / step:,.0f} rays/s; "
        f"sample_batch {sample * 1000:.1f} ms; features {feature_seconds:.1f} s"
    )
    activities = [ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as profiler:
        sync(device)
        start = time.perf_counter()
        for _ in range(PROFILED_STEPS):
            engine.train_step()
        sync(device)
        wall = (time.perf_counter() - start) / PROFILED_STEPS
    events = profiler.key_averages()
    if device.type == "cuda":
        kernel_ms = sum(e.self_device_time_total for e in events) / PROFILED_STEPS / 1000
        launches = sum(e.count for e in events if e.key == "cudaLaunchKernel") / PROFILED_STEPS
        print(
            f"profiled step: wall {wall * 1000:.1f} ms, GPU kernel time {kernel_ms:.1f} ms "
            f"({kernel_ms / (wall * 1000):.0%} busy), ~{launches:,.0f} kernel launches/step"
        )
        print(events.table(sort_by="self_device_time_total", row_limit=18))
    print(events.table(sort_by="self_cpu_time_total", row_limit=12))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ("cuda" if torch.cuda.is_available() else "cpu"))
