"""What every image/text encoder and every dense (DINO-like) encoder provides.

Two protocols describe the contract, so that third-party encoders need not inherit from
anything; two abstract base classes carry the shared plumbing (device bookkeeping,
input checks) for the encoders in this package.

Contract, image/text encoders (the CLIP role):
- ``dim``: length of the embeddings.
- ``name``: stable identifier of model *and* weights; it is part of the feature cache
  key, so two encoders that can produce different features must have different names.
- ``encode_image(images)``: ``[B, 3, H, W]`` float in [0, 1], any H, W (the encoder
  resizes and normalises itself) → ``[B, dim]`` float32, L2-normalised.
- ``encode_text(texts)``: ``list[str]`` → ``[N, dim]`` float32, L2-normalised.
- ``device`` and ``to(device)`` (returns the encoder).

Contract, dense encoders (the DINO role):
- ``dim``, ``name``, ``device``, ``to(device)`` as above.
- ``encode_dense(images)``: ``[B, 3, H, W]`` float in [0, 1] → ``[B, dim, h, w]`` patch
  features whose ``h x w`` grid spans the whole input image: cell ``(i, j)`` covers rows
  ``[i H/h, (i+1) H/h)`` and columns ``[j W/w, (j+1) W/w)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol, Self, runtime_checkable

import torch
from torch import Tensor


class EncoderError(RuntimeError):
    """An encoder cannot be found, built or loaded; the message says what to do."""


@runtime_checkable
class ImageTextEncoder(Protocol):
    """An encoder that embeds image crops and text into one normalised space."""

    dim: int
    name: str

    @property
    def device(self) -> torch.device: ...

    def to(self, device: torch.device | str) -> Self: ...

    def encode_image(self, images: Tensor) -> Tensor: ...

    def encode_text(self, texts: list[str]) -> Tensor: ...


@runtime_checkable
class DenseEncoder(Protocol):
    """An encoder that turns an image into a grid of patch features."""

    dim: int
    name: str

    @property
    def device(self) -> torch.device: ...

    def to(self, device: torch.device | str) -> Self: ...

    def encode_dense(self, images: Tensor) -> Tensor: ...


class EncoderBase(ABC):
    """Device bookkeeping shared by the encoders of this package."""

    dim: int
    name: str

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self._device = torch.device(device)

    @property
    def device(self) -> torch.device:
        """Where the encoder computes; inputs are moved here, outputs come back from here."""
        return self._device

    def to(self, device: torch.device | str) -> Self:
        """Move the encoder's weights and buffers to ``device``; returns ``self``."""
        device = torch.device(device)
        self._move_to(device)
        self._device = device
        return self

    def _move_to(self, device: torch.device) -> None:
        """Move weights and buffers; encoders that hold none need not override this."""
        return None

    def _prepare_images(self, images: Tensor) -> Tensor:
        """Check the ``[B, 3, H, W]`` layout and move the batch to this encoder's device."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images of shape [B, 3, H, W], got {tuple(images.shape)}")
        if not images.is_floating_point():
            raise ValueError(f"expected float images in [0, 1], got dtype {images.dtype}")
        return images.to(self._device, non_blocking=True)


class ImageTextEncoderBase(EncoderBase):
    """Helper base for :class:`ImageTextEncoder` implementations."""

    @abstractmethod
    def encode_image(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` float in [0, 1] → ``[B, dim]`` float32, L2-normalised."""

    @abstractmethod
    def encode_text(self, texts: list[str]) -> Tensor:
        """``N`` strings → ``[N, dim]`` float32, L2-normalised."""


class DenseEncoderBase(EncoderBase):
    """Helper base for :class:`DenseEncoder` implementations."""

    @abstractmethod
    def encode_dense(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` float in [0, 1] → ``[B, dim, h, w]`` patch features."""
