"""LERF's multi-scale crop pyramid: CLIP embeddings of image crops at 7 tile sizes.

Layout (kerrj/lerf, reproduced exactly): tile sides ``linspace(0.05, 0.5, 7) x image
height`` (truncated to whole pixels); stride ``tile x interp(tile, [0.05, 0.15], [1, 0.5])``
(no overlap for the smallest tiles, 50 % from 0.15 up); crops laid like a convolution with
zero padding ``tile // 2``. Per 640x480 frame that is 567+234+154+80+48+35+30 = 1148 crops.
Border crops reach half outside the image; LERF fills that with black, which
``padding_mode`` can change.

Supervision targets are read back with :meth:`PyramidFeatures.sample`: bilinear between the
nearest crop centres within a level, linear between the two nearest levels.
Pixel coordinates follow :mod:`lerf_ros.features.images`.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.ops import roi_align

from lerf_ros.features.encoders.base import ImageTextEncoder
from lerf_ros.features.images import ImageLike, as_image_tensor

_ROUNDING_SLACK = 1e-6  # so that e.g. 480 x 0.35 truncates to 168, not 167.99999 → 167


@dataclass
class PyramidConfig:
    """How crops are laid out, resized and batched."""

    smallest_tile: float = 0.05
    """Side of the smallest crops, as a fraction of the image height."""
    largest_tile: float = 0.5
    """Side of the largest crops, as a fraction of the image height."""
    num_levels: int = 7
    """Number of tile sizes, evenly spaced between the smallest and the largest."""
    stride_ramp: tuple[float, float] = (0.05, 0.15)
    """Tile fractions over which stride / tile falls linearly from 1 to ``overlap_stride``."""
    overlap_stride: float = 0.5
    """Stride / tile for tiles at or above the end of ``stride_ramp`` (0.5: 50 % overlap)."""
    crop_size: int = 224
    """Side in pixels each crop is resized to before encoding (CLIP's input size)."""
    batch_size: int = 64
    """Crops encoded per encoder call; bounds the memory of a pyramid computation."""
    padding_mode: Literal["zeros", "reflect", "replicate"] = "zeros"
    """What border crops see outside the image; ``zeros`` (black) is LERF's behaviour."""
    half_crops_on_cuda: bool = True
    """Extract crops in fp16 on CUDA (halves their memory); features are stored in fp16."""

    def tile_fractions(self) -> list[float]:
        """Tile side of each level as a fraction of the image height."""
        return np.linspace(self.smallest_tile, self.largest_tile, self.num_levels).tolist()

    def stride_ratio(self, tile_fraction: float) -> float:
        """Stride / tile side for a tile of ``tile_fraction``."""
        return float(np.interp(tile_fraction, self.stride_ramp, (1.0, self.overlap_stride)))

    def cache_key(self) -> str:
        """Hash of the settings that change the features (not the batch size)."""
        settings = asdict(self)
        del settings["batch_size"]
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LevelLayout:
    """The grid of crops of one pyramid level."""

    tile_fraction: float
    """Nominal tile side / image height (the level's scale)."""
    tile_px: int
    """Crop side in pixels."""
    stride_px: int
    """Distance between neighbouring crop centres in pixels."""
    rows: int
    """Crop centres down the image."""
    cols: int
    """Crop centres across the image."""
    first_centre: tuple[float, float]
    """``(v, u)`` of the top-left crop centre; centre ``(r, c)`` is that + stride x (r, c)."""

    @property
    def num_crops(self) -> int:
        return self.rows * self.cols

    def centres(self) -> tuple[Tensor, Tensor]:
        """``v`` of each row of centres ``[rows]`` and ``u`` of each column ``[cols]``."""
        v = self.first_centre[0] + self.stride_px * torch.arange(self.rows, dtype=torch.float64)
        u = self.first_centre[1] + self.stride_px * torch.arange(self.cols, dtype=torch.float64)
        return v, u


def pyramid_layout(height: int, width: int, config: PyramidConfig) -> list[LevelLayout]:
    """Crop grids of every level for a ``height x width`` image (LERF's layout)."""
    layouts = []
    for fraction in config.tile_fractions():
        tile = max(1, int(height * fraction + _ROUNDING_SLACK))
        stride = max(1, int(tile * config.stride_ratio(fraction) + _ROUNDING_SLACK))
        padding = tile // 2
        # Output size of a convolution with kernel `tile`, stride `stride`, padding `padding`.
        rows = (height + 2 * padding - tile) // stride + 1
        cols = (width + 2 * padding - tile) // stride + 1
        # Its first window spans [-padding, tile - padding): centre tile / 2 - padding.
        first = tile / 2 - padding
        layouts.append(LevelLayout(fraction, tile, stride, rows, cols, (first, first)))
    return layouts


def crop_boxes(layouts: list[LevelLayout]) -> tuple[Tensor, Tensor]:
    """Every crop as a box ``[x0, y0, x1, y1]`` (float64 ``[K, 4]``) and its level ``[K]``.

    Crops are ordered level by level, row-major within a level.
    """
    boxes, levels = [], []
    for index, layout in enumerate(layouts):
        v, u = layout.centres()
        grid_v, grid_u = torch.meshgrid(v, u, indexing="ij")
        half = layout.tile_px / 2
        corners = [grid_u - half, grid_v - half, grid_u + half, grid_v + half]
        boxes.append(torch.stack([corner.flatten() for corner in corners], dim=1))
        levels.append(torch.full((layout.num_crops,), index, dtype=torch.long))
    return torch.cat(boxes), torch.cat(levels)


def encode_crops(
    image: Tensor, boxes: Tensor, encoder: ImageTextEncoder, config: PyramidConfig
) -> Tensor:
    """Cut ``boxes`` out of ``image`` ``[3, H, W]``, resize, encode in batches → ``[K, dim]``."""
    device = encoder.device
    half = config.half_crops_on_cuda and device.type == "cuda"
    image = image.to(device, torch.float32)
    # Pad once by the largest half-tile so that every box lies inside the padded image.
    pad = math.ceil(float((boxes[:, 2] - boxes[:, 0]).max()) / 2) + 1
    mode = config.padding_mode
    if mode == "reflect" and pad >= min(image.shape[-2:]):
        mode = "replicate"  # reflection cannot pad by more than the image's side
    if mode == "zeros":
        padded = F.pad(image[None], (pad, pad, pad, pad))
    else:
        padded = F.pad(image[None], (pad, pad, pad, pad), mode=mode)

    features = []
    for start in range(0, len(boxes), config.batch_size):
        batch = boxes[start : start + config.batch_size] + pad
        rois = torch.cat([torch.zeros(len(batch), 1, dtype=batch.dtype), batch], dim=1)
        # roi_align with aligned=True uses our pixel convention (centres at i + 0.5) and,
        # with adaptive sampling, averages several samples per output pixel when shrinking.
        # It runs in fp32: fp16 box corners would be off by up to 0.5 px beyond 1024 px.
        crops = roi_align(
            padded,
            rois.to(device, torch.float32),
            output_size=config.crop_size,
            spatial_scale=1.0,
            sampling_ratio=-1,
            aligned=True,
        )
        crops = crops.clamp_(0.0, 1.0)
        features.append(encoder.encode_image(crops.half() if half else crops))
    return torch.cat(features)


@dataclass
class PyramidFeatures:
    """The crop embeddings of one image, level by level."""

    levels: list[Tensor]
    """Per level, ``[dim, rows, cols]`` fp16 L2-normalised crop embeddings."""
    layouts: list[LevelLayout]
    """Per level, where its crops lie."""
    image_size: tuple[int, int]
    """``(height, width)`` of the image."""

    @property
    def dim(self) -> int:
        return int(self.levels[0].shape[0])

    @property
    def device(self) -> torch.device:
        return self.levels[0].device

    def scales(self) -> Tensor:
        """Tile side / image height of each level ``[L]``."""
        return torch.tensor([layout.tile_fraction for layout in self.layouts])

    def tile_fraction_at(self, s: Tensor) -> Tensor:
        """Tile side / image height that pyramid position ``s`` in [0, 1] stands for."""
        lower, weight = self._level_position(s)
        scales = self._scales if s.device == self._scales.device else self.scales().to(s.device)
        upper = (lower + 1).clamp(max=len(self.levels) - 1)
        return torch.lerp(scales[lower], scales[upper], weight)

    def _level_position(self, s: Tensor) -> tuple[Tensor, Tensor]:
        """The lower of the two levels around ``s`` and the weight of the upper one."""
        position = s.float().clamp(0.0, 1.0) * (len(self.levels) - 1)
        lower = position.floor().long().clamp(0, max(len(self.levels) - 2, 0))
        return lower, position - lower

    def __post_init__(self) -> None:
        # All levels in one row-major table [crops, dim], the levels being views of it: a
        # batch of targets is then 8 gathers (4 neighbours x 2 levels) for every ray at
        # once, with no per-level loop and no host sync (it ran ~15 ms per keyframe and
        # bounded GPU training at ~16k rays/s).
        dim = int(self.levels[0].shape[0])
        rows = [level.reshape(dim, -1).T for level in self.levels]
        self._table = torch.cat(rows).contiguous()
        counts = [len(r) for r in rows]
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.levels = [
            self._table[o : o + n].T.unflatten(1, (lay.rows, lay.cols))
            for o, n, lay in zip(offsets, counts, self.layouts, strict=True)
        ]
        geometry = [
            (o, lay.rows, lay.cols, lay.stride_px, *lay.first_centre)
            for o, lay in zip(offsets, self.layouts, strict=True)
        ]
        self._geometry = torch.tensor(geometry, dtype=torch.float32, device=self._table.device)
        """Per level: table offset, rows, cols, stride, first centre v, first centre u."""
        self._scales = self.scales().to(self._table.device)

    def sample(self, u: Tensor, v: Tensor, s: Tensor) -> Tensor:
        """Embedding targets ``[N, dim]`` float32 (renormalised) at pixels ``(u, v)``.

        ``s`` in [0, 1) is the per-ray pyramid position: ``s = 0`` is the smallest level,
        ``s = 1`` the largest, linear in between (the levels are evenly spaced, so so is the
        tile size). Within a level the two nearest rows and columns of crop centres are
        interpolated bilinearly (clamped at the outermost centres); between levels linearly.
        """
        u = u.to(self.device, torch.float32).flatten()
        v = v.to(self.device, torch.float32).flatten()
        lower, weight = self._level_position(s.to(self.device).flatten())
        upper = (lower + 1).clamp(max=len(self.levels) - 1)
        result = torch.lerp(
            self._bilinear(lower, u, v), self._bilinear(upper, u, v), weight[:, None]
        )
        return F.normalize(result, dim=-1)

    def _bilinear(self, level: Tensor, u: Tensor, v: Tensor) -> Tensor:
        """Bilinear blend of the 4 crop centres around each ``(u, v)`` in ``level`` (per ray)."""
        offset, rows, cols, stride, first_v, first_u = self._geometry[level].unbind(-1)
        row, row_next, row_weight = _neighbours(v, first_v, stride, rows)
        col, col_next, col_weight = _neighbours(u, first_u, stride, cols)
        base, cols = offset.long(), cols.long()

        def at(r: Tensor, c: Tensor) -> Tensor:
            return self._table[base + r * cols + c].float()

        row_weight, col_weight = row_weight[:, None], col_weight[:, None]
        top = torch.lerp(at(row, col), at(row, col_next), col_weight)
        bottom = torch.lerp(at(row_next, col), at(row_next, col_next), col_weight)
        return torch.lerp(top, bottom, row_weight)

    def to(self, device: torch.device | str) -> PyramidFeatures:
        return PyramidFeatures(
            [level.to(device) for level in self.levels], self.layouts, self.image_size
        )

    def to_tensors(self) -> dict[str, Tensor]:
        """Plain tensors only (safe to store and reload with ``weights_only=True``)."""
        # A compact copy per level, not a view of the whole table (which would be saved whole).
        tensors = {
            f"level_{index}": level.cpu().clone(memory_format=torch.contiguous_format)
            for index, level in enumerate(self.levels)
        }
        tensors["layout"] = torch.tensor(
            [
                [
                    lay.tile_fraction,
                    lay.tile_px,
                    lay.stride_px,
                    lay.rows,
                    lay.cols,
                    *lay.first_centre,
                ]
                for lay in self.layouts
            ],
            dtype=torch.float64,
        )
        tensors["image_size"] = torch.tensor(self.image_size)
        return tensors

    @classmethod
    def from_tensors(cls, tensors: dict[str, Tensor]) -> PyramidFeatures:
        """Inverse of :meth:`to_tensors`; raises ``KeyError``/``ValueError`` on bad input."""
        layouts = [
            LevelLayout(
                row[0], int(row[1]), int(row[2]), int(row[3]), int(row[4]), (row[5], row[6])
            )
            for row in tensors["layout"].tolist()
        ]
        levels = [tensors[f"level_{index}"] for index in range(len(layouts))]
        for level, layout in zip(levels, layouts, strict=True):
            if tuple(level.shape[1:]) != (layout.rows, layout.cols):
                raise ValueError("pyramid level shape does not match its layout")
        height, width = tensors["image_size"].tolist()
        return cls(levels, layouts, (int(height), int(width)))


def _neighbours(coordinate: Tensor, first: Tensor, stride: Tensor, count: Tensor):
    """Indices of the two nearest crop centres along one axis and the blend weight (the
    level's geometry given per coordinate)."""
    position = torch.minimum(((coordinate - first) / stride).clamp(min=0.0), count - 1)
    lower = torch.minimum(position.floor(), (count - 2).clamp(min=0)).long()
    upper = torch.minimum(lower + 1, (count - 1).long())
    return lower, upper, (position - lower).clamp(0.0, 1.0)


# no_grad rather than inference_mode: inference tensors would reject the in-place updates
# a trainer may make to its targets.
@torch.no_grad()
def compute_pyramid(
    image: ImageLike, encoder: ImageTextEncoder, config: PyramidConfig | None = None
) -> PyramidFeatures:
    """Encode every crop of ``image`` (uint8 ``H x W x 3`` or float) into a pyramid."""
    config = config or PyramidConfig()
    image = as_image_tensor(image)
    height, width = image.shape[-2:]
    layouts = pyramid_layout(height, width, config)
    boxes, level_of_crop = crop_boxes(layouts)
    embeddings = encode_crops(image, boxes, encoder, config).to(torch.float16)
    levels = []
    for index, layout in enumerate(layouts):
        chosen = embeddings[(level_of_crop == index).to(embeddings.device)]
        levels.append(chosen.T.reshape(-1, layout.rows, layout.cols).contiguous())
    return PyramidFeatures(levels, layouts, (int(height), int(width)))
