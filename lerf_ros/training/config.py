"""The composition root of the engine's settings: each part's dataclass lives beside its code
(fields, samplers, keyframes, pyramid, query) and :class:`LerfConfig` composes them.

Presets live here and only here: :meth:`LerfConfig.lerf` (kerrj/lerf's model sizes, for a GPU),
:meth:`LerfConfig.cpu` (small enough to train in about a minute on two CPU cores, used by tests
and the demo); :data:`PRESETS` names them for the node's ``preset`` parameter and the CLI.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal

from lerf_ros.configuration import ConfigError, check_choice, check_literals
from lerf_ros.data.keyframes import KeyframeConfig
from lerf_ros.features.pyramid import PyramidConfig
from lerf_ros.fields.contraction import ContractionConfig
from lerf_ros.fields.hash_grid import HashGridConfig
from lerf_ros.fields.language_field import LanguageFieldConfig
from lerf_ros.fields.nerf_field import DensityFieldConfig, NerfFieldConfig, proposal_field_configs
from lerf_ros.query.config import QueryConfig
from lerf_ros.samplers.proposal import ProposalSamplerConfig
from lerf_ros.training.readiness_config import ReadinessConfig


@dataclass
class SceneConfig:
    """Where the field lives in the fixed frame."""

    box_min: tuple[float, float, float] | None = None
    """Lower corner of the region of interest (metres); None derives it from the cameras."""
    box_max: tuple[float, float, float] | None = None
    """Upper corner of the region of interest (metres); None derives it from the cameras."""
    radius: float = 3.0
    """Half-size of the box around the first cameras when it is derived online."""
    contraction: Literal["contract", "aabb"] = "contract"
    """``contract``: space beyond the box is squashed in (unbounded rooms); ``aabb``: bounded."""


@dataclass
class TrainerConfig:
    """Optimisation."""

    rays_per_batch: int = 4096
    """Rays per step (LERF: 4096)."""
    frames_per_batch: int = 16
    """Keyframes a step draws its rays from (rays are split evenly between them)."""
    learning_rate: float = 1e-2
    """Adam learning rate of hash grids and MLPs (nerfacto/LERF: 1e-2)."""
    final_learning_rate: float = 1e-4
    """Learning rate reached after ``decay_steps`` (exponential decay)."""
    decay_steps: int = 30000
    """Steps over which the learning rate decays."""
    clip_loss_weight: float = 0.1
    """Weight of the Huber loss on rendered CLIP embeddings (LERF: 0.1)."""
    clip_huber_delta: float = 1.25
    """Huber delta of the CLIP loss (LERF: 1.25), summed over dimensions."""
    dino_loss_weight: float = 1.0
    """Weight of the DINO MSE loss (LERF: 1)."""
    interlevel_loss_weight: float = 1.0
    """Weight of the proposal (interlevel) loss (nerfacto: 1)."""
    distortion_loss_weight: float = 0.002
    """Weight of the distortion loss (nerfacto: 0.002)."""
    depth_loss_weight: float = 0.5
    """Weight of the line-of-sight depth loss on rays with a depth reading (0: depth does not
    supervise geometry)."""
    free_space_loss_weight: float = 0.5
    """Weight of the free-space loss: weight in front of the measured surface."""
    depth_sigma_start: float = 0.2
    """Metres: how close to the measurement the depth terms want the weight at the start; the
    band shrinks geometrically to ``depth_sigma_end`` (coarse first, as DS-NeRF)."""
    depth_sigma_end: float = 0.03
    """Metres: the band at the end of the schedule (about a consumer RGB-D camera's noise at
    2 m)."""
    depth_sigma_steps: int = 1000
    """Steps over which the band shrinks."""
    language_samples_per_ray: int = 24
    """The language field is evaluated at this many highest-weight samples per ray (LERF: 24)."""
    background: tuple[float, float, float] | None = None
    """Colour behind the field (e.g. white for Blender scenes); None renders black."""
    mixed_precision: bool = True
    """fp16 autocast + gradient scaling on CUDA (ignored on the CPU)."""
    fused_adam: bool = True
    """Use Adam's fused kernel where the device supports it (~10x faster on large tables)."""
    ready_steps: int = 300
    """Minimum training steps before the field is reported ready; the convergence test on
    held-out rays (``readiness``) decides after them."""
    ready_keyframes: int = 3
    """Keyframes with language targets needed before the field is reported ready."""
    max_steps: int = 0
    """Stop after this many steps (0: train until stopped)."""
    seed: int = 0
    """Random seed of ray sampling and initialisation."""

    def validate(self) -> None:
        """The background is None or an RGB colour in [0, 1]; the depth band shrinks."""
        colour = self.background
        if colour is not None and (
            len(colour) != 3 or not all(math.isfinite(c) and 0.0 <= c <= 1.0 for c in colour)
        ):
            raise ConfigError(
                f"trainer.background must be None or 3 values in [0, 1], not {colour!r}"
            )
        if not 0 < self.depth_sigma_end <= self.depth_sigma_start:
            raise ConfigError(
                "trainer.depth_sigma_end must be positive and at most depth_sigma_start, not "
                f"{self.depth_sigma_end} (start {self.depth_sigma_start})"
            )


@dataclass
class LerfConfig:
    """Everything the engine needs; the node's parameters map onto these fields."""

    scene: SceneConfig = field(default_factory=SceneConfig)
    nerf: NerfFieldConfig = field(default_factory=NerfFieldConfig)
    proposals: list[DensityFieldConfig] = field(default_factory=proposal_field_configs)
    sampler: ProposalSamplerConfig = field(default_factory=ProposalSamplerConfig)
    language: LanguageFieldConfig = field(default_factory=LanguageFieldConfig)
    pyramid: PyramidConfig = field(default_factory=PyramidConfig)
    keyframes: KeyframeConfig = field(default_factory=KeyframeConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    query: QueryConfig = field(default_factory=QueryConfig)
    readiness: ReadinessConfig = field(default_factory=ReadinessConfig)
    device: str = "auto"
    """Torch device: ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``."""
    feature_cache_dir: str | None = None
    """Directory of the on-disk feature cache; None keeps features in memory only."""
    feature_cache_bytes: int = 4 << 30
    """Disk budget of the feature cache."""
    feature_memory_bytes: int = 1 << 30
    """Host-memory budget of the feature cache."""

    def validate(self) -> LerfConfig:
        """Raise :class:`~lerf_ros.configuration.ConfigError` for a device or an enumerated
        field (``Literal[...]``, in any part) outside its values; the engine calls it, so the
        CLI and the node report the same text."""
        check_device(self.device)
        check_literals(self)
        self.trainer.validate()
        return self

    @classmethod
    def from_preset(cls, name: str) -> LerfConfig:
        """The preset called ``name`` (one of :data:`PRESETS`)."""
        check_choice("preset", name, PRESETS)
        return cls.cpu() if name == "cpu" else cls.lerf()

    @classmethod
    def lerf(cls) -> LerfConfig:
        """kerrj/lerf's ``lerf`` model (GPU)."""
        return cls()

    @classmethod
    def cpu(cls) -> LerfConfig:
        """A small model for two CPU cores: tests, the demo and CPU robots.

        Geometry: 8 levels up to 128 cells (a coarse grid fits in the few hundred steps a CPU
        gives it) and a density scale of 0.1 for the field and its proposals. With nerfacto's
        1.0 and 12 levels up to 512, the textureless walls and table left fog in front of the
        cameras that novel views see: measured on the synthetic room (26 training views, 700
        steps), held-out PSNR 18-22 -> 23.7-28.4 dB (mean 26.2), median depth error on the
        table and objects 0.35-0.56 m -> 0.05-0.07 m; the old preset was no better at 700
        steps than at 400."""
        contraction = ContractionConfig()
        config = cls(
            nerf=NerfFieldConfig(
                grid=HashGridConfig(num_levels=8, log2_hashmap_size=17, max_resolution=128),
                hidden_dim=32,
                hidden_dim_color=32,
                sh_degree=3,
                average_init_density=0.1,
            ),
            proposals=proposal_field_configs(contraction, max_resolutions=(64, 128)),
            sampler=ProposalSamplerConfig(
                num_proposal_samples_per_ray=(64, 32),
                num_nerf_samples_per_ray=24,
                proposal_warmup=500,
            ),
            language=LanguageFieldConfig(
                dino_dim=384,
                grids=((8, 16, 256),),
                features_per_level=4,
                log2_hashmap_size=16,
                clip_hidden=64,
                clip_layers=2,
                dino_hidden=64,
            ),
            pyramid=PyramidConfig(crop_size=32),
            trainer=TrainerConfig(
                rays_per_batch=512,
                frames_per_batch=8,
                language_samples_per_ray=8,
                decay_steps=4000,
                ready_steps=250,
            ),
            query=QueryConfig(candidate_width=48, sweep_points=4096),
            readiness=ReadinessConfig(probe_rays=512),
        )
        for proposal in config.proposals:
            proposal.average_init_density = 0.1
        return config


PRESETS = ("lerf", "cpu")
"""Names of :class:`LerfConfig`'s presets (the node's ``preset`` parameter, ``--preset``)."""

_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")


def check_device(device: str) -> str:
    """``device`` when it is ``auto``, ``cpu``, ``cuda`` or ``cuda:N``; else a ConfigError
    (before torch parses it, whose own message lists every device type it knows)."""
    if not isinstance(device, str) or _DEVICE.fullmatch(device) is None:
        raise ConfigError(f"device must be auto, cpu, cuda or cuda:N, not {device!r}")
    return device
