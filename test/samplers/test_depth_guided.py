"""Depth-guided sampling: a guided ray's first-round samples crowd the band around its
measured distance, the rest still cover the ray; unguided rays sample as before."""

from __future__ import annotations

import torch

from lerf_ros.samplers import Spacing, UniformSampler
from lerf_ros.samplers.depth_guided import guided_bins


def uniform_samples(rays: int, samples: int, spacing: Spacing, far: float = 4.0):
    origins = torch.zeros(rays, 3)
    directions = torch.tensor([[0.0, 0.0, 1.0]]).expand(rays, 3)
    nears, fars = torch.full((rays, 1), 0.1), torch.full((rays, 1), far)
    sampler = UniformSampler(spacing).eval()  # no jitter: edges comparable
    return sampler(origins, directions, nears, fars, samples)


def test_half_the_edges_of_a_guided_ray_fall_in_its_band_and_the_rest_span_the_ray():
    spacing = Spacing("linear")
    samples = uniform_samples(3, 64, spacing)
    guides = torch.tensor([[2.0], [0.0], [3.5]])  # ray 1 has no reading
    guided = guided_bins(samples, guides, band=0.1, fraction=0.5, spacing=spacing, jitter=False)
    edges = torch.cat([guided.starts[..., 0], guided.ends[:, -1:, 0]], dim=-1)
    assert torch.all(edges[:, 1:] >= edges[:, :-1])  # still sorted intervals
    for ray, centre in ((0, 2.0), (2, 3.5)):
        in_band = ((edges[ray] - centre).abs() <= 0.1 + 1e-5).sum().item()
        assert in_band >= 32, (ray, in_band)  # half of 65 edges, plus the uniform ones there
        assert edges[ray, 0].item() == torch.tensor(0.1).item()  # the ray is still covered
        assert abs(edges[ray, -1].item() - 4.0) < 1e-5
    # No reading: exactly the uniform samples.
    torch.testing.assert_close(guided.starts[1], samples.starts[1])
    torch.testing.assert_close(guided.ends[1], samples.ends[1])


def test_a_band_beyond_the_far_end_is_clipped_to_the_ray_and_disparity_spacing_works():
    spacing = Spacing("lindisp_piecewise", knee=1.0)
    samples = uniform_samples(2, 32, spacing, far=100.0)
    guides = torch.tensor([[150.0], [0.5]])
    guided = guided_bins(samples, guides, band=0.2, fraction=0.5, spacing=spacing, jitter=True)
    edges = torch.cat([guided.starts[..., 0], guided.ends[:, -1:, 0]], dim=-1)
    assert torch.isfinite(edges).all() and torch.all(edges[:, 1:] >= edges[:, :-1] - 1e-6)
    assert edges.max().item() <= 100.0 + 1e-3 and edges.min().item() >= 0.1 - 1e-6
    near_half = ((edges[1] - 0.5).abs() <= 0.2 + 1e-4).sum().item()
    assert near_half >= 16


def test_nothing_changes_without_a_band_or_a_fraction():
    spacing = Spacing("linear")
    samples = uniform_samples(2, 16, spacing)
    guides = torch.tensor([[2.0], [1.0]])
    assert guided_bins(samples, guides, 0.0, 0.5, spacing, False) is samples
    assert guided_bins(samples, guides, 0.1, 0.0, spacing, False) is samples
