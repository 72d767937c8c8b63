"""Small ReLU MLPs, fused by tiny-cuda-nn on CUDA when available, plain PyTorch otherwise."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

TCNN_FUSED_WIDTHS = (16, 32, 64, 128)
"""Widths tcnn's FullyFusedMLP supports; other widths use its CutlassMLP."""


@dataclass
class MLPConfig:
    """A ReLU multi-layer perceptron."""

    hidden_dim: int = 64
    """Width of every hidden layer."""
    num_hidden_layers: int = 1
    """Hidden layers (tcnn's ``n_hidden_layers``): the MLP has this many + 1 linear layers."""
    bias: bool = False
    """Linear layers with bias. tcnn's networks have none, so ``True`` forces the torch backend."""
    backend: Literal["auto", "torch", "tcnn"] = "auto"
    """``auto`` uses tcnn when it imports, CUDA is available and ``bias`` is off."""


class MLP(nn.Module):
    """``in_dim -> [hidden_dim] * num_hidden_layers -> out_dim`` with ReLU, no output activation."""

    def __init__(self, in_dim: int, out_dim: int, config: MLPConfig | None = None):
        super().__init__()
        config = config or MLPConfig()
        self.config = config
        self.in_dim, self.out_dim = in_dim, out_dim
        self._tcnn = None
        if config.backend in ("auto", "tcnn") and not config.bias:
            self._tcnn = _make_tcnn_network(in_dim, out_dim, config)
        if config.backend == "tcnn" and self._tcnn is None:
            raise RuntimeError("backend='tcnn' needs tinycudann, CUDA and bias=False")
        if self._tcnn is None:
            dims = [in_dim] + [config.hidden_dim] * config.num_hidden_layers + [out_dim]
            layers: list[nn.Module] = []
            for i, (a, b) in enumerate(itertools.pairwise(dims)):
                layers.append(nn.Linear(a, b, bias=config.bias))
                if i < len(dims) - 2:
                    layers.append(nn.ReLU(inplace=True))
            self.layers = nn.Sequential(*layers)

    @property
    def backend(self) -> str:
        """The backend in use: ``tcnn`` or ``torch``."""
        return "tcnn" if self._tcnn is not None else "torch"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._tcnn is not None:
            # tcnn computes in half precision; callers work in float32.
            return self._tcnn(x).to(torch.float32)
        return self.layers(x)


def _make_tcnn_network(in_dim: int, out_dim: int, config: MLPConfig) -> nn.Module | None:
    """A tcnn network when tinycudann imports and CUDA is available, else None."""
    if not torch.cuda.is_available():
        return None
    try:
        import tinycudann as tcnn
    except ImportError:
        return None
    fused = config.hidden_dim in TCNN_FUSED_WIDTHS
    return tcnn.Network(
        n_input_dims=in_dim,
        n_output_dims=out_dim,
        network_config={
            "otype": "FullyFusedMLP" if fused else "CutlassMLP",
            "activation": "ReLU",
            "output_activation": "None",
            "n_neurons": config.hidden_dim,
            "n_hidden_layers": config.num_hidden_layers,
        },
    )
