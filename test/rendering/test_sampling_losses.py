"""Distortion and interlevel (proposal) losses."""

from __future__ import annotations

import torch

from lerf_ros.rendering.losses import (
    distortion_loss,
    interlevel_loss,
    lossfun_distortion,
    outer_weights,
)
from lerf_ros.rendering.ray_samples import RaySamples
from lerf_ros.samplers import Spacing


def quadratic_distortion(t: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """mip-NeRF 360 / nerfstudio's O(S^2) formula."""
    ut = (t[..., 1:] + t[..., :-1]) / 2
    dut = torch.abs(ut[..., :, None] - ut[..., None, :])
    loss_inter = torch.sum(w * torch.sum(w[..., None, :] * dut, dim=-1), dim=-1)
    loss_intra = torch.sum(w**2 * (t[..., 1:] - t[..., :-1]), dim=-1) / 3
    return loss_inter + loss_intra


def samples_from_bins(bins: torch.Tensor) -> RaySamples:
    n = bins.shape[0]
    return RaySamples.from_spacing_bins(
        torch.zeros(n, 3),
        torch.tensor([[1.0, 0.0, 0.0]]).expand(n, 3),
        bins,
        torch.zeros(n, 1),
        torch.ones(n, 1),
        Spacing("linear"),
    )


def test_linear_time_distortion_equals_the_quadratic_formula():
    torch.manual_seed(0)
    t = torch.sort(torch.rand(16, 33, dtype=torch.float64), dim=-1).values
    w = torch.rand(16, 32, dtype=torch.float64) / 16
    assert torch.allclose(lossfun_distortion(t, w), quadratic_distortion(t, w), rtol=1e-10)


def test_distortion_prefers_concentrated_weights():
    bins = torch.linspace(0.0, 1.0, 11).expand(2, -1)
    spread = torch.full((10,), 0.1)
    peaked = torch.zeros(10)
    peaked[4] = 1.0
    weights = torch.stack([spread, peaked])[..., None]
    per_ray = lossfun_distortion(bins, weights[..., 0])
    assert per_ray[1] < per_ray[0]
    loss = distortion_loss([weights], [samples_from_bins(bins)])
    assert torch.isclose(loss, per_ray.mean())


def test_outer_weights_sum_overlapping_intervals():
    coarse_bins = torch.tensor([[0.0, 0.5, 1.0]])
    coarse_w = torch.tensor([[0.3, 0.7]])
    fine_bins = torch.tensor([[0.0, 0.2, 0.45, 0.7, 1.0]])
    outer = outer_weights(fine_bins, coarse_bins, coarse_w)
    # [0.45, 0.7] overlaps both coarse intervals.
    assert torch.allclose(outer, torch.tensor([[0.3, 0.3, 1.0, 0.7]]))


def test_interlevel_loss_is_zero_for_a_bounding_proposal_and_trains_it():
    fine_bins = torch.linspace(0.0, 1.0, 9)[None]
    fine_w = torch.zeros(1, 8, 1)
    fine_w[0, 5] = 0.9
    coarse_bins = torch.linspace(0.0, 1.0, 5)[None]
    good = torch.tensor([[[0.0], [0.0], [0.95], [0.0]]])
    lists = ([good, fine_w], [samples_from_bins(coarse_bins), samples_from_bins(fine_bins)])
    assert interlevel_loss(*lists).item() == 0.0
    bad = torch.tensor([[[0.9], [0.0], [0.0], [0.0]]], requires_grad=True)
    fine_w.requires_grad_(True)
    loss = interlevel_loss([bad, fine_w], lists[1])
    assert loss.item() > 0.1
    loss.backward()
    assert fine_w.grad is None or fine_w.grad.abs().sum() == 0  # the target is detached
    assert bad.grad is not None
