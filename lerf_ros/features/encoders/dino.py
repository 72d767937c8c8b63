"""DINO ViT-S/8 dense features through timm: LERF's DINO regulariser target.

LERF (via dino-vit-features) resizes the image's shorter side to 500 px and takes the
``key`` facet of layer 11 (the last of ViT-S's 12 blocks) at stride 8: 384-d per patch.
Here the keys are read with a forward hook on the last block's fused ``qkv`` projection,
which gives exactly that facet; ``facet="token"`` takes the final normalised tokens instead.
Weights follow :mod:`lerf_ros.features.encoders.weights` (``$LERF_ROS_DINO_CHECKPOINT``
accepts timm's file or the original ``dino_deitsmall8_pretrain.pth``).
"""

from __future__ import annotations

import os
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from lerf_ros.features.encoders.base import DenseEncoderBase, EncoderError
from lerf_ros.features.encoders.weights import (
    checkpoint_tag,
    hub_cache_dir,
    hub_offline,
    resolve_checkpoint,
    seeded,
)

DINO_CHECKPOINT_ENV = "LERF_ROS_DINO_CHECKPOINT"
"""Environment variable naming a local DINO checkpoint file."""


class DinoEncoder(DenseEncoderBase):
    """Per-patch DINO features of whole images."""

    def __init__(
        self,
        model: str = "vit_small_patch8_224.dino",
        checkpoint: str | os.PathLike | None = None,
        device: torch.device | str = "cpu",
        load_size: int | None = 500,
        facet: Literal["key", "token"] = "key",
        precision: Literal["auto", "fp32", "fp16"] = "auto",
        random_weights: bool = False,
        allow_download: bool = False,
        cache_dir: str | None = None,
        seed: int = 0,
    ) -> None:
        """Build the ViT and load its weights.

        Args:
            model: timm model name with weights tag.
            checkpoint: local checkpoint file; overrides the tag's weights.
            device: where to run.
            load_size: the image's shorter side is resized to this (LERF: 500); None keeps it.
            facet: ``key`` (LERF's choice) or ``token`` (last block output, normalised).
            precision: ``auto`` is fp16 on CUDA and fp32 elsewhere.
            random_weights: build the architecture with seeded random weights.
            allow_download: let timm download missing weights.
            cache_dir: weights cache directory; None uses the Hugging Face default.
            seed: seed of the random weights.
        """
        super().__init__(device)
        import timm  # heavy: imported only when this encoder is used

        if facet not in ("key", "token"):
            raise EncoderError(f"unknown DINO facet {facet!r}; valid: 'key', 'token'")
        self.facet = facet
        self.load_size = load_size
        self._precision = precision
        path = None if random_weights else resolve_checkpoint(checkpoint, DINO_CHECKPOINT_ENV)
        if random_weights:
            tag = f"random-seed{seed}"
        else:
            tag = checkpoint_tag(path) if path is not None else "pretrained"
        overlay = {"file": str(path)} if path is not None else None
        try:
            with hub_offline(not allow_download), seeded(seed):
                self._model = timm.create_model(
                    model,
                    pretrained=not random_weights,
                    pretrained_cfg_overlay=overlay,
                    cache_dir=cache_dir,
                    num_classes=0,
                    dynamic_img_size=True,  # any image size: position embeddings resampled
                )
        except Exception as error:  # timm raises many kinds; all mean "cannot load"
            cause = str(error).splitlines()[0] if str(error) else type(error).__name__
            if random_weights or path is not None:
                raise EncoderError(f"cannot build {model} ({tag}): {cause}") from error
            command = f"python -c \"import timm; timm.create_model('{model}', pretrained=True)\""
            raise EncoderError(
                f"DINO weights {model} are not available offline ({cause}); pre-fetch them on a "
                f"networked machine with: {command} and copy its Hugging Face cache to "
                f"{cache_dir or hub_cache_dir()} here; or set the encoder's checkpoint parameter "
                f"(or ${DINO_CHECKPOINT_ENV}) to a local file; or pass allow_download=True"
            ) from error

        self._model.eval().requires_grad_(False)
        config = self._model.pretrained_cfg
        self._mean = torch.tensor(config.get("mean", (0.485, 0.456, 0.406))).view(1, 3, 1, 1)
        self._std = torch.tensor(config.get("std", (0.229, 0.224, 0.225))).view(1, 3, 1, 1)
        self.patch_size = int(self._model.patch_embed.patch_size[0])
        self.dim = int(self._model.embed_dim)
        self.name = f"dino/{model}/{tag}/{facet}/load{load_size}"
        self._keys: Tensor | None = None
        if facet == "key":
            qkv = getattr(self._model.blocks[-1].attn, "qkv", None)
            if qkv is None:
                raise EncoderError(f"{model} has no fused qkv projection; use facet='token'")
            qkv.register_forward_hook(self._keep_keys)
        self._move_to(self.device)

    def _keep_keys(self, module, inputs, output: Tensor) -> None:
        # qkv output is [B, N, 3 * dim] ordered (q, k, v) x heads x head_dim, so the middle
        # third is the heads' keys concatenated: dino-vit-features' 'key' facet.
        self._keys = output[..., self.dim : 2 * self.dim]

    def _move_to(self, device: torch.device) -> None:
        half = self._precision == "fp16" or (self._precision == "auto" and device.type == "cuda")
        self._dtype = torch.float16 if half else torch.float32
        self._model.to(device=device, dtype=self._dtype)
        self._mean = self._mean.to(device)
        self._std = self._std.to(device)

    def grid_size(self, height: int, width: int) -> tuple[int, int]:
        """Patch grid ``(h, w)`` an image of ``height x width`` gives."""
        return patch_grid(height, width, self.load_size, self.patch_size)

    @torch.no_grad()
    def encode_dense(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` float in [0, 1] → ``[B, dim, h, w]`` float32 patch features."""
        images = self._prepare_images(images).float()
        rows, cols = self.grid_size(*images.shape[-2:])
        # Resizing to whole patches makes the patch grid span the image exactly.
        size = (rows * self.patch_size, cols * self.patch_size)
        if tuple(images.shape[-2:]) != size:
            images = F.interpolate(
                images, size=size, mode="bicubic", antialias=True, align_corners=False
            ).clamp_(0.0, 1.0)
        images = ((images - self._mean) / self._std).to(self._dtype)
        tokens = self._model.forward_features(images)
        if self.facet == "key":
            tokens, self._keys = self._keys, None
        prefix = self._model.num_prefix_tokens
        patches = tokens[:, prefix:, :].float()
        assert patches.shape[1] == rows * cols, "patch count does not match the grid"
        return patches.transpose(1, 2).reshape(len(images), self.dim, rows, cols)


def patch_grid(height: int, width: int, load_size: int | None, patch_size: int) -> tuple[int, int]:
    """Patch grid of an image whose shorter side is resized to ``load_size`` (None: kept).

    Whole patches only, as LERF's extractor (480x640 at load size 500 → 500x666 px → 62x83);
    the image is then resized to exactly that many patches so the grid spans all of it.
    """
    scale = 1.0 if load_size is None else load_size / min(height, width)
    rows = int(height * scale / patch_size + 1e-6)
    cols = int(width * scale / patch_size + 1e-6)
    return max(1, rows), max(1, cols)
