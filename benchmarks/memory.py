"""Peak memory vs number of keyframes held by the engine (images + pyramid + dense features).

Each size runs in a fresh process (``python -m benchmarks.memory N DEVICE``) so that its peak
RSS is its own. Keyframes are the 30 synthetic 128x96 views, repeated with pixel noise so that
every keyframe is distinct (the feature cache would otherwise share repeated images).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import numpy as np
import torch

from benchmarks.common import NA_CPU, Options, Row


def _rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        return float("nan")


def peak_rss_mb() -> float:
    """Peak RSS of this process image: VmHWM (reset by exec), else ru_maxrss (which would
    include the forking parent's RSS)."""
    try:
        with open("/proc/self/status") as file:
            for line in file:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def probe(count: int, device: str) -> dict:
    """Fill an engine with ``count`` keyframes and features, train a few steps, report memory."""
    from benchmarks.scene import preset, synthetic_scene
    from lerf_ros.engine.build import build_engine

    options = Options(torch.device(device))
    dataset, _ = synthetic_scene()
    name, config = preset(options)
    config.keyframes.max_keyframes = max(count, config.keyframes.max_keyframes)
    engine = build_engine(config, "colour-minilm", "colour-patches")
    base_rss = _rss_mb()
    rng = np.random.default_rng(0)
    for index in range(count):
        frame = dataset.frames[index % len(dataset.frames)]
        noise = rng.integers(-2, 3, frame.image.shape)
        image = np.clip(frame.image.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        engine.add_frame(image, frame.intrinsics, frame.c2w, float(index), force=True)
    engine.compute_pending_features()
    for _ in range(10):
        engine.train_step()
    gpu = torch.cuda.max_memory_allocated() / 2**20 if options.cuda else None
    return {
        "keyframes": engine.status().keyframes,
        "preset": name,
        "peak_rss_mb": peak_rss_mb(),
        "rss_mb": _rss_mb(),
        "base_rss_mb": base_rss,
        "gpu_peak_mb": gpu,
    }


def memory_rows(options: Options) -> list[Row]:
    counts = [10, 100] + ([1000] if options.full else [])
    if options.quick:
        counts = [10]
    rows = []
    for count in counts:
        command = [sys.executable, "-m", "benchmarks.memory", str(count), str(options.device)]
        command.append(str(torch.get_num_threads()))
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            note = done.stderr.strip().splitlines()[-1:] or ["no output"]
            rows.append(Row("memory", f"peak host RSS, {count} keyframes", None, note=note[0]))
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        note = (
            f"{result['keyframes']} keyframes 128x96 with features (colour-minilm pyramid, "
            f"colour-patches dense), {result['preset']} preset model after 10 steps; "
            f"RSS before keyframes "
            f"{result['base_rss_mb']:.0f} MB (interpreter, torch, model), after "
            f"{result['rss_mb']:.0f} MB"
        )
        rows.append(
            Row(
                "memory",
                f"peak host RSS, {count} keyframes",
                result["peak_rss_mb"],
                "MB",
                options.device_label(),
                reference="kerrj/lerf: host OOM at ~2000 images (all pyramids in RAM)",
                note=note,
                extra=result,
            )
        )
        gpu = result["gpu_peak_mb"]
        rows.append(
            Row(
                "memory",
                f"peak GPU memory, {count} keyframes",
                gpu if gpu is not None else NA_CPU,
                "MB",
                options.device_label(),
                reference="lerf ~15 GB, lerf-lite ~8 GB (nerfstudio docs)",
            )
        )
    return rows


if __name__ == "__main__":
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else torch.get_num_threads())
    print(json.dumps(probe(int(sys.argv[1]), sys.argv[2])))
