"""Sampling regularisers of nerfacto: proposal (interlevel) loss and distortion loss.

Both work on the spacing coordinates of the samples (``RaySamples.spacing_bins``), as nerfstudio.
``weights_list`` / ``ray_samples_list`` are the proposal rounds followed by the radiance field's.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from lerf_ros.rendering.ray_samples import RaySamples

EPS = 1e-7
"""Guards the division by the weights in the interlevel loss."""


def outer_weights(t0: torch.Tensor, t1: torch.Tensor, w1: torch.Tensor) -> torch.Tensor:
    """For each interval of histogram ``t0`` [R, A + 1], the weight of histogram (t1 [R, B + 1],
    w1 [R, B]) over the intervals of ``t1`` that overlap it (mip-NeRF 360's ``outer``) -> [R, A]."""
    cumulative = torch.cat([torch.zeros_like(w1[..., :1]), torch.cumsum(w1, dim=-1)], dim=-1)
    starts0, ends0 = t0[..., :-1].contiguous(), t0[..., 1:].contiguous()
    starts1, ends1 = t1[..., :-1].contiguous(), t1[..., 1:].contiguous()
    last = w1.shape[-1] - 1
    lo = (torch.searchsorted(starts1, starts0, side="right") - 1).clamp(0, last)
    hi = torch.searchsorted(ends1, ends0, side="right").clamp(0, last)
    return cumulative[..., 1:].gather(-1, hi) - cumulative[..., :-1].gather(-1, lo)


def lossfun_outer(
    t: torch.Tensor, w: torch.Tensor, t_env: torch.Tensor, w_env: torch.Tensor
) -> torch.Tensor:
    """Penalty where the target histogram (t, w) exceeds the proposal envelope (t_env, w_env)."""
    return torch.clip(w - outer_weights(t, t_env, w_env), min=0) ** 2 / (w + EPS)


def interlevel_loss(
    weights_list: Sequence[torch.Tensor], ray_samples_list: Sequence[RaySamples]
) -> torch.Tensor:
    """Proposal loss: every proposal histogram must bound the (detached) final one from above."""
    target_bins = ray_samples_list[-1].spacing_bins.detach()
    target_weights = weights_list[-1][..., 0].detach()
    loss = target_weights.new_zeros(())
    for samples, weights in zip(ray_samples_list[:-1], weights_list[:-1], strict=True):
        loss = (
            loss
            + lossfun_outer(
                target_bins, target_weights, samples.spacing_bins, weights[..., 0]
            ).mean()
        )
    return loss


def lossfun_distortion(t: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """mip-NeRF 360 distortion of histogram (t [R, S + 1] sorted, w [R, S]) -> [R].

    ``sum_ij w_i w_j |u_i - u_j| + sum_i w_i^2 (t_i+1 - t_i) / 3`` with midpoints u. The
    pairwise term is computed in O(S) with prefix sums (u is sorted) instead of O(S^2).
    """
    u = (t[..., 1:] + t[..., :-1]) / 2.0
    w_before = torch.cumsum(w, dim=-1) - w
    wu_before = torch.cumsum(w * u, dim=-1) - w * u
    loss_inter = 2.0 * (w * (u * w_before - wu_before)).sum(dim=-1)
    loss_intra = (w**2 * (t[..., 1:] - t[..., :-1])).sum(dim=-1) / 3.0
    return loss_inter + loss_intra


def distortion_loss(
    weights_list: Sequence[torch.Tensor], ray_samples_list: Sequence[RaySamples]
) -> torch.Tensor:
    """Distortion loss of the radiance field's samples (the last entries), mean over rays."""
    bins = ray_samples_list[-1].spacing_bins
    return lossfun_distortion(bins, weights_list[-1][..., 0]).mean()
