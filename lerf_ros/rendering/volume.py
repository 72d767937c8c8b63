"""Volume rendering: alpha compositing of per-sample values along rays.

Shapes: ``R`` rays, ``S`` samples per ray; per-sample tensors are ``[R, S, C]``, rendered ones
``[R, C]``. Weights are differentiable wherever their inputs are: to keep a head from moving the
geometry (the language heads), pass ``weights.detach()``.
"""

from __future__ import annotations

from typing import Literal

import torch

from lerf_ros.rendering.ray_samples import RaySamples
from lerf_ros.rendering.weights import render_weights

__all__ = [
    "gather_samples",
    "render_accumulation",
    "render_depth",
    "render_embedding",
    "render_rgb",
    "render_weights",
    "top_k_samples",
]


def render_accumulation(weights: torch.Tensor) -> torch.Tensor:
    """[R, S, 1] -> [R, 1]: opacity of each ray."""
    return weights.sum(dim=-2)


def render_rgb(
    weights: torch.Tensor,
    rgb: torch.Tensor,
    background: torch.Tensor | float | None = None,
) -> torch.Tensor:
    """[R, S, 1], [R, S, 3] -> [R, 3]; the remaining transmittance shows ``background``.

    ``background``: a colour [3] or per-ray [R, 3], a grey level, or None (black).
    """
    color = (weights * rgb).sum(dim=-2)
    if background is None:
        return color
    background = torch.as_tensor(background, dtype=color.dtype, device=color.device)
    return color + background * (1.0 - render_accumulation(weights))


def render_depth(
    weights: torch.Tensor,
    ray_samples: RaySamples,
    method: Literal["expected", "median"] = "expected",
    eps: float = 1e-10,
) -> torch.Tensor:
    """[R, 1] distance along the ray (metres; equals depth only along the optical axis).

    ``expected``: weight-normalised mean of the sample midpoints, clipped to the sampled range.
    ``median``: midpoint of the first sample where the accumulated weight reaches 0.5.
    """
    midpoints = ray_samples.midpoints
    if method == "expected":
        depth = (weights * midpoints).sum(dim=-2) / (weights.sum(dim=-2) + eps)
        return torch.clip(depth, ray_samples.starts[:, 0], ray_samples.ends[:, -1])
    if method == "median":
        cumulative = torch.cumsum(weights[..., 0], dim=-1)
        half = torch.full_like(cumulative[:, :1], 0.5)
        index = torch.searchsorted(cumulative.contiguous(), half, side="left")
        index = index.clamp(0, midpoints.shape[1] - 1)
        return midpoints[..., 0].gather(-1, index)
    raise ValueError(f"unknown depth method {method!r}")


def render_embedding(
    weights: torch.Tensor, embeddings: torch.Tensor, normalise: bool, eps: float = 1e-8
) -> torch.Tensor:
    """Weighted sum [R, S, 1] x [R, S, D] -> [R, D].

    ``normalise=True`` renormalises to unit length (CLIP: only the direction matters);
    ``False`` keeps the plain weighted sum (DINO, as LERF).
    """
    out = (weights * embeddings).sum(dim=-2)
    if normalise:
        out = out / out.norm(dim=-1, keepdim=True).clamp(min=eps)
    return out


def top_k_samples(
    weights: torch.Tensor, k: int, renormalise: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """The k highest-weight samples per ray -> (indices [R, k], their weights [R, k, 1]).

    LERF evaluates its language field only there (24 per ray), so the expensive head costs k
    evaluations per ray. As in LERF the weights are returned unchanged by default: their sum is
    a bit below the ray's accumulation, which does not matter for renormalised CLIP and slightly
    shrinks DINO. ``renormalise=True`` rescales them to the ray's full accumulation instead.
    Fewer than k samples: all are returned.
    """
    k = min(k, weights.shape[1])
    indices = torch.topk(weights[..., 0], k, dim=-1, sorted=False).indices
    top = weights.gather(1, indices[..., None])
    if renormalise:
        total, kept = weights.sum(dim=-2, keepdim=True), top.sum(dim=-2, keepdim=True)
        top = top * (total / kept.clamp(min=1e-10))
    return indices, top


def gather_samples(values: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """values [R, S, D] at per-ray sample indices [R, k] -> [R, k, D]."""
    return values.gather(1, indices[..., None].expand(-1, -1, values.shape[-1]))
