"""Volume-rendering weights of per-sample densities: the one computation that both the sample
intervals (``RaySamples.weights``) and the compositing functions of ``volume.py`` need, kept in
its own module so that neither has to import the other."""

from __future__ import annotations

import torch


def render_weights(
    densities: torch.Tensor, deltas: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """densities, deltas [R, S, 1] -> (weights, transmittance) [R, S, 1].

    ``T_i = exp(-sum_{j<i} sigma_j delta_j)``, ``alpha_i = 1 - exp(-sigma_i delta_i)``,
    ``w_i = T_i alpha_i``. Sums of optical depth (not products of (1 - alpha)) keep it stable;
    ``expm1`` keeps small alphas accurate.

    Everything stays finite, values and gradients, for any finite density (even one whose
    optical depth overflows to inf): the exclusive sum is a shifted cumulative sum, never
    ``cumsum - own``, which is ``inf - inf`` = NaN behind an opaque sample.
    """
    optical_depth = densities * deltas
    alphas = -torch.expm1(-optical_depth)
    # Exclusive cumulative sum: the light reaching sample i has crossed samples 0..i-1.
    before = torch.cumsum(optical_depth[..., :-1, :], dim=-2)
    accumulated = torch.cat([torch.zeros_like(optical_depth[..., :1, :]), before], dim=-2)
    transmittance = torch.exp(-accumulated)
    return alphas * transmittance, transmittance
