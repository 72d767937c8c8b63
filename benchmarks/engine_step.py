"""Rays/s of full LerfEngine training steps (sampling, NeRF, language, DINO, Adam) on the
synthetic scene with the colour-minilm encoder."""

from __future__ import annotations

import time

from benchmarks.common import NA_CPU, Options, Row
from benchmarks.scene import preset, scene_engine
from benchmarks.training import LERF_REFERENCE


def _rays_per_second(engine, steps: int) -> float:
    rays, start = 0, time.perf_counter()
    for _ in range(steps):
        stats = engine.train_step()
        rays += stats.rays if stats is not None else 0
    return rays / (time.perf_counter() - start)


def engine_rows(options: Options) -> list[Row]:
    name, config = preset(options)
    variants = [(True, "fp16 autocast"), (False, "fp32")] if options.cuda else [(False, "fp32")]
    steps = options.pick(5, 30, 60) if not options.cuda else 50
    rows = []
    for amp, precision in variants:
        config.trainer.mixed_precision = amp
        engine, feature_seconds = scene_engine(options, config)
        rays = config.trainer.rays_per_batch
        _rays_per_second(engine, options.pick(1, 3))  # warm-up: allocator, lazy initialisation
        early = _rays_per_second(engine, steps)
        # Jump past the proposal warm-up: proposal fields then get gradients every 5th step.
        engine.training.fast_forward(config.sampler.proposal_warmup)
        steady = _rays_per_second(engine, steps)
        label = f"LerfEngine step, {name} preset, {precision}"
        note = (
            f"synthetic scene, 30 keyframes 128x96, colour-minilm + colour-patches, {rays} rays "
            f"x {steps} steps (mean)"
        )
        rows.append(
            Row(
                "engine",
                f"{label}: rays/s (early steps, proposal warm-up)",
                early,
                "rays/s",
                options.device_label(),
                reference=LERF_REFERENCE,
                note=note + f"; features of 30 keyframes took {feature_seconds:.1f} s",
            )
        )
        rows.append(
            Row(
                "engine",
                f"{label}: rays/s (after proposal warm-up)",
                steady,
                "rays/s",
                options.device_label(),
                reference=LERF_REFERENCE,
                note=note,
            )
        )
    if not options.cuda:
        rows.append(
            Row(
                "engine",
                f"LerfEngine step, {name} preset, fp16 autocast",
                NA_CPU,
                "rays/s",
                options.device_label(),
            )
        )
    return rows


SAVE_HOLD_TARGET_MS = 100.0
"""Training may wait at most this long for a checkpoint's copy (issue: nothing lost)."""


def save_hold_rows(options: Options) -> list[Row]:
    """How long ``LerfEngine.save`` holds the model lock (training waits that long) and how long
    the whole save takes (digest and disk write run on the copies, outside the lock)."""
    import tempfile
    from pathlib import Path

    name, config = preset(options)
    engine, _ = scene_engine(options, config)
    _rays_per_second(engine, options.pick(2, 5))
    holds, totals = [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(options.pick(3, 10, 20)):
            started = time.perf_counter()
            engine.save(Path(folder) / "model.ckpt")
            totals.append(time.perf_counter() - started)
            holds.append(engine.last_save_hold_seconds)
            engine.train_step()  # the next save copies moved weights again
    note = (
        f"{name} preset, synthetic scene, 30 keyframes 128x96 with features, {len(holds)} "
        f"saves between training steps; target <= {SAVE_HOLD_TARGET_MS:.0f} ms"
    )
    device = options.device_label()
    return [
        Row("engine", "save: training held per save (max)", 1e3 * max(holds), "ms", device,
            note=note),
        Row("engine", "save: training held per save (median)",
            1e3 * sorted(holds)[len(holds) // 2], "ms", device, note=note),
        Row("engine", "save: whole save (median)", 1e3 * sorted(totals)[len(totals) // 2], "ms",
            device, note=note),
    ]  # fmt: skip
