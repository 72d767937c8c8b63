"""Throughput of the crop pyramid: how many keyframes per second an encoder can embed."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from lerf_ros.features.encoders.base import ImageTextEncoder
from lerf_ros.features.pyramid import PyramidConfig, crop_boxes, encode_crops, pyramid_layout


@dataclass
class PyramidBenchmark:
    """Measured pyramid throughput."""

    crops_per_second: float
    """Crops cut, resized and encoded per second."""
    keyframes_per_second: float
    """Whole pyramids per second: ``crops_per_second / crops_per_keyframe``."""
    crops_per_keyframe: int
    """Crops in one pyramid of the benchmarked image size."""
    crops_timed: int
    """Crops per timed repeat; fewer than ``crops_per_keyframe`` means extrapolated."""
    seconds_per_repeat: float
    """Mean wall time of one timed repeat."""

    @property
    def extrapolated(self) -> bool:
        """True when keyframes/s comes from a subset of a pyramid's crops."""
        return self.crops_timed < self.crops_per_keyframe


def benchmark_pyramid(
    encoder: ImageTextEncoder,
    height: int = 480,
    width: int = 640,
    repeats: int = 3,
    config: PyramidConfig | None = None,
    max_crops: int | None = None,
    seed: int = 0,
) -> PyramidBenchmark:
    """Time the pyramid of a random ``height x width`` image through ``encoder``.

    Args:
        encoder: the encoder to time.
        height: image height in pixels.
        width: image width in pixels.
        repeats: timed runs after one untimed warm-up run.
        config: crop layout and batching; None is LERF's.
        max_crops: time only this many crops, spread evenly over all levels, and
            extrapolate to a whole pyramid (for slow encoders, e.g. ViT-B-16 on a CPU).
        seed: seed of the random image.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    config = config or PyramidConfig()
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(3, height, width, generator=generator)
    boxes, _ = crop_boxes(pyramid_layout(height, width, config))
    total = len(boxes)
    if max_crops is not None and max_crops < total:
        boxes = boxes[torch.linspace(0, total - 1, max_crops).round().long()]

    def run() -> None:
        encode_crops(image, boxes, encoder, config)
        if encoder.device.type == "cuda":
            torch.cuda.synchronize(encoder.device)

    with torch.no_grad():
        run()  # warm-up: lazy loads, kernel selection, allocator growth
        start = time.perf_counter()
        for _ in range(repeats):
            run()
        seconds = (time.perf_counter() - start) / max(repeats, 1)
    crops_per_second = len(boxes) / seconds
    return PyramidBenchmark(
        crops_per_second=crops_per_second,
        keyframes_per_second=crops_per_second / total,
        crops_per_keyframe=total,
        crops_timed=len(boxes),
        seconds_per_repeat=seconds,
    )
