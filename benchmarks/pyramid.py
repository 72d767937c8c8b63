"""Crop pyramid (CLIP targets) and DINO dense-map throughput at 640x480."""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import Options, Row, sync
from lerf_ros.features.benchmark import benchmark_pyramid
from lerf_ros.features.dense import compute_dense
from lerf_ros.features.encoders.registry import load_dense_encoder, load_encoder
from lerf_ros.features.pyramid import PyramidConfig
from lerf_ros.training.config import LerfConfig

HEIGHT, WIDTH = 480, 640
LERF_PYRAMID = "kerrj/lerf precomputes all pyramids at start-up (no published rate)"


def _pyramid_rows(options: Options, label: str, encoder, config, max_crops, repeats) -> list[Row]:
    result = benchmark_pyramid(encoder, HEIGHT, WIDTH, repeats, config, max_crops)
    note = f"crop {config.crop_size} px, {result.crops_per_keyframe} crops/keyframe"
    if result.extrapolated:
        note += f"; extrapolated from {result.crops_timed} crops spread over all levels"
    device = options.device_label()
    return [
        Row("pyramid", f"{label}: crops/s", result.crops_per_second, "crops/s", device, note=note),
        Row(
            "pyramid",
            f"{label}: keyframes/s",
            result.keyframes_per_second,
            "keyframes/s",
            device,
            reference=LERF_PYRAMID,
            note=note,
        ),
    ]


def pyramid_rows(options: Options) -> list[Row]:
    device = options.device
    rows = []
    minilm = load_encoder("colour-minilm").to(device)
    configs = [("cpu preset", LerfConfig.cpu().pyramid)]
    if not options.quick:
        configs.append(("LERF layout", PyramidConfig()))
    for name, config in configs:
        rows += _pyramid_rows(options, f"colour-minilm, {name}", minilm, config, None, 1)
    clip = load_encoder("openclip", random_weights=True, device=device)
    max_crops = None if options.cuda else options.pick(4, 8, 24)
    label = "open_clip ViT-B-16 (random weights)"
    rows += _pyramid_rows(options, label, clip, PyramidConfig(), max_crops, 1)
    del clip
    rows.append(_dino_row(options))
    return rows


def _dino_row(options: Options) -> Row:
    label = "DINO ViT-S/8 (random weights) dense map, 640x480 (load size 500)"
    if options.quick and not options.cuda:
        return Row(
            "pyramid",
            label,
            "skipped (--quick)",
            "s/frame",
            options.device_label(),
            note="one frame takes tens of seconds on a 2-core CPU",
        )
    encoder = load_dense_encoder("dino", random_weights=True, device=options.device)
    image = np.random.default_rng(0).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    repeats = 10 if options.cuda else 1
    compute_dense(image, encoder)  # warm-up
    times = []
    for _ in range(repeats):
        sync(options.device)
        start = time.perf_counter()
        features = compute_dense(image, encoder)
        sync(options.device)
        times.append(time.perf_counter() - start)
    grid = "x".join(map(str, features.features.shape[1:]))
    return Row(
        "pyramid",
        label,
        min(times),
        "s/frame",
        options.device_label(),
        note=f"{grid} patches, {encoder.dim}-d; best of {repeats} after warm-up",
    )
