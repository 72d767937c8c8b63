"""Configuration of the whole engine: one dataclass per part, composed in :class:`LerfConfig`.

Presets: :meth:`LerfConfig.lerf` (kerrj/lerf's model sizes, for a GPU), :meth:`LerfConfig.cpu`
(small enough to train in about a minute on two CPU cores, used by tests and the demo).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from lerf_ros.data.keyframes import KeyframeConfig
from lerf_ros.features.pyramid import PyramidConfig
from lerf_ros.fields.contraction import ContractionConfig
from lerf_ros.fields.hash_grid import HashGridConfig
from lerf_ros.fields.language_field import LanguageFieldConfig
from lerf_ros.fields.nerf_field import DensityFieldConfig, NerfFieldConfig, proposal_field_configs
from lerf_ros.fields.sampling import ProposalSamplerConfig


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
    language_samples_per_ray: int = 24
    """The language field is evaluated at this many highest-weight samples per ray (LERF: 24)."""
    background: tuple[float, float, float] | None = None
    """Colour behind the field (e.g. white for Blender scenes); None renders black."""
    mixed_precision: bool = True
    """fp16 autocast + gradient scaling on CUDA (ignored on the CPU)."""
    fused_adam: bool = True
    """Use Adam's fused kernel where the device supports it (~10x faster on large tables)."""
    ready_steps: int = 300
    """Steps after which the field is reported ready (with ``ready_keyframes``)."""
    ready_keyframes: int = 3
    """Keyframes with language targets needed before the field is reported ready."""
    max_steps: int = 0
    """Stop after this many steps (0: train until stopped)."""
    seed: int = 0
    """Random seed of ray sampling and initialisation."""


@dataclass
class QueryConfig:
    """3D language queries."""

    num_scales: int = 30
    """Scales swept when none is given (LERF: 30)."""
    max_scale: float = 2.0
    """Largest scale of the sweep in metres (LERF paper: 0–2 m)."""
    min_views: int = 3
    """Candidate points seen by fewer keyframes are discarded (LERF paper: ~5)."""
    min_relevancy: float = 0.55
    """Default relevancy threshold of a peak's points (0.5 = as relevant as a canonical phrase)."""
    max_results: int = 5
    """Default number of peaks returned."""
    max_results_limit: int = 100
    """Requests asking for more peaks are clamped to this."""
    cluster_distance: float = 0.05
    """Points closer than this (metres) join the same peak."""
    min_support: int = 3
    """Clusters with fewer points are not peaks."""
    candidate_width: int = 64
    """Keyframes are rendered at this width (pixels) to find candidate surface points."""
    min_accumulation: float = 0.5
    """Rays whose opacity is below this give no candidate."""
    voxel_size: float = 0.01
    """Candidates are thinned to one per voxel of this size (metres)."""
    max_candidates: int = 200000
    """At most this many candidates are kept (random subset beyond it)."""
    sweep_points: int = 8192
    """The scale sweep scores at most this many candidates (then the best scale scores all)."""
    sweep_top_fraction: float = 0.01
    """A scale's score is the mean relevancy of its top fraction of points."""
    refresh_steps: int = 200
    """Candidates are recomputed when the field trained this many steps since."""
    max_text_length: int = 1000
    """Longer query texts are refused."""
    max_negatives: int = 32
    """At most this many request negatives are used (beyond the canonical phrases)."""


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
    device: str = "auto"
    """``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``."""
    feature_cache_dir: str | None = None
    """Directory of the on-disk feature cache; None keeps features in memory only."""
    feature_cache_bytes: int = 4 << 30
    """Disk budget of the feature cache."""
    feature_memory_bytes: int = 1 << 30
    """Host-memory budget of the feature cache."""

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
        )
        for proposal in config.proposals:
            proposal.average_init_density = 0.1
        return config
