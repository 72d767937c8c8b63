"""LERF relevancy of language embeddings against a query.

For an embedding φ, query q and each negative c (the canonical phrases, plus any the caller
adds), LERF computes p_c = softmax(τ·[φ·q, φ·c])[0] = exp(τφ·q) / (exp(τφ·q) + exp(τφ·c)) and
keeps the minimum over c: the query must beat *every* negative. τ = 10 as in LERF. A value of
0.5 means "as relevant as a generic phrase".
"""

from __future__ import annotations

import torch

CANONICAL_NEGATIVES: tuple[str, ...] = ("object", "things", "stuff", "texture")
"""LERF's canonical phrases."""

TEMPERATURE = 10.0
"""LERF scales dot products by 10 inside the pairwise softmax."""


def relevancy(
    embeddings: torch.Tensor,
    query: torch.Tensor,
    negatives: torch.Tensor,
    temperature: float = TEMPERATURE,
) -> torch.Tensor:
    """Relevancy of ``embeddings [..., D]`` against ``query [D]`` and ``negatives [K, D]``.

    All vectors are expected L2-normalised. Returns ``[...]`` in (0, 1).
    """
    if negatives.ndim != 2 or negatives.shape[0] == 0:
        raise ValueError("relevancy needs at least one negative embedding [K, D]")
    positive = embeddings @ query  # [...]
    negative = embeddings @ negatives.T  # [..., K]
    # exp(a)/(exp(a)+exp(b)) = sigmoid(a - b): stable for any magnitude.
    pairwise = torch.sigmoid(temperature * (positive.unsqueeze(-1) - negative))
    return pairwise.min(dim=-1).values


def best_scale(relevancy_per_scale: torch.Tensor, top_fraction: float = 0.01) -> int:
    """Index of the scale whose most relevant points are most relevant.

    ``relevancy_per_scale`` is ``[S, N]``. LERF keeps, per query, the scale with the highest
    maximum relevancy; a single point's maximum is noisy, so this scores each scale by the
    mean of its top ``top_fraction`` of points (at least one point).
    """
    if relevancy_per_scale.ndim != 2 or relevancy_per_scale.shape[1] == 0:
        raise ValueError("best_scale needs a non-empty [S, N] tensor")
    count = max(1, round(relevancy_per_scale.shape[1] * top_fraction))
    top = relevancy_per_scale.topk(count, dim=1).values.mean(dim=1)
    return int(top.argmax())
