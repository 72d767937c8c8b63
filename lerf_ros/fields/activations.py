"""Activations of the fields' density heads."""

from __future__ import annotations

import torch

TRUNC_EXP_MAX = 15.0
"""The backward of ``trunc_exp`` uses ``exp(min(x, 15))`` (instant-ngp's value)."""

DENSITY_EXP_MAX = 60.0
"""The forward of ``trunc_exp`` uses ``exp(min(x, 60))``: a density of 1e26 per metre is opaque
over any sample interval, and fp32 ``exp`` overflows to inf from x = 88.7. An inf density
makes the optical depth ``inf * 0`` = NaN at a zero-length interval; training on a scene of
large flat surfaces pushes some pre-activations that far."""


class _TruncExp(torch.autograd.Function):
    """``exp`` whose gradient is clamped, so one large pre-activation cannot explode an update."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return torch.exp(x.clamp(max=DENSITY_EXP_MAX))

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad_out * torch.exp(x.clamp(max=TRUNC_EXP_MAX))


def trunc_exp(x: torch.Tensor) -> torch.Tensor:
    """``exp(min(x, 60))`` with the gradient of ``exp(min(x, 15))``, in fp32: under fp16 autocast
    ``exp`` overflows from x = 11.1."""
    return _TruncExp.apply(x.float())
