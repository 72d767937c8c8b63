"""LERF's language field: CLIP (scale-conditioned) and DINO embeddings of 3D points.

Language gradients never move geometry: the caller passes sample positions and rendering weights
detached from the radiance field (the hash grid never differentiates positions anyway). Only
the CLIP head depends on the scale, so a scale sweep encodes the points once
(:meth:`LanguageField.encode`) and reruns the head (:meth:`LanguageField.clip_from_features`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import torch
from torch import nn

from lerf_ros.fields.contraction import ContractionConfig, make_contraction
from lerf_ros.fields.hash_grid import HashGridConfig, HashGridEncoding
from lerf_ros.fields.mlp import MLP, MLPConfig


@dataclass
class LanguageFieldConfig:
    """LERF's language field (defaults: the ``lerf`` method)."""

    clip_dim: int = 512
    """CLIP embedding width; the field takes the encoder's width when it is given one."""
    dino_dim: int = 384
    """DINO feature width; 0 disables the DINO head."""
    grids: tuple[tuple[int, int, int], ...] = ((12, 16, 128), (12, 128, 512))
    """Hash grids as (num_levels, base_resolution, max_resolution); their features concatenate."""
    features_per_level: int = 8
    """Features per level of every grid."""
    log2_hashmap_size: int = 19
    """log2 of each grid's rows per level."""
    clip_hidden: int = 256
    """Width of the CLIP head."""
    clip_layers: int = 4
    """Hidden layers of the CLIP head ([encoding, scale] -> 4 x 256 -> clip_dim)."""
    dino_hidden: int = 256
    """Width of the DINO head."""
    dino_layers: int = 1
    """Hidden layers of the DINO head (encoding -> 1 x 256 -> dino_dim)."""
    contraction: ContractionConfig = field(default_factory=ContractionConfig)
    """How world points map into the grids' unit cube."""
    grid_backend: Literal["auto", "torch", "tcnn"] = "auto"
    """``auto``, ``torch`` or ``tcnn`` for the hash grids."""
    mlp_backend: Literal["auto", "torch", "tcnn"] = "auto"
    """``auto``, ``torch`` or ``tcnn`` for the heads."""

    @classmethod
    def lite(cls, **overrides) -> LanguageFieldConfig:
        """``lerf-lite``-like for CPUs: one grid of 16 levels 16 -> 512 with 2^17 rows per level."""
        return replace(cls(grids=((16, 16, 512),), log2_hashmap_size=17), **overrides)

    def grid_configs(self) -> list[HashGridConfig]:
        """One :class:`HashGridConfig` per entry of ``grids``."""
        return [
            HashGridConfig(
                num_levels=levels,
                features_per_level=self.features_per_level,
                log2_hashmap_size=self.log2_hashmap_size,
                base_resolution=base,
                max_resolution=top,
                backend=self.grid_backend,
            )
            for levels, base, top in self.grids
        ]


class LanguageField(nn.Module):
    """World points (+ metric scales) -> unit CLIP embeddings and DINO features."""

    def __init__(
        self, config: LanguageFieldConfig, aabb: torch.Tensor, clip_dim: int | None = None
    ):
        super().__init__()
        if clip_dim is not None:
            config = replace(config, clip_dim=clip_dim)
        self.config = config
        self.contraction = make_contraction(config.contraction, aabb)
        self.encodings = nn.ModuleList(HashGridEncoding(c) for c in config.grid_configs())
        self.feature_dim = sum(e.out_dim for e in self.encodings)
        self.clip_head = MLP(
            self.feature_dim + 1,
            config.clip_dim,
            MLPConfig(config.clip_hidden, config.clip_layers, backend=config.mlp_backend),
        )
        self.dino_head = None
        if config.dino_dim > 0:
            self.dino_head = MLP(
                self.feature_dim,
                config.dino_dim,
                MLPConfig(config.dino_hidden, config.dino_layers, backend=config.mlp_backend),
            )

    def encode(self, positions: torch.Tensor) -> torch.Tensor:
        """positions [..., 3] (world, metres) -> hash features [..., feature_dim]."""
        unit = self.contraction(positions.detach().reshape(-1, 3)).clamp(0.0, 1.0)
        features = torch.cat([encoding(unit) for encoding in self.encodings], dim=-1)
        return features.view(*positions.shape[:-1], self.feature_dim)

    def clip_from_features(self, features: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
        """features [..., F], scales [..., 1] (metres) -> unit CLIP embeddings [..., clip_dim]."""
        scales = scales.to(features.dtype).expand(*features.shape[:-1], 1)
        clip = self.clip_head(torch.cat([features, scales], dim=-1).view(-1, self.feature_dim + 1))
        clip = clip / clip.norm(dim=-1, keepdim=True).clamp(min=1e-8)
        return clip.view(*features.shape[:-1], -1)

    def dino_from_features(self, features: torch.Tensor) -> torch.Tensor | None:
        """features [..., F] -> DINO features [..., dino_dim], or None without a DINO head."""
        if self.dino_head is None:
            return None
        dino = self.dino_head(features.reshape(-1, self.feature_dim))
        return dino.view(*features.shape[:-1], -1)

    def forward(
        self, positions: torch.Tensor, scales: torch.Tensor
    ) -> dict[str, torch.Tensor | None]:
        """positions [..., 3], scales [..., 1] -> ``{"clip": [..., clip_dim], "dino": ...}``.

        ``dino`` is ``[..., dino_dim]``, or None when the config disables the DINO head.
        """
        features = self.encode(positions)
        return {
            "clip": self.clip_from_features(features, scales),
            "dino": self.dino_from_features(features),
        }
