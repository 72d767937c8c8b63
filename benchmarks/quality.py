"""Quality vs time: PSNR on held-out views of lego and fern after fixed CPU/GPU training times.

The engine trains RGB only here: keyframes get no language features, so the trainer skips the
language and DINO heads (they never change geometry or colour, hence not PSNR either).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Options, Row
from benchmarks.scene import preset
from lerf_ros.data.datasets import load_llff, load_transforms_json
from lerf_ros.engine import LerfEngine
from lerf_ros.engine.build import build_engine

DATA = Path(
    os.environ.get("LERF_ROS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
"""The real scenes (../shared/data beside the checkout); ``LERF_ROS_SHARED_DATA`` points
elsewhere (a GPU machine gets a reduced copy)."""
GPU_LEGO_WIDTH = 400
"""Lego's width on a GPU (800x800 reduced 2x; a CPU run uses 100x100)."""
REFERENCE = {"lego": "NeRF paper 32.54 dB (800x800)", "fern": "NeRF paper 25.17 dB (504x378)"}


def _lego(options: Options):
    stored = load_transforms_json(DATA / "lego", "test").frames[0].intrinsics.width  # lazy
    downscale = stored / GPU_LEGO_WIDTH if options.cuda else stored / 100
    train = load_transforms_json(DATA / "lego", "train", downscale=downscale)
    test = load_transforms_json(DATA / "lego", "test", downscale=downscale)
    count = options.pick(2, 5, len(test.frames)) if not options.cuda else len(test.frames)
    test = test.subset(np.linspace(0, len(test.frames) - 1, count).round().astype(int))

    def configure(config):
        config.scene.box_min, config.scene.box_max = (-1.5,) * 3, (1.5,) * 3
        config.scene.contraction = "aabb"
        config.trainer.background = (1.0, 1.0, 1.0)

    size = f"{train.frames[0].intrinsics.width}x{train.frames[0].intrinsics.height}"
    return train.frames, test.frames, configure, lambda pose: pose, f"{size}, {count}/25 test views"


def _fern(options: Options):
    downscale = 8 if options.cuda or options.full else 32
    data = load_llff(DATA / "llff_fern", downscale=downscale)
    train, test = data.holdout(8)
    near = min(f.metadata["near_far"][0] for f in data.frames)
    scale = 1.0 / (0.75 * near)  # NeRF's LLFF rescaling: nearest surface at ~1.33 m

    def rescale(pose):
        pose = pose.copy()
        pose[:3, 3] *= scale
        return pose

    size = f"{train.frames[0].intrinsics.width}x{train.frames[0].intrinsics.height}"
    note = f"{size} (images_8 reduced {downscale // 8}x), {len(test.frames)} test views"
    return train.frames, test.frames, lambda config: None, rescale, note


def psnr(engine: LerfEngine, frames, transform) -> float:
    values = []
    for frame in frames:
        rgb = engine.render_view(frame.intrinsics, transform(frame.c2w))["rgb"]
        target = np.asarray(frame.image, dtype=np.float32) / 255.0
        mse = float(((np.clip(rgb, 0, 1) - target) ** 2).mean())
        values.append(-10.0 * math.log10(max(mse, 1e-10)))
    return float(np.mean(values))


def _scene_rows(options: Options, name: str, setup) -> list[Row]:
    train, test, configure, transform, note = setup(options)
    preset_name, config = preset(options)
    configure(config)
    engine = build_engine(config, "colour-minilm", "none")
    for index, frame in enumerate(train):
        engine.add_frame(frame.image, frame.intrinsics, transform(frame.c2w), index, force=True)
    budgets = [options.pick(8.0, 30.0)] + ([120.0, 300.0] if options.full else [])
    if options.cuda and not options.full:
        budgets = [30.0, 120.0, 180.0]  # the GPU target: lego PSNR within 3 min
    rows, trained = [], 0.0
    for budget in budgets:
        start = time.perf_counter()
        while trained + time.perf_counter() - start < budget:
            engine.train_step()
        trained += time.perf_counter() - start
        value = psnr(engine, test, transform)
        rows.append(
            Row(
                "quality",
                f"{name} held-out PSNR after {budget:.0f} s training",
                value,
                "dB",
                options.device_label(),
                reference=REFERENCE[name],
                note=f"{note}; {preset_name} preset, RGB only, {engine.step} steps, "
                f"{len(train)} train views",
            )
        )
    return rows


def quality_rows(options: Options) -> list[Row]:
    if not DATA.is_dir():
        return [Row("quality", "PSNR (lego, fern)", "skipped", note=f"{DATA} is absent")]
    rows = []
    for name, setup in (("lego", _lego), ("fern", _fern)):
        if not (DATA / ("lego" if name == "lego" else "llff_fern")).is_dir():
            rows.append(Row("quality", f"{name} PSNR", "skipped", note="dataset absent"))
            continue
        rows += _scene_rows(options, name, setup)
    return rows
