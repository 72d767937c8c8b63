"""Volume rendering of the fields' outputs (rgb, depth, CLIP, DINO) and sampling losses."""

from lerf_ros.rendering.losses import distortion_loss, interlevel_loss
from lerf_ros.rendering.volume import (
    gather_samples,
    render_accumulation,
    render_depth,
    render_embedding,
    render_rgb,
    render_weights,
    top_k_samples,
)

__all__ = [
    "distortion_loss",
    "gather_samples",
    "interlevel_loss",
    "render_accumulation",
    "render_depth",
    "render_embedding",
    "render_rgb",
    "render_weights",
    "top_k_samples",
]
