"""Spacing functions: how samples are spread between a ray's near and far distance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch


@dataclass(frozen=True)
class Spacing:
    """A monotone map ``g`` of distances; samples are uniform in ``g`` between near and far."""

    kind: Literal["linear", "lindisp_piecewise"] = "linear"
    """``linear``: uniform in metres. ``lindisp_piecewise``: uniform up to ``knee`` metres, then
    uniform in disparity (nerfstudio's ``UniformLinDispPiecewiseSampler``), for unbounded scenes."""
    knee: float = 1.0
    """Distance (m) where ``lindisp_piecewise`` switches from linear to disparity."""

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """g(t)."""
        if self.kind == "linear":
            return t
        x = t / self.knee
        return torch.where(x < 1.0, x / 2.0, 1.0 - 1.0 / (2.0 * x.clamp(min=1.0)))

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """g^-1(y)."""
        if self.kind == "linear":
            return y
        x = torch.where(y < 0.5, 2.0 * y, 1.0 / (2.0 - 2.0 * y.clamp(max=1.0 - 1e-7)))
        return x * self.knee

    def to_euclidean(self, s: torch.Tensor, near: torch.Tensor, far: torch.Tensor) -> torch.Tensor:
        """Spacing coordinates s in [0, 1] (``[R, K]``) -> metres along the ray."""
        if self.kind == "linear":
            return near + s * (far - near)
        g_near, g_far = self.forward(near), self.forward(far)
        return self.inverse(g_near + s * (g_far - g_near))
