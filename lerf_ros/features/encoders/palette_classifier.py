"""Per-pixel recognition of the synthetic scenes' materials by colour.

Used by the colour-keyed test encoders. It must survive Lambertian shading, which scales a
pixel's rgb by one factor, and not know whether the renderer wrote linear or sRGB values:

- Chromaticity (rgb / (r + g + b)) is unchanged by any scaling, in linear and in sRGB
  space alike (sRGB of k·a is k'·sRGB(a) away from black). Each coloured palette entry gets
  two prototypes, its linear and its sRGB chromaticity, and a coloured pixel takes the
  nearest one. The closest prototypes of different entries are 0.06 apart (table vs orange
  mug), far more than 8-bit quantisation moves a lit pixel.
- Neutral entries (saturation below ``NEUTRAL_SATURATION``: the grey floor and the white
  wall) have no hue to go by. A neutral pixel goes to the brightest neutral entry when it
  is bright (max channel ≥ ``BRIGHT``) or carries that entry's warm tint, else to the
  darkest neutral entry. A strongly shaded, untinted white therefore reads as grey: a
  known limit of this test encoder.
- Pixels too dark to carry colour (max channel < ``DARK``) count as the darkest neutral.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lerf_ros.data.synthetic.palette import ALL, PaletteEntry

NEUTRAL_SATURATION = 0.15
"""(max - min) / max below which a colour counts as neutral (grey/white)."""
BRIGHT = 0.8
"""Max channel at or above which a neutral pixel is the bright neutral (white)."""
WARM_TINT = 0.02
"""(r - b) / max at or above which a neutral pixel carries the white wall's warm tint."""
DARK = 0.02
"""Max channel below which a pixel carries no usable colour."""


def srgb_encode(linear: Tensor) -> Tensor:
    """Linear rgb in [0, 1] → sRGB-encoded rgb in [0, 1] (IEC 61966-2-1)."""
    linear = linear.clamp(0.0, 1.0)
    return torch.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear.pow(1 / 2.4) - 0.055)


def _saturation(rgb: Tensor, dim: int) -> Tensor:
    high = rgb.amax(dim=dim)
    return (high - rgb.amin(dim=dim)) / high.clamp_min(1e-6)


class PaletteClassifier:
    """Labels each pixel with the index of its palette entry."""

    def __init__(self, entries: tuple[PaletteEntry, ...] = ALL) -> None:
        self.entries = entries
        albedos = torch.tensor([entry.albedo for entry in entries], dtype=torch.float32)
        neutral = _saturation(albedos, dim=1) < NEUTRAL_SATURATION
        coloured = torch.nonzero(~neutral).flatten()
        neutrals = torch.nonzero(neutral).flatten()
        if len(coloured) == 0 or len(neutrals) == 0:
            raise ValueError("the palette needs at least one coloured and one neutral entry")
        prototypes = torch.cat([albedos[coloured], srgb_encode(albedos[coloured])])
        self._prototypes = prototypes / prototypes.sum(dim=1, keepdim=True)
        self._prototype_labels = torch.cat([coloured, coloured])
        brightness = albedos[neutrals].amax(dim=1)
        self._bright_neutral = int(neutrals[brightness.argmax()])
        self._dark_neutral = int(neutrals[brightness.argmin()])

    def __len__(self) -> int:
        return len(self.entries)

    def classify(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` float rgb in [0, 1] → ``[B, H, W]`` long palette indices."""
        rgb = images.float()
        chroma = rgb / rgb.sum(dim=1, keepdim=True).clamp_min(1e-6)
        prototypes = self._prototypes.to(rgb.device)
        # |c - p|^2 = |c|^2 - 2 c.p + |p|^2; |c|^2 is the same for every prototype, so the
        # argmin needs only a 3 -> P channel product, not a [.., P, 3] difference tensor.
        distances = torch.einsum("bchw,pc->bphw", chroma, -2.0 * prototypes)
        distances += prototypes.square().sum(dim=1)[:, None, None]
        labels = self._prototype_labels.to(rgb.device)[distances.argmin(dim=1)]

        high = rgb.amax(dim=1)
        warm = (rgb[:, 0] - rgb[:, 2]) / high.clamp_min(1e-6)
        bright_neutral = (high >= BRIGHT) | (warm >= WARM_TINT)
        neutral_label = torch.where(bright_neutral, self._bright_neutral, self._dark_neutral)
        is_neutral = (_saturation(rgb, dim=1) < NEUTRAL_SATURATION) | (high < DARK)
        labels = torch.where(is_neutral, neutral_label, labels)
        return torch.where(high < DARK, self._dark_neutral, labels)

    def probabilities(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` → ``[B, K, H, W]`` one-hot class maps (K = palette size)."""
        labels = self.classify(images)
        one_hot = torch.nn.functional.one_hot(labels, num_classes=len(self.entries))
        return one_hot.permute(0, 3, 1, 2).float()

    def area_fractions(self, images: Tensor) -> Tensor:
        """``[B, 3, H, W]`` → ``[B, K]``: share of each image's pixels per palette entry."""
        labels = self.classify(images).flatten(1)
        counts = torch.zeros(len(labels), len(self.entries), device=labels.device)
        counts.scatter_add_(1, labels, torch.ones_like(labels, dtype=counts.dtype))
        return counts / labels.shape[1]
