"""Per-keyframe training targets: CLIP crop pyramid and DINO map, computed on demand, cached.

Unlike kerrj/lerf, which embeds every image at start-up, nothing is computed until a
keyframe's targets are first asked for; the bounded :class:`FeatureCache` then serves
repeats and evicts what has not been used for longest.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

import torch

from lerf_ros.features.cache import Entry, FeatureCache
from lerf_ros.features.dense import DenseFeatures, compute_dense
from lerf_ros.features.encoders.base import DenseEncoder, ImageTextEncoder
from lerf_ros.features.images import ImageLike, image_digest
from lerf_ros.features.pyramid import PyramidConfig, PyramidFeatures, compute_pyramid

_LOG = logging.getLogger(__name__)
T = TypeVar("T", PyramidFeatures, DenseFeatures)


class FeatureExtractor:
    """Computes (or fetches from the cache) the feature targets of one image."""

    def __init__(
        self,
        encoder: ImageTextEncoder,
        dense_encoder: DenseEncoder | None = None,
        pyramid_config: PyramidConfig | None = None,
        cache: FeatureCache | None = None,
        output_device: torch.device | str | None = None,
    ) -> None:
        """Args:
        encoder: the image/text encoder of the pyramid.
        dense_encoder: the DINO-role encoder; None skips dense targets.
        pyramid_config: crop layout; None is LERF's.
        cache: where features are kept; None keeps up to 1 GiB in memory only.
        output_device: where returned features live; None is the encoder's device.
        """
        self.encoder = encoder
        self.dense_encoder = dense_encoder
        self.pyramid_config = pyramid_config or PyramidConfig()
        self.cache = cache if cache is not None else FeatureCache()
        self.output_device = torch.device(output_device or encoder.device)

    def pyramid_key(self, digest: str) -> str:
        """Cache key of the pyramid of the image with content hash ``digest``."""
        parts = ("pyramid", digest, self.encoder.name, self.pyramid_config.cache_key())
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    def dense_key(self, digest: str) -> str:
        """Cache key of the dense map of the image with content hash ``digest``."""
        assert self.dense_encoder is not None
        parts = ("dense", digest, self.dense_encoder.name)
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    def features_for(self, image: ImageLike) -> tuple[PyramidFeatures, DenseFeatures | None]:
        """The pyramid (and dense map, if a dense encoder is set) of ``image``."""
        digest = image_digest(image)
        pyramid = self._cached(
            self.pyramid_key(digest),
            lambda: compute_pyramid(image, self.encoder, self.pyramid_config),
            PyramidFeatures.from_tensors,
        )
        dense = None
        if self.dense_encoder is not None:
            dense = self._cached(
                self.dense_key(digest),
                lambda: compute_dense(image, self.dense_encoder),
                DenseFeatures.from_tensors,
            ).to(self.output_device)
        return pyramid.to(self.output_device), dense

    def _cached(self, key: str, compute: Callable[[], T], restore: Callable[[Entry], T]) -> T:
        stored = self.cache.get(key)
        if stored is not None:
            try:
                return restore(stored)
            except (KeyError, ValueError, IndexError, TypeError) as error:
                # A readable entry of the wrong shape (e.g. from an older version): recompute.
                _LOG.warning("recomputing malformed cached features %s: %s", key, error)
        features = compute()
        self.cache.put(key, features.to_tensors())
        return features
