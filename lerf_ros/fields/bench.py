"""Micro-benchmarks of the hash grid backends and of a radiance-field training step.

Called from ``benchmarks/``; each returns plain dicts so results can be printed or saved as JSON.
Timings take the best of ``repeats`` runs (the least disturbed by other processes) after warm-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import torch

from lerf_ros.fields.contraction import ContractionConfig
from lerf_ros.fields.hash_grid import HashGridConfig, HashGridEncoding
from lerf_ros.fields.nerf_field import (
    DensityField,
    NerfField,
    NerfFieldConfig,
    proposal_field_configs,
)
from lerf_ros.fields.sampling import ProposalNetworkSampler, ProposalSamplerConfig
from lerf_ros.rendering.losses import interlevel_loss
from lerf_ros.rendering.volume import render_rgb


def _best_time(fn: Callable[[], object], repeats: int, device: torch.device) -> float:
    """Best wall time of ``fn`` over ``repeats`` runs, after one warm-up run."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def _ray_points(num_rays: int, samples_per_ray: int, device: torch.device) -> torch.Tensor:
    """Points in [0, 1]^3 along random rays, like a sampler's output (spatially coherent)."""
    origins = torch.rand(num_rays, 1, 3, device=device)
    directions = torch.nn.functional.normalize(torch.randn(num_rays, 1, 3, device=device), dim=-1)
    t = torch.sort(torch.rand(num_rays, samples_per_ray, 1, device=device), dim=1).values * 0.5
    return (origins + directions * t).clamp(0.0, 1.0).reshape(-1, 3)


def benchmark_hash_grid(
    config: HashGridConfig | None = None,
    num_points: int = 2**16,
    backends: tuple[str, ...] = ("torch", "tcnn"),
    compile_modes: tuple[bool, ...] = (False, True),
    device: str | torch.device | None = None,
    repeats: int = 5,
) -> list[dict]:
    """Points/s of forward and of forward + backward for each backend x (eager, torch.compile).

    Combinations that cannot run here (tcnn without CUDA, a failing compile) are reported with
    an ``error`` instead of timings.
    """
    config = config or HashGridConfig()
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    num_rays = max(num_points // 64, 1)
    points = _ray_points(num_rays, 64, device)
    results = []
    for backend in backends:
        for compiled in compile_modes:
            row = {
                "backend": backend,
                "compiled": compiled,
                "device": str(device),
                "num_points": points.shape[0],
                "threads": torch.get_num_threads(),
                "config": asdict(config),
            }
            try:
                encoding = HashGridEncoding(replace(config, backend=backend)).to(device)
                fn = torch.compile(encoding) if compiled else encoding
                params = list(encoding.parameters())

                def forward_backward(fn=fn, params=params):
                    for p in params:
                        p.grad = None
                    fn(points).square().sum().backward()

                with torch.no_grad():
                    forward_s = _best_time(lambda fn=fn: fn(points), repeats, device)
                step_s = _best_time(forward_backward, repeats, device)
                row["forward_points_per_s"] = points.shape[0] / forward_s
                row["forward_backward_points_per_s"] = points.shape[0] / step_s
            except Exception as error:  # report, do not abort the other combinations
                row["error"] = f"{type(error).__name__}: {error}"
            results.append(row)
    return results


@dataclass
class NerfStepBenchmark:
    """A radiance-field training step to time (nerfacto losses minus distortion)."""

    nerf: NerfFieldConfig = field(default_factory=NerfFieldConfig.cpu_preset)
    """The radiance field."""
    sampler: ProposalSamplerConfig = field(default_factory=ProposalSamplerConfig.cpu_preset)
    """The proposal sampler."""
    num_rays: int = 1024
    """Rays per step."""
    steps: int = 5
    """Timed steps (after warm-up); the best is reported."""
    unbounded: bool = True
    """Scene contraction (unbounded) or bounded box."""
    start_step: int = 0
    """Iteration the timed steps start at: below ``proposal_warmup`` proposal fields get
    gradients every step (the costliest), later only every ``proposal_update_every`` steps."""


def benchmark_nerf_training(
    bench: NerfStepBenchmark | None = None, device: str | torch.device | None = None
) -> dict:
    """Rays/s of full training steps: proposal sampling, field, rendering, losses, Adam."""
    bench = bench or NerfStepBenchmark()
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    aabb = torch.tensor([[-2.0, -2.0, -1.0], [2.0, 2.0, 1.0]])
    contraction = ContractionConfig("contract" if bench.unbounded else "aabb")
    field_config = replace(bench.nerf, contraction=contraction)
    nerf = NerfField(field_config, aabb).to(device)
    proposals = [DensityField(c, aabb).to(device) for c in proposal_field_configs(contraction)]
    sampler = ProposalNetworkSampler(bench.sampler, aabb, bench.unbounded).to(device)
    parameters = list(nerf.parameters()) + [p for f in proposals for p in f.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=1e-2, eps=1e-15)
    step_counter = [bench.start_step]

    def step():
        sampler.set_step(step_counter[0])
        step_counter[0] += 1
        origins = (torch.rand(bench.num_rays, 3, device=device) - 0.5) * 2.0
        directions = torch.nn.functional.normalize(
            torch.randn(bench.num_rays, 3, device=device), dim=-1
        )
        target = torch.rand(bench.num_rays, 3, device=device)
        samples, weights_list, samples_list = sampler(origins, directions, proposals)
        density, rgb = nerf(samples.positions, directions[:, None, :])
        weights = samples.weights(density)
        loss = torch.nn.functional.mse_loss(render_rgb(weights, rgb), target)
        loss = loss + interlevel_loss([*weights_list, weights], [*samples_list, samples])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    if bench.start_step >= sampler.config.proposal_warmup:
        # Steady state: time whole update cycles (one step with proposal gradients, the rest
        # without) and report the mean step.
        cycle = max(int(sampler.config.proposal_update_every), 1)

        def steps():
            for _ in range(cycle):
                step()

        seconds = _best_time(steps, bench.steps, device) / cycle
    else:
        seconds = _best_time(step, bench.steps, device)
    return {
        "device": str(device),
        "threads": torch.get_num_threads(),
        "num_rays": bench.num_rays,
        "samples_per_ray": [
            *bench.sampler.num_proposal_samples_per_ray,
            bench.sampler.num_nerf_samples_per_ray,
        ],
        "grid_backend": nerf.encoding.backend,
        "start_step": bench.start_step,
        "step_s": seconds,
        "rays_per_s": bench.num_rays / seconds,
    }
