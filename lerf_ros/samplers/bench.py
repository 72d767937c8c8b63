"""Micro-benchmark of a radiance-field training step: proposal sampling, field, rendering,
losses and Adam. It lives with the sampler because the sampler's settings (samples per ray, the
proposal update schedule) set most of a step's cost, and this package sits above the fields it
times.

Called from ``benchmarks/``; returns a plain dict so results can be printed or saved as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from lerf_ros.fields.bench import best_time
from lerf_ros.fields.contraction import ContractionConfig
from lerf_ros.fields.nerf_field import (
    DensityField,
    NerfField,
    NerfFieldConfig,
    proposal_field_configs,
)
from lerf_ros.rendering.losses import interlevel_loss
from lerf_ros.rendering.volume import render_rgb
from lerf_ros.samplers.proposal import ProposalNetworkSampler, ProposalSamplerConfig


@dataclass
class NerfStepBenchmark:
    """A radiance-field training step to time (nerfacto losses minus distortion)."""

    nerf: NerfFieldConfig = field(default_factory=NerfFieldConfig)
    """The radiance field (nerfacto's by default; ``benchmarks/training.py`` passes
    ``LerfConfig.cpu()``'s and ``LerfConfig.lerf()``'s: the presets live in ``training``, above
    this package, so they are passed in rather than imported here)."""
    sampler: ProposalSamplerConfig = field(default_factory=ProposalSamplerConfig)
    """The proposal sampler (nerfacto's by default; see ``nerf``)."""
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

        seconds = best_time(steps, bench.steps, device) / cycle
    else:
        seconds = best_time(step, bench.steps, device)
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
