"""Host memory and disk cache over a long stream (issue 7): N frames (default 10,000, 64x48)
of the default synthetic scene along an orbit into one LerfEngine with a feature cache folder
and small caps, sampling RSS and the cache's size on disk every 500 frames. Asserts nothing:
it records the curve (docs/reliability.md quotes a run).

Frames are processed in the caller's thread, as the offline path does: ``add_frame``, the
features of every new keyframe (so each one goes through the cache), a training step every
``train_every`` frames. Every image gets a little pixel noise, so no two share cache entries.

Not in the default run (minutes): ``--only memory_stream`` or ``--full``; or directly:
``python -m benchmarks.memory_stream [FRAMES [KEYFRAME_EVERY]]``.
"""

from __future__ import annotations

import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Options, Row

WIDTH, HEIGHT = 64, 48
ORBIT_VIEWS = 96
"""Distinct poses on the orbit (3.75 degrees apart, further than the preset's 5 cm keyframe
spacing): every frame becomes a keyframe and, past the cap, evicts one."""
SAMPLE_EVERY = 500
MAX_KEYFRAMES = 40
CACHE_BYTES = 64 << 20
MEMORY_BYTES = 16 << 20
KEYFRAME_EVERY = 5
"""The camera moves to a new pose (a new keyframe) every this many frames: 2,000 keyframes in
10,000 frames. Each keyframe's features cost ~0.3 s here; ``python -m benchmarks.memory_stream
2000 1`` streams a keyframe in every frame (the stress case)."""


def rss_mb() -> float:
    """Current resident set size of this process (VmRSS)."""
    with open("/proc/self/status") as file:
        for line in file:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def stream(
    frames: int = 10_000, train_every: int = 50, device: str = "cpu", keyframe_every: int = 1
) -> list[dict]:
    """Stream ``frames`` frames; returns one sample per SAMPLE_EVERY frames (and the last).
    The camera moves to the next orbit pose every ``keyframe_every`` frames and holds still in
    between (those frames are received, checked and not kept, as from a camera at rest)."""
    from lerf_ros.cameras.intrinsics import Intrinsics
    from lerf_ros.data.synthetic.presets import default_scene
    from lerf_ros.data.synthetic.render import render_view
    from lerf_ros.data.synthetic.trajectory import orbit
    from lerf_ros.engine.build import build_engine
    from lerf_ros.training.config import LerfConfig

    scene = default_scene()
    view = scene.view
    intrinsics = Intrinsics.from_fov(WIDTH, HEIGHT, math.radians(60.0))
    poses = orbit(view.target, view.radius, view.height, ORBIT_VIEWS, None, view.start_angle)
    images = [(render_view(scene, intrinsics, p).rgb * 255).round() for p in poses]
    cache_dir = Path(tempfile.mkdtemp(prefix="lerf_memory_stream_"))
    config = LerfConfig.cpu() if device == "cpu" else LerfConfig.lerf()
    config.device = device
    config.keyframes.max_keyframes = MAX_KEYFRAMES
    config.keyframes.max_interval = 0.0
    config.feature_cache_dir = str(cache_dir)
    config.feature_cache_bytes = CACHE_BYTES
    config.feature_memory_bytes = MEMORY_BYTES
    engine = build_engine(config, "colour-minilm", "colour-patches")
    rng = np.random.default_rng(0)
    samples: list[dict] = []
    started = time.perf_counter()

    def sample(done: int) -> None:
        status = engine.status()
        row = {
            "frames": done,
            "seconds": round(time.perf_counter() - started, 1),
            "rss_mb": round(rss_mb(), 1),
            "disk_cache_mb": round(disk_mb(cache_dir), 1),
            "cache_files": sum(1 for p in cache_dir.rglob("*") if p.is_file()),
            "keyframes": status.keyframes,
            "with_features": status.keyframes_with_features,
            "step": status.step,
            "dropped": status.frames_dropped,
            "received": status.frames_received,
        }
        samples.append(row)
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)

    sample(0)
    try:
        for index in range(frames):
            noise = rng.integers(-2, 3, images[0].shape)
            pose_index = (index // keyframe_every) % ORBIT_VIEWS
            image = np.clip(images[pose_index] + noise, 0, 255).astype(np.uint8)
            engine.add_frame(image, intrinsics, poses[pose_index], index * 0.1)
            engine.compute_pending_features()
            if (index + 1) % train_every == 0:
                engine.train_step()
            if (index + 1) % SAMPLE_EVERY == 0 or index + 1 == frames:
                sample(index + 1)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return samples


def memory_stream_rows(options: Options) -> list[Row]:
    frames = options.pick(1000, 10_000)
    samples = stream(frames, device=str(options.device), keyframe_every=KEYFRAME_EVERY)
    device = options.device_label()
    first, last = samples[1] if len(samples) > 1 else samples[0], samples[-1]
    peak_rss = max(s["rss_mb"] for s in samples)
    peak_disk = max(s["disk_cache_mb"] for s in samples)
    note = (
        f"{frames} frames {WIDTH}x{HEIGHT}, a new pose every {KEYFRAME_EVERY} frames, "
        f"max_keyframes {MAX_KEYFRAMES}, feature cache "
        f"{CACHE_BYTES >> 20} MiB disk / {MEMORY_BYTES >> 20} MiB memory"
    )
    curve = {str(s["frames"]): [s["rss_mb"], s["disk_cache_mb"]] for s in samples}
    return [
        Row("memory_stream", "RSS after the first 500 frames", first["rss_mb"], "MiB", device),
        Row("memory_stream", "RSS at the end", last["rss_mb"], "MiB", device, note=note),
        Row("memory_stream", "peak RSS (sampled)", peak_rss, "MiB", device, extra=curve),
        Row("memory_stream", "peak disk cache (sampled)", peak_disk, "MiB", device),
        Row("memory_stream", "stream time", last["seconds"], "s", device),
    ]


if __name__ == "__main__":
    stream(
        int(sys.argv[1]) if len(sys.argv) > 1 else 10_000,
        keyframe_every=int(sys.argv[2]) if len(sys.argv) > 2 else KEYFRAME_EVERY,
    )
