"""Training targets from images: CLIP crop pyramids, DINO maps, their encoders and cache.

``encoders`` holds the models (OpenCLIP, DINO, the offline colour/MiniLM test pair) behind
one interface; ``pyramid`` and ``dense`` turn an image into targets; ``cache`` bounds the
memory and disk they take; ``extractor`` ties these together per keyframe.
"""

from lerf_ros.features.cache import FeatureCache
from lerf_ros.features.dense import DenseFeatures, compute_dense
from lerf_ros.features.extractor import FeatureExtractor
from lerf_ros.features.pyramid import (
    LevelLayout,
    PyramidConfig,
    PyramidFeatures,
    compute_pyramid,
    pyramid_layout,
)

__all__ = [
    "DenseFeatures",
    "FeatureCache",
    "FeatureExtractor",
    "LevelLayout",
    "PyramidConfig",
    "PyramidFeatures",
    "compute_dense",
    "compute_pyramid",
    "pyramid_layout",
]
