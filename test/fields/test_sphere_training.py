"""End to end: a small field + proposal sampler learns an analytic sphere from its rays."""

from __future__ import annotations

import pytest
import torch

from lerf_ros.fields.contraction import ContractionConfig
from lerf_ros.fields.hash_grid import HashGridConfig
from lerf_ros.fields.nerf_field import (
    DensityField,
    NerfField,
    NerfFieldConfig,
    proposal_field_configs,
)
from lerf_ros.rendering.losses import distortion_loss, interlevel_loss
from lerf_ros.rendering.volume import render_accumulation, render_depth, render_rgb
from lerf_ros.samplers import ProposalNetworkSampler, ProposalSamplerConfig

AABB = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
RADIUS = 0.5
COLOUR = torch.tensor([1.0, 0.5, 0.2])


def sphere_rays(n: int, generator: torch.Generator):
    """Rays from cameras 2.5 m from the centre towards points near it; targets by ray tracing."""
    origins = torch.nn.functional.normalize(torch.randn(n, 3, generator=generator), dim=-1) * 2.5
    aim = (torch.rand(n, 3, generator=generator) * 2 - 1) * 0.8
    directions = torch.nn.functional.normalize(aim - origins, dim=-1)
    b = (origins * directions).sum(-1)
    disc = b * b - ((origins * origins).sum(-1) - RADIUS**2)
    hit = disc > 0
    distance = -b - disc.clamp(min=0).sqrt()
    rgb = torch.where(hit[:, None], COLOUR, torch.zeros(3))
    return origins, directions, rgb, hit, distance


@pytest.mark.slow
def test_field_learns_an_analytic_sphere():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    contraction = ContractionConfig("aabb")
    grid = HashGridConfig(num_levels=6, log2_hashmap_size=14, max_resolution=128)
    config = NerfFieldConfig(grid=grid, contraction=contraction, mlp_backend="torch")
    field = NerfField(config, AABB)
    proposals = [DensityField(c, AABB) for c in proposal_field_configs(contraction, (32, 64))]
    sampler = ProposalNetworkSampler(
        ProposalSamplerConfig(num_proposal_samples_per_ray=(32, 16), num_nerf_samples_per_ray=16),
        AABB,
        unbounded=False,
    )
    parameters = list(field.parameters()) + [p for f in proposals for p in f.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=1e-2, eps=1e-15)

    def render(origins, directions):
        samples, weights_list, samples_list = sampler(origins, directions, proposals)
        density, rgb = field(samples.positions, directions[:, None, :])
        weights = samples.weights(density)
        return samples, weights, rgb, [*weights_list, weights], [*samples_list, samples]

    first_losses, last_losses = [], []
    for step in range(100):
        sampler.set_step(step)
        origins, directions, target, _, _ = sphere_rays(256, generator)
        _, weights, rgb, weights_list, samples_list = render(origins, directions)
        rgb_loss = torch.nn.functional.mse_loss(render_rgb(weights, rgb, 0.0), target)
        loss = rgb_loss + interlevel_loss(weights_list, samples_list)
        loss = loss + 0.002 * distortion_loss(weights_list, samples_list)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        (first_losses if step < 10 else last_losses).append(rgb_loss.item())

    field.eval()
    sampler.eval()
    with torch.no_grad():
        origins, directions, target, hit, distance = sphere_rays(1000, generator)
        samples, weights, rgb, _, _ = render(origins, directions)
        test_mse = torch.nn.functional.mse_loss(render_rgb(weights, rgb, 0.0), target).item()
        depth = render_depth(weights, samples)[:, 0]
        accumulation = render_accumulation(weights)[:, 0]
    assert sum(first_losses) / 10 > 0.05
    assert test_mse < 0.01
    assert (depth[hit] - distance[hit]).abs().median() < 0.1  # surface in the right place
    assert accumulation[~hit].mean() < 0.1 and accumulation[hit].mean() > 0.9
