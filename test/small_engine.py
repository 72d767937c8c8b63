"""A small, fast engine for reliability tests: the CPU preset with small hash tables and the
download-free test encoder (colour-minilm: a real sentence encoder, loaded once per session)."""

from __future__ import annotations

import functools

from lerf_ros.features.encoders.registry import load_encoder
from lerf_ros.training.config import LerfConfig


@functools.cache
def minilm_encoder():
    """The shared colour-minilm encoder (do not mutate it; load a fresh one to change it)."""
    return load_encoder("colour-minilm")


def tiny_config() -> LerfConfig:
    """The CPU preset with small hash tables: a training step in ~0.1 s instead of ~1.5 s."""
    config = LerfConfig.cpu()
    config.device = "cpu"
    config.trainer.rays_per_batch = 64
    config.nerf.grid.log2_hashmap_size = 12
    config.nerf.grid.num_levels = 4
    for proposal in config.proposals:
        proposal.grid.log2_hashmap_size = 10
    config.language.log2_hashmap_size = 10
    return config
