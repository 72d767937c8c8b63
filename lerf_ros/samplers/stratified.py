"""Uniform (stratified) and importance (PDF) sampling of intervals along rays."""

from __future__ import annotations

import torch
from torch import nn

from lerf_ros.rendering.ray_samples import RaySamples
from lerf_ros.samplers.spacing import Spacing


def _stratified_bins(
    num_rays: int, num_bins: int, jitter: bool, single_jitter: bool, like: torch.Tensor
) -> torch.Tensor:
    """[R, num_bins + 1] edges in [0, 1]; jittered edges stay inside their stratum."""
    bins = torch.linspace(0.0, 1.0, num_bins + 1, device=like.device, dtype=like.dtype)
    bins = bins.expand(num_rays, -1)
    if not jitter:
        return bins
    shape = (num_rays, 1) if single_jitter else (num_rays, num_bins + 1)
    u = torch.rand(shape, device=like.device, dtype=like.dtype)
    centers = (bins[:, 1:] + bins[:, :-1]) / 2.0
    upper = torch.cat([centers, bins[:, -1:]], dim=-1)
    lower = torch.cat([bins[:, :1], centers], dim=-1)
    return lower + (upper - lower) * u


class UniformSampler(nn.Module):
    """Samples uniform in a spacing function between near and far, jittered while training."""

    def __init__(self, spacing: Spacing, single_jitter: bool = True):
        super().__init__()
        self.spacing = spacing
        self.single_jitter = single_jitter

    def forward(
        self,
        origins: torch.Tensor,
        directions: torch.Tensor,
        nears: torch.Tensor,
        fars: torch.Tensor,
        num_samples: int,
    ) -> RaySamples:
        bins = _stratified_bins(
            origins.shape[0], num_samples, self.training, self.single_jitter, origins
        )
        return RaySamples.from_spacing_bins(origins, directions, bins, nears, fars, self.spacing)


class PDFSampler(nn.Module):
    """Importance sampling: new intervals distributed like the weights of existing ones.

    ``histogram_padding`` is added to every weight first, so empty-looking space keeps a few
    samples (nerfstudio's default 0.01).
    """

    def __init__(
        self,
        histogram_padding: float = 0.01,
        single_jitter: bool = True,
        include_original: bool = False,
    ):
        super().__init__()
        self.histogram_padding = histogram_padding
        self.single_jitter = single_jitter
        self.include_original = include_original

    def forward(
        self, ray_samples: RaySamples, weights: torch.Tensor, num_samples: int, eps: float = 1e-5
    ) -> RaySamples:
        weights = weights[..., 0].detach() + self.histogram_padding
        weights_sum = weights.sum(dim=-1, keepdim=True)
        # Rays whose weights are all ~0 fall back to uniform rather than NaN.
        padding = torch.relu(eps - weights_sum)
        weights = weights + padding / weights.shape[-1]
        cdf = torch.cumsum(weights / (weights_sum + padding), dim=-1).clamp(max=1.0)
        cdf = torch.cat([torch.zeros_like(cdf[:, :1]), cdf], dim=-1)

        num_bins = num_samples + 1
        u = torch.linspace(0.0, 1.0 - 1.0 / num_bins, num_bins, device=cdf.device, dtype=cdf.dtype)
        u = u.expand(cdf.shape[0], -1)
        if self.training:
            shape = (cdf.shape[0], 1) if self.single_jitter else (cdf.shape[0], num_bins)
            u = u + torch.rand(shape, device=cdf.device, dtype=cdf.dtype) / num_bins
        else:
            u = u + 1.0 / (2 * num_bins)
        u = u.contiguous()

        existing = ray_samples.spacing_bins
        last = existing.shape[-1] - 1
        index = torch.searchsorted(cdf.contiguous(), u, side="right")
        below = (index - 1).clamp(0, last)
        above = index.clamp(0, last)
        cdf_below, cdf_above = cdf.gather(-1, below), cdf.gather(-1, above)
        bins_below, bins_above = existing.gather(-1, below), existing.gather(-1, above)
        t = torch.nan_to_num((u - cdf_below) / (cdf_above - cdf_below), 0.0).clamp(0.0, 1.0)
        bins = bins_below + t * (bins_above - bins_below)
        if self.include_original:
            bins = torch.sort(torch.cat([existing, bins], dim=-1), dim=-1).values
        return RaySamples.from_spacing_bins(
            ray_samples.origins,
            ray_samples.directions,
            bins,
            ray_samples.nears,
            ray_samples.fars,
            ray_samples.spacing,
        )
