"""Depth-guided sampling: rays with a measured depth start their first proposal round with part
of their samples in a band around the measurement.

A proposal round spreads its samples over the whole ray and learns only slowly where the
surface is; a depth reading says it at once. Only part of the samples move into the band: the
rest still cover the ray, so the free space in front of the surface keeps being sampled (and
carved) and a wrong reading cannot hide the true surface. Rays without a reading (0) sample as
before.
"""

from __future__ import annotations

import torch

from lerf_ros.rendering.ray_samples import RaySamples
from lerf_ros.samplers.spacing import Spacing


def _to_spacing(t: torch.Tensor, near: torch.Tensor, far: torch.Tensor, spacing: Spacing):
    """Metres along the ray -> spacing coordinates in [0, 1]."""
    g_near, g_far = spacing.forward(near), spacing.forward(far)
    span = (g_far - g_near).clamp(min=1e-12)
    return ((spacing.forward(t) - g_near) / span).clamp(0.0, 1.0)


def guided_bins(
    samples: RaySamples,
    guides: torch.Tensor,
    band: float,
    fraction: float,
    spacing: Spacing,
    jitter: bool,
) -> RaySamples:
    """``samples`` with ``fraction`` of each guided ray's interval edges moved into
    ``[guide - band, guide + band]`` (``guides`` [R, 1] metres, 0 = no reading)."""
    bins = samples.spacing_bins  # [R, S + 1], sorted, 0 and 1 at the ends
    edges = bins.shape[1]
    moved = min(round(fraction * edges), edges - 2)
    guided = guides[:, 0] > 0
    if moved <= 0 or band <= 0 or not bool(guided.any()):
        return samples
    rows = torch.nonzero(guided, as_tuple=False).squeeze(-1)
    near, far = samples.nears[rows], samples.fars[rows]
    centre = guides[rows]
    low = _to_spacing(torch.maximum(centre - band, near), near, far, spacing)
    high = _to_spacing(torch.minimum(centre + band, far), near, far, spacing)
    steps = torch.linspace(0.0, 1.0, moved, device=bins.device, dtype=bins.dtype)
    if jitter:
        steps = (steps + torch.rand_like(low) / max(moved - 1, 1)).clamp(max=1.0)
    in_band = low + (high - low) * steps  # [G, moved]
    # The remaining edges stay evenly spread over the ray (every ray keeps 0 and 1).
    keep = torch.linspace(0, edges - 1, edges - moved, device=bins.device).round().long()
    spread = bins[rows][:, keep]
    merged, _ = torch.sort(torch.cat([spread, in_band], dim=-1), dim=-1)
    new_bins = bins.clone()
    new_bins[rows] = merged
    return RaySamples.from_spacing_bins(
        samples.origins, samples.directions, new_bins, samples.nears, samples.fars, spacing
    )
