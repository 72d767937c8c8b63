"""OpenCLIP image/text encoder: LERF's CLIP (ViT-B-16, laion2b_s34b_b88k, 512-d) by default.

Weights follow :mod:`lerf_ros.features.encoders.weights`: a local checkpoint (parameter
``checkpoint`` or ``$LERF_ROS_CLIP_CHECKPOINT``), else the local caches with downloads off,
else an :class:`EncoderError` that says how to pre-fetch them; ``random_weights=True`` builds
the real architecture untrained (timing, tests).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from lerf_ros.features.encoders.base import EncoderError, ImageTextEncoderBase
from lerf_ros.features.encoders.weights import (
    checkpoint_tag,
    hub_cache_dir,
    hub_offline,
    resolve_checkpoint,
    seeded,
)

CLIP_CHECKPOINT_ENV = "LERF_ROS_CLIP_CHECKPOINT"
"""Environment variable naming a local OpenCLIP checkpoint file."""

# OpenAI's CLIP normalisation; OpenCLIP uses it unless the weights' config says otherwise.
_DEFAULT_MEAN = (0.48145466, 0.4578275, 0.40821073)
_DEFAULT_STD = (0.26862954, 0.26130258, 0.27577711)


def prefetch_hint(model: str, pretrained: str, cache_dir: str | None = None) -> str:
    """How to get ``model``/``pretrained`` onto a machine that cannot download."""
    command = (
        f"python -c \"import open_clip; open_clip.create_model_and_transforms('{model}', "
        f"pretrained='{pretrained}')\""
    )
    return (
        f"pre-fetch them on a networked machine with: {command} and copy its Hugging Face "
        f"cache to {cache_dir or hub_cache_dir()} here; or set the encoder's checkpoint "
        f"parameter (or ${CLIP_CHECKPOINT_ENV}) to a local checkpoint file; or pass "
        "allow_download=True"
    )


class OpenClipEncoder(ImageTextEncoderBase):
    """CLIP embeddings of image crops and text queries through OpenCLIP."""

    def __init__(
        self,
        model: str = "ViT-B-16",
        pretrained: str | None = "laion2b_s34b_b88k",
        checkpoint: str | os.PathLike | None = None,
        device: torch.device | str = "cpu",
        precision: Literal["auto", "fp32", "fp16"] = "auto",
        random_weights: bool = False,
        allow_download: bool = False,
        cache_dir: str | None = None,
        seed: int = 0,
    ) -> None:
        """Build the model and load its weights (see the module docstring for the rules).

        Args:
            model: OpenCLIP architecture name (``open_clip.list_models()``).
            pretrained: OpenCLIP weights tag; None means random weights.
            checkpoint: local checkpoint file; overrides ``pretrained`` for the weights
                (``pretrained`` then only picks the image normalisation of those weights).
            device: where to run.
            precision: ``auto`` is fp16 on CUDA and fp32 elsewhere.
            random_weights: build the architecture with seeded random weights.
            allow_download: let OpenCLIP download missing weights.
            cache_dir: weights cache directory; None uses the Hugging Face default.
            seed: seed of the random weights.
        """
        super().__init__(device)
        import open_clip  # heavy (seconds): imported only when this encoder is used

        self._precision = precision
        self.model_name = model
        path = None if random_weights else resolve_checkpoint(checkpoint, CLIP_CHECKPOINT_ENV)
        normalisation = {}
        if random_weights or (path is None and pretrained is None):
            weights, tag = None, f"random-seed{seed}"
        elif path is not None:
            weights, tag = str(path), checkpoint_tag(path)
            # A bare file does not say how its images were normalised; the tag's config does.
            config = open_clip.get_pretrained_cfg(model, pretrained) if pretrained else {}
            normalisation = {f"image_{k}": config[k] for k in ("mean", "std") if k in config}
        else:
            weights = tag = pretrained
            self._check_tag(open_clip, model, pretrained, allow_download, cache_dir)

        try:
            with hub_offline(not allow_download), seeded(seed):
                self._model, _, _ = open_clip.create_model_and_transforms(
                    model, pretrained=weights, cache_dir=cache_dir, device="cpu", **normalisation
                )
                self._tokenizer = open_clip.get_tokenizer(model)
        except Exception as error:  # open_clip raises many kinds; all mean "cannot load"
            cause = str(error).splitlines()[0] if str(error) else type(error).__name__
            if weights is None or weights == str(path):
                raise EncoderError(f"cannot build OpenCLIP {model} ({tag}): {cause}") from error
            raise EncoderError(
                f"OpenCLIP weights {model}/{pretrained} are not available offline ({cause}); "
                + prefetch_hint(model, pretrained, cache_dir)
            ) from error

        self._model.eval().requires_grad_(False)
        preprocess = getattr(self._model.visual, "preprocess_cfg", {}) or {}
        self._mean = torch.tensor(preprocess.get("mean", _DEFAULT_MEAN)).view(1, 3, 1, 1)
        self._std = torch.tensor(preprocess.get("std", _DEFAULT_STD)).view(1, 3, 1, 1)
        size = self._model.visual.image_size
        self.input_size: tuple[int, int] = (size, size) if isinstance(size, int) else tuple(size)
        """Height and width the vision tower takes; crops are resized to it."""
        self.dim = int(self._model.visual.output_dim)
        self.name = f"openclip/{model}/{tag}"
        self._move_to(self.device)

    @staticmethod
    def _check_tag(open_clip, model: str, tag: str, allow_download: bool, cache_dir) -> None:
        """Fail early, with the valid choices, on unknown tags and on URL-only weights."""
        if model not in open_clip.list_models():
            raise EncoderError(f"unknown OpenCLIP model {model!r}; see open_clip.list_models()")
        tags = open_clip.list_pretrained_tags_by_model(model)
        if tag not in tags:
            raise EncoderError(f"unknown weights {tag!r} for OpenCLIP {model}; valid: {tags}")
        config = open_clip.get_pretrained_cfg(model, tag)
        # Weights published only by URL bypass the Hub, so its offline switch cannot stop
        # their download: check OpenCLIP's URL cache ourselves.
        if not allow_download and not config.get("hf_hub") and config.get("url"):
            cached = Path(cache_dir or "~/.cache/clip").expanduser() / Path(config["url"]).name
            if not cached.is_file():
                raise EncoderError(
                    f"OpenCLIP weights {model}/{tag} are not cached at {cached}; "
                    + prefetch_hint(model, tag, cache_dir)
                )

    def _move_to(self, device: torch.device) -> None:
        half = self._precision == "fp16" or (self._precision == "auto" and device.type == "cuda")
        self._dtype = torch.float16 if half else torch.float32
        self._model.to(device=device, dtype=self._dtype)
        self._mean = self._mean.to(device)
        self._std = self._std.to(device)

    @torch.no_grad()
    def encode_image(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` float in [0, 1] → ``[B, dim]`` float32, L2-normalised."""
        images = self._prepare_images(images).float()
        if tuple(images.shape[-2:]) != self.input_size:
            images = F.interpolate(
                images, size=self.input_size, mode="bicubic", antialias=True, align_corners=False
            ).clamp_(0.0, 1.0)
        images = (images - self._mean) / self._std
        features = self._model.encode_image(images.to(self._dtype)).float()
        return F.normalize(features, dim=-1)

    @torch.no_grad()
    def encode_text(self, texts: list[str]) -> Tensor:
        """``N`` strings → ``[N, dim]`` float32, L2-normalised."""
        tokens = self._tokenizer(list(texts)).to(self.device)
        return F.normalize(self._model.encode_text(tokens).float(), dim=-1)
