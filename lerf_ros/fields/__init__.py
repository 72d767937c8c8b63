"""Neural fields: hash grid encodings, the radiance and proposal fields and the language field.
Plain PyTorch; tiny-cuda-nn is used on CUDA when installed. Where the fields are evaluated along
rays is decided by ``lerf_ros.samplers``."""

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
    "SceneContraction",
    "make_contraction",
    "proposal_field_configs",
]
