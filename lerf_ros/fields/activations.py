"""Activations of the fields' density heads."""

from __future__ import annotations

import torch

TRUNC_EXP_MAX = 15.0
"""The backward of ``trunc_exp`` uses ``exp(min(x, 15))`` (instant-ngp's value)."""


class _TruncExp(torch.autograd.Function):
    """``exp`` whose gradient is clamped, so one large pre-activation cannot explode an update."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return torch.exp(x)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad_out * torch.exp(x.clamp(max=TRUNC_EXP_MAX))


def trunc_exp(x: torch.Tensor) -> torch.Tensor:
    """``exp(x)`` with the gradient of ``exp(min(x, 15))``, in fp32: under fp16 autocast
    ``exp`` overflows from x = 11.1 and the inf density turns every weight of its ray into
    NaN (lego training on a GPU hit a NaN loss at step 1129)."""
    return _TruncExp.apply(x.float())
