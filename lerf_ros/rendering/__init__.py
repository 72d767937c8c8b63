"""Volume rendering of the fields' outputs (rgb, depth, CLIP, DINO) and sampling losses: functions
on tensors and on ``RaySamples`` (the sample intervals), importing nothing of fields or samplers."""

from lerf_ros.rendering.losses import distortion_loss, interlevel_loss
from lerf_ros.rendering.ray_samples import RaySamples, SpacingMap
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
    "RaySamples",
    "SpacingMap",
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
