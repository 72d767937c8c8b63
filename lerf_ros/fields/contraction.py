"""Maps world points (metres) into the unit cube a hash grid indexes.

``aabb`` everywhere is a ``[2, 3]`` tensor: row 0 the minimum corner, row 1 the maximum corner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn


@dataclass
class ContractionConfig:
    """How a field maps world points into [0, 1]^3."""

    kind: Literal["aabb", "contract"] = "contract"
    """``aabb``: bounded scene, linear map of the box (outside points leave [0, 1]).
    ``contract``: unbounded scene, the box maps linearly to [0.25, 0.75]^3 and all of space
    beyond it is squashed into the rest of the cube (mip-NeRF 360, inf-norm)."""


def as_aabb(aabb: torch.Tensor | tuple) -> torch.Tensor:
    """Checks and converts an axis-aligned box to a float32 ``[2, 3]`` tensor."""
    aabb = torch.as_tensor(aabb, dtype=torch.float32)
    if aabb.shape != (2, 3) or not bool((aabb[1] > aabb[0]).all()):
        raise ValueError(f"aabb must be [[min x, y, z], [max x, y, z]] with max > min, got {aabb}")
    return aabb


class AabbNormalize(nn.Module):
    """Bounded scenes: ``(x - min) / (max - min)``; points outside the box leave [0, 1]."""

    def __init__(self, aabb: torch.Tensor):
        super().__init__()
        self.register_buffer("aabb", as_aabb(aabb))

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        return (positions - self.aabb[0]) / (self.aabb[1] - self.aabb[0])

    def inside(self, positions: torch.Tensor) -> torch.Tensor:
        """[N] bool: which points the field can represent (inside the box)."""
        unit = self(positions)
        return ((unit >= 0.0) & (unit <= 1.0)).all(dim=-1)


class SceneContraction(nn.Module):
    """Unbounded scenes, nerfstudio's ``SceneContraction(order=inf)`` on box-normalised points.

    Points are first normalised so that the box is [-1, 1]^3. With ``m = max_i |x_i|``, points with
    ``m <= 1`` stay, others become ``(2 - 1/m) x / m``, which lies in [-2, 2]^3; finally
    ``(c + 2) / 4`` maps into [0, 1]^3. Inside the box resolution is uniform; outside it falls
    off like disparity, which suits far background seen from a robot inside the box.
    """

    def __init__(self, aabb: torch.Tensor):
        super().__init__()
        aabb = as_aabb(aabb)
        self.register_buffer("center", (aabb[0] + aabb[1]) / 2)
        self.register_buffer("half_size", (aabb[1] - aabb[0]) / 2)

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        x = (positions - self.center) / self.half_size
        magnitude = x.abs().amax(dim=-1, keepdim=True)
        # clamp keeps the unused branch finite at the origin (no NaN gradients through where).
        contracted = (2.0 - 1.0 / magnitude.clamp(min=1.0)) * (x / magnitude.clamp(min=1.0))
        contracted = torch.where(magnitude <= 1.0, x, contracted)
        return (contracted + 2.0) / 4.0

    def inside(self, positions: torch.Tensor) -> torch.Tensor:
        """[N] bool: every finite point is representable."""
        return torch.isfinite(positions).all(dim=-1)


def make_contraction(
    config: ContractionConfig, aabb: torch.Tensor
) -> AabbNormalize | SceneContraction:
    """The contraction a config asks for."""
    if config.kind == "aabb":
        return AabbNormalize(aabb)
    if config.kind == "contract":
        return SceneContraction(aabb)
    raise ValueError(f"unknown contraction {config.kind!r}")
