"""MLP builder."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lerf_ros.fields.mlp import MLP, MLPConfig


def test_torch_mlp_structure_and_shapes():
    mlp = MLP(10, 3, MLPConfig(hidden_dim=32, num_hidden_layers=2, backend="torch"))
    linears = [m for m in mlp.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(10, 32), (32, 32), (32, 3)]
    assert all(m.bias is None for m in linears)  # like tcnn
    assert mlp(torch.randn(7, 10)).shape == (7, 3)
    assert mlp.backend == "torch"


def test_bias_option_and_output_is_not_clamped():
    mlp = MLP(4, 2, MLPConfig(hidden_dim=8, num_hidden_layers=1, bias=True, backend="torch"))
    assert all(m.bias is not None for m in mlp.modules() if isinstance(m, nn.Linear))
    out = mlp(torch.randn(1000, 4) * 10)
    assert (out < 0).any() and (out > 0).any()  # no output activation


def test_auto_falls_back_to_torch_without_cuda():
    if torch.cuda.is_available():
        pytest.skip("CUDA present: auto may pick tcnn")
    assert MLP(4, 2).backend == "torch"
    with pytest.raises(RuntimeError):
        MLP(4, 2, MLPConfig(backend="tcnn"))


def test_tcnn_mlp_runs_on_cuda():
    pytest.importorskip("tinycudann")
    if not torch.cuda.is_available():
        pytest.skip("tinycudann needs CUDA")
    mlp = MLP(16, 4, MLPConfig(hidden_dim=64, backend="tcnn"))
    out = mlp(torch.randn(256, 16, device="cuda"))
    assert out.dtype == torch.float32 and out.shape == (256, 4)
