"""Image inputs of the feature extractors: one canonical layout, one content hash.

Pixel coordinates used throughout ``features``: ``u`` is the column, ``v`` the row, both
continuous, with pixel ``(row i, col j)`` covering ``[i, i+1) x [j, j+1)`` — its centre is
at ``(j + 0.5, i + 0.5)``, the convention of nerfstudio's ray generation.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from torch import Tensor

ImageLike = np.ndarray | Tensor
"""``H x W x 3`` uint8 (numpy or torch), or float in [0, 1] as ``H x W x 3`` or ``3 x H x W``."""


def as_image_tensor(image: ImageLike, device: torch.device | str | None = None) -> Tensor:
    """Any :data:`ImageLike` → ``[3, H, W]`` float32 in [0, 1] on ``device``."""
    tensor = torch.as_tensor(image) if isinstance(image, np.ndarray) else image
    if tensor.ndim != 3 or 3 not in (tensor.shape[0], tensor.shape[-1]):
        raise ValueError(f"expected an H x W x 3 or 3 x H x W image, got {tuple(tensor.shape)}")
    if device is not None:
        tensor = tensor.to(device)
    channels_last = tensor.shape[-1] == 3 and (tensor.shape[0] != 3 or tensor.dtype == torch.uint8)
    if channels_last:
        tensor = tensor.permute(2, 0, 1)
    if tensor.dtype == torch.uint8:
        return tensor.float().div_(255.0)
    if not tensor.is_floating_point():
        raise ValueError(f"expected uint8 or float pixels, got {tensor.dtype}")
    return tensor.float()


def image_digest(image: ImageLike) -> str:
    """sha256 of an image's pixels, shape and dtype: its identity in the feature cache."""
    array = image.detach().cpu().numpy() if isinstance(image, Tensor) else np.asarray(image)
    digest = hashlib.sha256(f"{array.shape}|{array.dtype.str}|".encode())
    digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()
