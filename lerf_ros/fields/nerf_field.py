"""nerfacto-style radiance field and the small density fields of its proposal sampler.

Positions are world points in metres ``[..., 3]``; each field maps them into the unit cube with its
own contraction of the scene box. Points a bounded field cannot represent get zero density.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from lerf_ros.fields.activations import trunc_exp
from lerf_ros.fields.contraction import ContractionConfig, make_contraction
from lerf_ros.fields.encodings import SHEncoding
from lerf_ros.fields.hash_grid import HashGridConfig, HashGridEncoding
from lerf_ros.fields.mlp import MLP, MLPConfig


@dataclass
class NerfFieldConfig:
    """The radiance field (nerfacto defaults)."""

    grid: HashGridConfig = field(default_factory=HashGridConfig)
    """Position encoding: 16 levels x 2 features, 2^19 rows, resolution 16 -> 2048."""
    contraction: ContractionConfig = field(default_factory=ContractionConfig)
    """How world points map into the grid's unit cube."""
    geo_feat_dim: int = 15
    """Geometry features passed from the density MLP to the colour MLP."""
    hidden_dim: int = 64
    """Width of the density MLP."""
    num_hidden_layers: int = 1
    """Hidden layers of the density MLP."""
    hidden_dim_color: int = 64
    """Width of the colour MLP."""
    num_hidden_layers_color: int = 2
    """Hidden layers of the colour MLP."""
    sh_degree: int = 4
    """Spherical-harmonics degree of the view-direction encoding (degree^2 components)."""
    appearance_embedding_dim: int = 0
    """Per-image appearance code fed to the colour MLP (exposure / white balance); 0 disables."""
    max_num_images: int = 4096
    """Rows of the appearance embedding table (images indexed 0..max-1)."""
    average_init_density: float = 1.0
    """Density scale: ``density = average_init_density * trunc_exp(raw)``."""
    mlp_backend: Literal["auto", "torch", "tcnn"] = "auto"
    """``auto``, ``torch`` or ``tcnn`` for both MLPs (see :class:`MLPConfig`)."""


class NerfField(nn.Module):
    """Density from a hash grid + MLP; colour from geometry features and view direction."""

    def __init__(self, config: NerfFieldConfig, aabb: torch.Tensor):
        super().__init__()
        self.config = config
        self.contraction = make_contraction(config.contraction, aabb)
        self.encoding = HashGridEncoding(config.grid)
        self.mlp_base = MLP(
            self.encoding.out_dim,
            1 + config.geo_feat_dim,
            MLPConfig(config.hidden_dim, config.num_hidden_layers, backend=config.mlp_backend),
        )
        self.direction_encoding = SHEncoding(config.sh_degree)
        self.appearance = None
        color_in = self.direction_encoding.out_dim + config.geo_feat_dim
        if config.appearance_embedding_dim > 0:
            self.appearance = nn.Embedding(config.max_num_images, config.appearance_embedding_dim)
            nn.init.normal_(self.appearance.weight, std=0.01)
            color_in += config.appearance_embedding_dim
        self.mlp_color = MLP(
            color_in,
            3,
            MLPConfig(
                config.hidden_dim_color, config.num_hidden_layers_color, backend=config.mlp_backend
            ),
        )

    def density(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """positions [..., 3] -> (density [..., 1], geometry features [..., geo_feat_dim])."""
        flat = positions.reshape(-1, 3)
        unit, inside = _to_unit_cube(self.contraction, flat)
        raw = self.mlp_base(self.encoding(unit))
        raw_density, geo_features = raw.split([1, self.config.geo_feat_dim], dim=-1)
        density = self.config.average_init_density * trunc_exp(raw_density) * inside[:, None]
        lead = positions.shape[:-1]
        return density.view(*lead, 1), geo_features.reshape(*lead, -1)

    def forward(
        self,
        positions: torch.Tensor,
        directions: torch.Tensor,
        camera_indices: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """positions [..., 3], unit directions broadcastable to them (e.g. [R, 1, 3] for [R, S, 3])
        and optional image indices ([R] or [R, S]) -> density [..., 1], rgb [..., 3] in [0, 1]."""
        density, geo_features = self.density(positions)
        directions = directions.expand_as(positions).reshape(-1, 3)
        color_in = [
            self.direction_encoding(directions),
            geo_features.reshape(directions.shape[0], -1),
        ]
        if self.appearance is not None:
            color_in.append(self._appearance_codes(camera_indices, positions.shape[:-1]))
        rgb = torch.sigmoid(self.mlp_color(torch.cat(color_in, dim=-1)))
        return density, rgb.view(*positions.shape[:-1], 3)

    def _appearance_codes(self, camera_indices: torch.Tensor | None, lead: torch.Size):
        """Per-sample appearance codes; without indices, the mean code (novel views)."""
        assert self.appearance is not None
        if camera_indices is None:
            code = self.appearance.weight.mean(dim=0)
            return code.expand(lead.numel(), -1)
        # Per-ray indices [R] apply to every sample of the ray ([R, S] positions).
        while camera_indices.dim() < len(lead):
            camera_indices = camera_indices[..., None]
        return self.appearance(camera_indices.expand(lead).reshape(-1))


@dataclass
class DensityFieldConfig:
    """A proposal density field (nerfacto's ``HashMLPDensityField``)."""

    grid: HashGridConfig = field(
        default_factory=lambda: HashGridConfig(
            num_levels=5, log2_hashmap_size=17, base_resolution=16, max_resolution=128
        )
    )
    """Small hash grid: 5 levels x 2 features, 2^17 rows, 16 -> 128 (256 for the second)."""
    contraction: ContractionConfig = field(default_factory=ContractionConfig)
    """How world points map into the grid's unit cube."""
    hidden_dim: int = 16
    """Width of the MLP."""
    num_hidden_layers: int = 1
    """Hidden layers of the MLP."""
    average_init_density: float = 1.0
    """Density scale: ``density = average_init_density * trunc_exp(raw)``."""
    mlp_backend: Literal["auto", "torch", "tcnn"] = "auto"
    """``auto``, ``torch`` or ``tcnn``."""


class DensityField(nn.Module):
    """Density only; guides where the proposal sampler puts the next round of samples."""

    def __init__(self, config: DensityFieldConfig, aabb: torch.Tensor):
        super().__init__()
        self.config = config
        self.contraction = make_contraction(config.contraction, aabb)
        self.encoding = HashGridEncoding(config.grid)
        self.mlp = MLP(
            self.encoding.out_dim,
            1,
            MLPConfig(config.hidden_dim, config.num_hidden_layers, backend=config.mlp_backend),
        )

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        """positions [..., 3] -> density [..., 1]."""
        flat = positions.reshape(-1, 3)
        unit, inside = _to_unit_cube(self.contraction, flat)
        raw = self.mlp(self.encoding(unit))
        density = self.config.average_init_density * trunc_exp(raw) * inside[:, None]
        return density.view(*positions.shape[:-1], 1)


def proposal_field_configs(
    contraction: ContractionConfig | None = None,
    max_resolutions: tuple[int, ...] = (128, 256),
) -> list[DensityFieldConfig]:
    """nerfacto's two proposal fields (5 levels, 2^17 rows, up to 128 and 256)."""
    contraction = contraction or ContractionConfig()
    return [
        DensityFieldConfig(
            grid=HashGridConfig(
                num_levels=5, log2_hashmap_size=17, base_resolution=16, max_resolution=res
            ),
            contraction=contraction,
        )
        for res in max_resolutions
    ]


def _to_unit_cube(contraction: nn.Module, positions: torch.Tensor):
    """Unit-cube coordinates and a float mask of the points the grid represents."""
    unit = contraction(positions)
    inside = ((unit >= 0.0) & (unit <= 1.0)).all(dim=-1) & torch.isfinite(unit).all(dim=-1)
    # Outside points are moved to a valid place (their density is masked to 0 anyway).
    unit = torch.where(inside[:, None], unit, torch.zeros_like(unit))
    return unit, inside.to(positions.dtype)
