"""Image/text encoders (the CLIP role) and dense encoders (the DINO role).

Importing this package is cheap: the OpenCLIP and timm encoders import their libraries only
when built (see :func:`load_encoder`).
"""

from lerf_ros.features.encoders.base import (
    DenseEncoder,
    DenseEncoderBase,
    EncoderError,
    ImageTextEncoder,
    ImageTextEncoderBase,
)
from lerf_ros.features.encoders.registry import load_dense_encoder, load_encoder

__all__ = [
    "DenseEncoder",
    "DenseEncoderBase",
    "EncoderError",
    "ImageTextEncoder",
    "ImageTextEncoderBase",
    "load_dense_encoder",
    "load_encoder",
]
