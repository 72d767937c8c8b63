"""Ray/box intersection, spacing functions, uniform, PDF and proposal sampling."""

from __future__ import annotations

import pytest
import torch

from lerf_ros.samplers import (
    PDFSampler,
    ProposalNetworkSampler,
    ProposalSamplerConfig,
    Spacing,
    UniformSampler,
    intersect_aabb,
)

AABB = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])


def test_intersect_aabb_hand_cases():
    origins = torch.tensor(
        [[-3.0, 0.0, 0.0], [0.0, 0.0, 0.0], [-3.0, 2.0, 0.0], [3.0, 0.0, 0.0], [-3.0, 0.5, 0.5]]
    )
    directions = torch.tensor(
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    )
    near, far = intersect_aabb(origins, directions, AABB)
    assert near.shape == far.shape == (5, 1)
    assert (near[0, 0].item(), far[0, 0].item()) == pytest.approx((2.0, 4.0))
    assert (near[1, 0].item(), far[1, 0].item()) == pytest.approx((0.0, 1.0))  # from inside
    assert far[2, 0] == near[2, 0]  # misses (passes above the box)
    assert far[3, 0] == near[3, 0]  # box behind the ray
    assert (near[4, 0].item(), far[4, 0].item()) == pytest.approx((2.0, 4.0))


def test_intersect_aabb_diagonal_ray():
    d = torch.nn.functional.normalize(torch.tensor([[1.0, 1.0, 1.0]]), dim=-1)
    near, far = intersect_aabb(torch.tensor([[-2.0, -2.0, -2.0]]), d, AABB)
    assert near.item() == pytest.approx(3**0.5) and far.item() == pytest.approx(3 * 3**0.5)


@pytest.mark.parametrize("spacing", [Spacing("linear"), Spacing("lindisp_piecewise", knee=0.5)])
def test_spacing_round_trip_and_endpoints(spacing):
    near, far = torch.tensor([[0.1], [0.3]]), torch.tensor([[50.0], [2.0]])
    s = torch.linspace(0.0, 1.0, 101).expand(2, -1)
    t = spacing.to_euclidean(s, near, far)
    assert torch.allclose(t[:, :1], near, rtol=1e-5) and torch.allclose(t[:, -1:], far, rtol=1e-4)
    assert (t[:, 1:] > t[:, :-1]).all()
    x = torch.linspace(0.01, 30.0, 500)
    assert torch.allclose(spacing.inverse(spacing.forward(x)), x, rtol=1e-4)


def test_lindisp_piecewise_puts_half_the_samples_within_the_knee():
    spacing = Spacing("lindisp_piecewise", knee=1.0)
    t = spacing.to_euclidean(
        torch.linspace(0.0, 1.0, 1001)[None], torch.zeros(1, 1), torch.full((1, 1), 1e6)
    )
    assert (t <= 1.0).float().mean().item() == pytest.approx(0.5, abs=0.01)


def test_uniform_sampler_covers_near_to_far_and_jitters_only_in_training():
    sampler = UniformSampler(Spacing("linear"))
    origins, directions = torch.zeros(4, 3), torch.tensor([[0.0, 0.0, 1.0]]).expand(4, 3)
    near, far = torch.full((4, 1), 0.5), torch.full((4, 1), 2.5)
    samples = sampler(origins, directions, near, far, num_samples=8)
    assert samples.starts.shape == (4, 8, 1)
    # Jittered edges stay within [near, far] and within their stratum.
    assert (samples.starts[:, 0] >= near).all() and (samples.ends[:, -1] <= far).all()
    assert (samples.deltas < 2 * 2.0 / 8).all()
    assert torch.equal(samples.ends[:, :-1], samples.starts[:, 1:])  # contiguous intervals
    assert (samples.deltas >= 0).all()
    assert torch.allclose(samples.positions[..., 2], samples.midpoints[..., 0])
    sampler.eval()
    a = sampler(origins, directions, near, far, 8).starts
    b = sampler(origins, directions, near, far, 8).starts
    assert torch.equal(a, b)
    assert torch.allclose(a[0, :, 0], torch.linspace(0.5, 2.5, 9)[:-1])  # exact strata
    assert torch.allclose(sampler(origins, directions, near, far, 8).ends[:, -1], far)


def test_pdf_sampler_concentrates_samples_where_the_weights_are():
    uniform = UniformSampler(Spacing("linear"))
    uniform.eval()
    origins, directions = torch.zeros(64, 3), torch.tensor([[1.0, 0.0, 0.0]]).expand(64, 3)
    coarse = uniform(origins, directions, torch.zeros(64, 1), torch.full((64, 1), 10.0), 20)
    weights = torch.zeros(64, 20, 1)
    weights[:, 13] = 1.0  # all mass in [6.5, 7.0]
    fine = PDFSampler(histogram_padding=0.01)(coarse, weights, num_samples=40)
    mid = fine.midpoints[..., 0]
    assert fine.starts.shape == (64, 40, 1)
    inside = ((mid >= 6.5) & (mid <= 7.0)).float().mean().item()
    assert inside > 0.8  # uniform would put 5 % there
    assert (fine.starts[:, 1:] >= fine.starts[:, :-1]).all()


def test_pdf_sampler_with_zero_weights_falls_back_to_uniform():
    uniform = UniformSampler(Spacing("linear"))
    uniform.eval()
    coarse = uniform(torch.zeros(2, 3), torch.eye(3)[:2], torch.zeros(2, 1), torch.ones(2, 1), 10)
    pdf = PDFSampler(histogram_padding=0.0)
    pdf.eval()
    fine = pdf(coarse, torch.zeros(2, 10, 1), num_samples=10)
    assert torch.isfinite(fine.starts).all()
    # Evenly spread like the uniform pdf it falls back to (edges at (i + 0.5) / 11).
    assert torch.allclose(fine.deltas, torch.full_like(fine.deltas, 1 / 11), atol=1e-5)


def test_proposal_sampler_shapes_losses_inputs_and_near_far():
    config = ProposalSamplerConfig(
        num_proposal_samples_per_ray=(32, 16), num_nerf_samples_per_ray=8
    )
    sampler = ProposalNetworkSampler(config, AABB, unbounded=False)
    calls = []

    def density_fn(positions):
        calls.append(positions.shape)
        inside_ball = positions.norm(dim=-1, keepdim=True) < 0.5
        return inside_ball.float() * 50.0

    origins = torch.tensor([[-3.0, 0.0, 0.0], [-3.0, 0.1, 0.0]])
    directions = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    samples, weights_list, samples_list = sampler(origins, directions, [density_fn, density_fn])
    assert calls == [(2, 32, 3), (2, 16, 3)]
    assert samples.starts.shape == (2, 8, 1)
    assert [w.shape for w in weights_list] == [(2, 32, 1), (2, 16, 1)]
    assert len(samples_list) == 2
    # Bounded: samples span the box crossing [2, 4] m; the final ones crowd the ball (2.5..3.5).
    assert samples_list[0].starts.min() >= 2.0 - 1e-5 and samples_list[0].ends.max() <= 4.0 + 1e-5
    mid = samples.midpoints[..., 0]
    assert ((mid > 2.4) & (mid < 2.7)).float().mean() > 0.5


def test_proposal_sampler_unbounded_range_and_anneal():
    config = ProposalSamplerConfig(near_plane=0.2, far_plane=100.0)
    sampler = ProposalNetworkSampler(config, AABB, unbounded=True)
    near, far = sampler.near_far(torch.zeros(3, 3), torch.eye(3))
    assert torch.allclose(near, torch.full((3, 1), 0.2)) and torch.allclose(
        far, torch.full((3, 1), 100.0)
    )
    assert sampler.initial_sampler.spacing.kind == "lindisp_piecewise"
    sampler.set_step(0)
    assert sampler._anneal == 0.0
    sampler.set_step(100)
    assert 0.0 < sampler._anneal < 1.0
    sampler.set_step(5000)
    assert sampler._anneal == 1.0


def test_proposal_fields_get_gradients_only_on_update_steps():
    config = ProposalSamplerConfig(
        num_proposal_samples_per_ray=(8, 8),
        num_nerf_samples_per_ray=4,
        proposal_update_every=3,
        proposal_warmup=1,
    )
    sampler = ProposalNetworkSampler(config, AABB, unbounded=False)
    scale = torch.tensor(1.0, requires_grad=True)

    def density_fn(positions):
        return scale * torch.ones_like(positions[..., :1])

    origins, directions = torch.tensor([[-3.0, 0.0, 0.0]]), torch.tensor([[1.0, 0.0, 0.0]])
    tracked = []
    for step in range(20, 29):
        sampler.set_step(step)
        _, weights_list, _ = sampler(origins, directions, [density_fn, density_fn])
        tracked.append(weights_list[0].requires_grad)
    assert sum(tracked) == 3  # one step in three
