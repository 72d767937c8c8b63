"""Training throughput of the radiance-field (nerfacto) part and of the hash-grid backends."""

from __future__ import annotations

import importlib.util

from benchmarks.common import NA_CPU, Options, Row
from lerf_ros.fields.bench import benchmark_hash_grid
from lerf_ros.fields.hash_grid import HashGridConfig
from lerf_ros.samplers.bench import NerfStepBenchmark, benchmark_nerf_training
from lerf_ros.training.config import LerfConfig

LERF_REFERENCE = "≈45k rays/s, whole step (A100; 4096 rays x 30k steps / 45 min)"


def nerf_rows(options: Options) -> list[Row]:
    """Rays/s and samples/s of nerfacto steps (proposal sampling, field, losses, Adam)."""
    rows = []
    for name, config in (("cpu", LerfConfig.cpu()), ("lerf", LerfConfig.lerf())):
        rays = config.trainer.rays_per_batch
        note = ""
        if not options.cuda and name == "lerf":
            rays = options.pick(128, 256)
            note = f"{rays} rays/step on the CPU (LERF: 4096); "
        steady = not options.quick
        start = config.sampler.proposal_warmup if steady else 0
        bench = NerfStepBenchmark(
            nerf=config.nerf,
            sampler=config.sampler,
            num_rays=rays,
            steps=options.pick(1, 2, 3) if not options.cuda else 10,
            start_step=start,
        )
        result = benchmark_nerf_training(bench, options.device)
        per_ray = sum(result["samples_per_ray"])
        phase = (
            "steady state (proposal update every 5 steps)"
            if steady
            else "proposal warm-up phase (proposal gradients every step)"
        )
        note += f"{phase}; samples/ray {'+'.join(map(str, result['samples_per_ray']))}; best of"
        note += f" {bench.steps}; grid {result['grid_backend']}; nerfacto-default proposal nets"
        rows.append(
            Row(
                "training",
                f"nerfacto part, {name} preset: rays/s",
                result["rays_per_s"],
                "rays/s",
                options.device_label(),
                reference=LERF_REFERENCE if name == "lerf" else "",
                note=note,
            )
        )
        rows.append(
            Row(
                "training",
                f"nerfacto part, {name} preset: samples/s (all sampler rounds)",
                result["rays_per_s"] * per_ray,
                "samples/s",
                options.device_label(),
                extra=result,
            )
        )
    return rows


def hash_grid_rows(options: Options) -> list[Row]:
    """Points/s of the hash grid per backend, eager and torch.compile (nerfacto's grid)."""
    tcnn = options.cuda and importlib.util.find_spec("tinycudann") is not None
    backends = ("torch", "tcnn") if tcnn else ("torch",)
    points = 2**20 if options.cuda else options.pick(2**13, 2**15)
    config = HashGridConfig()
    results = benchmark_hash_grid(
        config,
        points,
        backends,
        options.pick((False,), (False, True)),
        options.device,
        repeats=options.pick(1, 3),
    )
    rows = []
    if options.quick:
        rows.append(
            Row(
                "training",
                "hash grid torch.compile",
                "skipped (--quick)",
                "points/s",
                options.device_label(),
            )
        )
    for result in results:
        mode = "torch.compile" if result["compiled"] else "eager"
        label = f"hash grid {result['backend']} {mode} (16 lv x 2 f, 2^19)"
        note = f"{result['num_points']:,} points per call"
        error = result.get("error")
        for key, what in (
            ("forward_points_per_s", "forward"),
            ("forward_backward_points_per_s", "forward+backward"),
        ):
            rows.append(
                Row(
                    "training",
                    f"{label}: {what}",
                    result.get(key) if not error else None,
                    "points/s",
                    options.device_label(),
                    note=f"{note}; {error[:120]}" if error else note,
                    extra=result,
                )
            )
    if not tcnn:
        why = "n/a (needs CUDA)" if not options.cuda else "n/a (tinycudann not installed)"
        rows.append(Row("training", "hash grid tcnn", why, "points/s", options.device_label()))
    return rows


def precision_rows(options: Options) -> list[Row]:
    """fp32 vs mixed precision is measured by the engine and language benchmarks on CUDA."""
    if options.cuda:
        return []
    return [
        Row(
            "training",
            "mixed precision (fp16 autocast) vs fp32",
            NA_CPU,
            "",
            options.device_label(),
            note="autocast is CUDA-only in the trainer",
        )
    ]
