"""Direction encoding of the colour head: real spherical harmonics in PyTorch."""

from __future__ import annotations

import torch
from torch import nn

MAX_SH_DEGREE = 4
"""Highest supported degree (degree d has d^2 components)."""


def spherical_harmonics(directions: torch.Tensor, degree: int) -> torch.Tensor:
    """Real SH basis of unit ``directions`` [..., 3] -> [..., degree^2].

    Same constants and signs as tiny-cuda-nn's ``SphericalHarmonics`` encoding (which takes the
    directions remapped to [0, 1]; this takes them unit length). Orthonormal on the sphere.
    """
    if not 1 <= degree <= MAX_SH_DEGREE:
        raise ValueError(f"SH degree must be in [1, {MAX_SH_DEGREE}], got {degree}")
    x, y, z = directions.unbind(-1)
    out = [torch.full_like(x, 0.28209479177387814)]
    if degree > 1:
        out += [-0.48860251190291987 * y, 0.48860251190291987 * z, -0.48860251190291987 * x]
    if degree > 2:
        xx, yy, zz = x * x, y * y, z * z
        out += [
            1.0925484305920792 * x * y,
            -1.0925484305920792 * y * z,
            0.94617469575755997 * zz - 0.31539156525251999,
            -1.0925484305920792 * x * z,
            0.54627421529603959 * (xx - yy),
        ]
    if degree > 3:
        out += [
            0.59004358992664352 * y * (yy - 3.0 * xx),
            2.8906114426405538 * x * y * z,
            0.45704579946446572 * y * (1.0 - 5.0 * zz),
            0.3731763325901154 * z * (5.0 * zz - 3.0),
            0.45704579946446572 * x * (1.0 - 5.0 * zz),
            1.4453057213202769 * z * (xx - yy),
            0.59004358992664352 * x * (3.0 * yy - xx),
        ]
    return torch.stack(out, dim=-1)


class SHEncoding(nn.Module):
    """Module wrapper of :func:`spherical_harmonics` with an ``out_dim``."""

    def __init__(self, degree: int = MAX_SH_DEGREE):
        super().__init__()
        self.degree = degree
        self.out_dim = degree * degree

    def forward(self, directions: torch.Tensor) -> torch.Tensor:
        return spherical_harmonics(directions, self.degree)
