"""Latency of 3D language queries (``run_query``) vs candidate points and scales swept."""

from __future__ import annotations

import time

import numpy as np
import torch

from benchmarks.common import Options, Row, median
from benchmarks.scene import synthetic_scene, trained_engine
from lerf_ros.query.candidates import Candidates
from lerf_ros.query.request import validate_request

STAGES = ("text", "features", "sweep", "relevancy", "peaks")
LERF_QUERY = "kerrj/lerf renders 2D relevancy: ~31 s per 988x731 image"


def resample(candidates: Candidates, count: int, jitter: float, seed: int = 0) -> Candidates:
    """``count`` points drawn from real surface candidates, jittered by ``jitter`` metres
    (the real scene yields only thousands; queries scale with the count)."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(candidates), count)
    points = candidates.points[pick] + rng.normal(0.0, jitter, (count, 3)).astype(np.float32)
    return Candidates(points, candidates.colors[pick], candidates.views[pick], candidates.step)


def query_rows(options: Options) -> list[Row]:
    engine, origin = trained_engine(options, options.pick(10, 150))
    _, scene = synthetic_scene()
    text = scene["objects"][0]["name"]
    config = engine.query_config
    start = time.perf_counter()
    real, _, _ = engine.answers.fresh_candidates()  # what a query pays when the cache is stale
    candidate_seconds = time.perf_counter() - start
    keyframes = engine.status().keyframes
    rows = [
        Row(
            "query",
            f"candidate extraction, {keyframes} keyframes (cached {config.refresh_steps} steps)",
            candidate_seconds * 1000,
            "ms",
            options.device_label(),
            note=f"{len(real):,} real surface points; {origin}",
        )
    ]
    if len(real) == 0:
        rows.append(Row("query", "query latency", "not measured", note="no surface candidates"))
        return rows
    counts = [10_000, 100_000]
    if options.cuda or options.full:
        counts.append(1_000_000)
    repeats = options.pick(2, 5) if not options.cuda else 20
    for count in counts:
        candidates = resample(real, count, config.voxel_size / 2)
        for scales in (1, 30):
            request = validate_request(text, config, scale=1.0 if scales == 1 else None)
            samples: list[dict[str, float]] = []
            runs = repeats if count < 1_000_000 else max(repeats // 4, 2)
            for _ in range(runs + 1):  # the first run warms up
                result = engine.answers.run(request, candidates)
                samples.append(result.timings)
            samples = samples[1:]
            stages = " · ".join(f"{s} {median([t[s] for t in samples]) * 1000:.0f}" for s in STAGES)
            sweep = (
                f"; sweep scores {min(count, config.sweep_points):,} points" if scales > 1 else ""
            )
            rows.append(
                Row(
                    "query",
                    f"run_query p50, {count:,} points x {scales} scale{'s' if scales > 1 else ''}",
                    median([t["total"] for t in samples]) * 1000,
                    "ms",
                    options.device_label(),
                    reference=LERF_QUERY,
                    note=f"stages (ms): {stages}{sweep}; {runs} runs; features recomputed",
                    extra={"count": count, "scales": scales},
                )
            )
            del result
        if options.cuda:
            torch.cuda.empty_cache()
    return rows
