"""Neural fields: hash grid encodings, the radiance and proposal fields, the language field and
the proposal sampler that decides where they are evaluated. Plain PyTorch; tiny-cuda-nn is used
on CUDA when installed."""

from lerf_ros.fields.contraction import (
    AabbNormalize,
    ContractionConfig,
    SceneContraction,
    make_contraction,
)
from lerf_ros.fields.hash_grid import HashGridConfig, HashGridEncoding
from lerf_ros.fields.language_field import LanguageField, LanguageFieldConfig
from lerf_ros.fields.mlp import MLP, MLPConfig
from lerf_ros.fields.nerf_field import (
    DensityField,
    DensityFieldConfig,
    NerfField,
    NerfFieldConfig,
    proposal_field_configs,
)
from lerf_ros.fields.sampling import (
    PDFSampler,
    ProposalNetworkSampler,
    ProposalSamplerConfig,
    RaySamples,
    Spacing,
    UniformSampler,
    intersect_aabb,
)

__all__ = [
    "MLP",
    "AabbNormalize",
    "ContractionConfig",
    "DensityField",
    "DensityFieldConfig",
    "HashGridConfig",
    "HashGridEncoding",
    "LanguageField",
    "LanguageFieldConfig",
    "MLPConfig",
    "NerfField",
    "NerfFieldConfig",
    "PDFSampler",
    "ProposalNetworkSampler",
    "ProposalSamplerConfig",
    "RaySamples",
    "SceneContraction",
    "Spacing",
    "UniformSampler",
    "intersect_aabb",
    "make_contraction",
    "proposal_field_configs",
]
