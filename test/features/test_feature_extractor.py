"""Per-keyframe targets on demand: computed once, then served from the cache."""

import numpy as np
import torch

from lerf_ros.features.cache import FeatureCache
from lerf_ros.features.encoders.colour_minilm import ColourPatchDenseEncoder
from lerf_ros.features.extractor import FeatureExtractor
from lerf_ros.features.pyramid import PyramidConfig

SMALL = PyramidConfig(crop_size=16)


class CountingEncoder:
    """Wraps an encoder and counts the crops it embeds."""

    def __init__(self, inner):
        self.inner, self.crops = inner, 0
        self.dim, self.name, self.device = inner.dim, inner.name, inner.device

    def encode_image(self, images):
        self.crops += len(images)
        return self.inner.encode_image(images)

    def encode_text(self, texts):
        return self.inner.encode_text(texts)


def image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(48, 64, 3), dtype=np.uint8)


def test_features_are_computed_on_demand_once_per_image(colour_encoder, tmp_path):
    encoder = CountingEncoder(colour_encoder)
    cache = FeatureCache(tmp_path)
    extractor = FeatureExtractor(encoder, ColourPatchDenseEncoder(), SMALL, cache)
    assert encoder.crops == 0  # nothing upfront
    pyramid, dense = extractor.features_for(image(0))
    per_image = encoder.crops
    assert per_image == sum(layout.num_crops for layout in pyramid.layouts)
    again, dense_again = extractor.features_for(image(0))
    assert encoder.crops == per_image
    assert all(torch.equal(a, b) for a, b in zip(again.levels, pyramid.levels, strict=True))
    assert torch.equal(dense_again.features, dense.features)
    extractor.features_for(image(1))
    assert encoder.crops == 2 * per_image
    # A new process with the same cache directory computes nothing either.
    fresh = FeatureExtractor(encoder, ColourPatchDenseEncoder(), SMALL, FeatureCache(tmp_path))
    fresh.features_for(image(0))
    assert encoder.crops == 2 * per_image


def test_other_encoder_or_layout_is_another_cache_entry(colour_encoder):
    cache = FeatureCache()
    first = FeatureExtractor(colour_encoder, None, SMALL, cache)
    other_layout = FeatureExtractor(colour_encoder, None, PyramidConfig(crop_size=8), cache)
    digest = "0" * 64
    assert first.pyramid_key(digest) != other_layout.pyramid_key(digest)
    assert first.pyramid_key(digest) == FeatureExtractor(
        colour_encoder, None, PyramidConfig(crop_size=16, batch_size=7), cache
    ).pyramid_key(digest)  # the batch size changes nothing


def test_corrupted_cache_file_is_recomputed(colour_encoder, tmp_path):
    encoder = CountingEncoder(colour_encoder)
    FeatureExtractor(encoder, None, SMALL, FeatureCache(tmp_path)).features_for(image(0))
    for path in tmp_path.glob("*.pt"):
        path.write_bytes(b"garbage")
    extractor = FeatureExtractor(encoder, None, SMALL, FeatureCache(tmp_path))
    before = encoder.crops
    pyramid, dense = extractor.features_for(image(0))
    assert encoder.crops == 2 * before and dense is None
    assert len(pyramid.levels) == 7
