"""Dense (DINO) feature maps of whole images, and bilinear look-ups into them.

Pixel coordinates follow :mod:`lerf_ros.features.images`; the map's ``h x w`` grid spans
the whole image (the :class:`~lerf_ros.features.encoders.base.DenseEncoder` contract), so
cell ``(i, j)`` has its centre at pixel ``((j + 0.5) W / w, (i + 0.5) H / h)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from lerf_ros.features.encoders.base import DenseEncoder
from lerf_ros.features.images import ImageLike, as_image_tensor


@dataclass
class DenseFeatures:
    """One image's patch feature map."""

    features: Tensor
    """``[dim, h, w]`` fp16 patch features."""
    image_size: tuple[int, int]
    """``(height, width)`` of the image the map covers."""

    @property
    def dim(self) -> int:
        return int(self.features.shape[0])

    @property
    def device(self) -> torch.device:
        return self.features.device

    def sample(self, u: Tensor, v: Tensor) -> Tensor:
        """Bilinear features ``[N, dim]`` float32 at pixels ``(u, v)``; clamped at the border."""
        height, width = self.image_size
        u = u.to(self.device, torch.float32).flatten()
        v = v.to(self.device, torch.float32).flatten()
        # align_corners=False maps -1 and 1 to the outer edges of the grid, i.e. of the image.
        grid = torch.stack([2.0 * u / width - 1.0, 2.0 * v / height - 1.0], dim=-1)
        sampled = F.grid_sample(
            self.features[None].float(),
            grid[None, None],
            mode="bilinear",
            padding_mode="border",
            align_corners=False,
        )
        return sampled[0, :, 0].T

    def to(self, device: torch.device | str) -> DenseFeatures:
        return DenseFeatures(self.features.to(device), self.image_size)

    def to_tensors(self) -> dict[str, Tensor]:
        """Plain tensors only (safe to store and reload with ``weights_only=True``)."""
        return {"features": self.features.cpu(), "image_size": torch.tensor(self.image_size)}

    @classmethod
    def from_tensors(cls, tensors: dict[str, Tensor]) -> DenseFeatures:
        """Inverse of :meth:`to_tensors`; raises ``KeyError``/``ValueError`` on bad input."""
        features = tensors["features"]
        if features.ndim != 3:
            raise ValueError(f"dense features must be [dim, h, w], got {tuple(features.shape)}")
        height, width = tensors["image_size"].tolist()
        return cls(features, (int(height), int(width)))


@torch.no_grad()
def compute_dense(image: ImageLike, dense_encoder: DenseEncoder) -> DenseFeatures:
    """The patch feature map of ``image`` (uint8 ``H x W x 3`` or float), stored in fp16."""
    image = as_image_tensor(image)
    features = dense_encoder.encode_dense(image[None].to(dense_encoder.device))[0]
    return DenseFeatures(features.to(torch.float16), (image.shape[-2], image.shape[-1]))
