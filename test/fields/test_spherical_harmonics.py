"""Direction encoding and the density activation."""

from __future__ import annotations

import math

import pytest
import torch

from lerf_ros.fields.activations import trunc_exp
from lerf_ros.fields.encodings import SHEncoding, spherical_harmonics


def fibonacci_sphere(n: int) -> torch.Tensor:
    i = torch.arange(n, dtype=torch.float64) + 0.5
    z = 1.0 - 2.0 * i / n
    phi = math.pi * (1.0 + 5**0.5) * i
    r = (1.0 - z * z).sqrt()
    return torch.stack([r * torch.cos(phi), r * torch.sin(phi), z], dim=-1)


@pytest.mark.parametrize("degree", [1, 2, 3, 4])
def test_spherical_harmonics_are_orthonormal(degree):
    directions = fibonacci_sphere(20000)
    basis = spherical_harmonics(directions, degree)
    assert basis.shape == (20000, degree * degree)
    gram = 4 * math.pi * basis.T @ basis / directions.shape[0]
    assert torch.allclose(gram, torch.eye(degree * degree, dtype=torch.float64), atol=2e-3)


def test_sh_encoding_module_and_degree_check():
    encoding = SHEncoding(4)
    assert encoding.out_dim == 16
    assert encoding(torch.tensor([[0.0, 0.0, 1.0]])).shape == (1, 16)
    with pytest.raises(ValueError):
        spherical_harmonics(torch.zeros(1, 3), 5)


def test_trunc_exp_forward_is_exp_and_gradient_is_clamped():
    x = torch.tensor([-2.0, 0.0, 3.0, 40.0], requires_grad=True)
    y = trunc_exp(x)
    assert torch.allclose(y[:3], torch.exp(x[:3]))
    y.sum().backward()
    expected = torch.exp(torch.tensor([-2.0, 0.0, 3.0, 15.0]))
    assert torch.allclose(x.grad, expected)


def test_trunc_exp_of_fp16_input_is_fp32_and_finite():
    """Under fp16 autocast the density head's output is fp16; exp of 12 overflows fp16 (max
    65504), and the inf density turned lego training on a GPU into NaN at step 1129."""
    y = trunc_exp(torch.tensor([12.0, 20.0], dtype=torch.float16))
    assert y.dtype == torch.float32 and torch.isfinite(y).all()
    assert torch.allclose(y, torch.exp(torch.tensor([12.0, 20.0])))
