"""Multi-resolution hash grid encoding (instant-ngp) with a tiny-cuda-nn and a pure PyTorch backend.

Both backends implement the same function: tiny-cuda-nn's ``HashGrid`` with linear interpolation.
The PyTorch backend copies tcnn's conventions exactly so that parameters are interchangeable:

- level ``l`` has scale ``base_resolution * per_level_scale**l - 1`` and ``ceil(scale) + 1``
  vertices per axis (``base_resolution`` counts vertices, not cells);
- a point ``x`` in [0, 1] sits at ``x * scale + 0.5`` in level coordinates;
- a level whose dense grid fits into the table is indexed densely (``x + y*res + z*res^2``), all
  finer levels use the spatial hash ``x*1 ^ y*2654435761 ^ z*805459861`` (uint32);
- every level owns ``min(next_multiple(res^3, 8), 2^log2_hashmap_size)`` rows of one flat
  ``[rows, features_per_level]`` parameter table, in level order;
- the output is level-major: ``[N, num_levels * features_per_level]``.

CPU design of the PyTorch backend (a custom autograd function; choices measured on 2 cores):

- rows and trilinear weights of all 8 corners and all levels are computed once, level-major
  (``[L, 8, N]``), in int32 where possible, and saved for the backward pass;
- per level, one gather fetches all 8 corners and the corners are accumulated in place (no
  ``[N, 8, L, F]`` tensor); rows of two float32 are gathered as one 64-bit word;
- the backward pass scatters with one ``bincount`` per feature, which beat ``index_add_``
  (2-3x), a complex64 ``index_add_`` (1.3x) and embedding's backward (~10x), also for 8 features;
- ``torch.compile`` of this module works but was slower than eager on the CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

HASH_PRIMES = (1, 2654435761, 805459861)
"""instant-ngp's per-axis hash multipliers."""

POINTS_PER_CHUNK = 65536
"""The PyTorch backend encodes this many points at a time (keeps its temporaries in cache)."""


@dataclass
class HashGridConfig:
    """Multi-resolution hash grid settings (tiny-cuda-nn ``HashGrid`` vocabulary)."""

    num_levels: int = 16
    """Number of grid resolutions."""
    features_per_level: int = 2
    """Features stored per grid vertex and level (tcnn supports 1, 2, 4, 8)."""
    log2_hashmap_size: int = 19
    """log2 of the maximum number of rows per level; finer levels are hashed into this many."""
    base_resolution: int = 16
    """Vertices per axis of the coarsest level."""
    max_resolution: int = 2048
    """Target vertices per axis of the finest level; the per-level growth factor follows from it."""
    backend: Literal["auto", "torch", "tcnn"] = "auto"
    """``auto`` uses tiny-cuda-nn when it imports and the module runs on CUDA, else PyTorch."""
    interpolation: Literal["linear"] = "linear"
    """Interpolation between the 8 surrounding vertices (only trilinear is implemented)."""
    init_scale: float = 1e-4
    """Table entries start uniform in [-init_scale, init_scale] (instant-ngp's choice)."""

    @property
    def per_level_scale(self) -> float:
        """Growth factor between consecutive levels (nerfstudio's formula)."""
        if self.num_levels == 1:
            return 1.0
        return math.exp(
            (math.log(self.max_resolution) - math.log(self.base_resolution)) / (self.num_levels - 1)
        )

    @property
    def out_dim(self) -> int:
        """Width of the encoding."""
        return self.num_levels * self.features_per_level

    def tcnn_config(self) -> dict:
        """The same encoding as a tiny-cuda-nn ``encoding_config``."""
        return {
            "otype": "HashGrid",
            "n_levels": self.num_levels,
            "n_features_per_level": self.features_per_level,
            "log2_hashmap_size": self.log2_hashmap_size,
            "base_resolution": self.base_resolution,
            "per_level_scale": self.per_level_scale,
            "interpolation": "Linear",
        }


@dataclass(frozen=True)
class GridLayout:
    """Per-level geometry of the flat table, computed once from a config."""

    scales: tuple[float, ...]
    """Level coordinate = x * scale + 0.5."""
    resolutions: tuple[int, ...]
    """Vertices per axis."""
    sizes: tuple[int, ...]
    """Table rows owned by each level."""
    offsets: tuple[int, ...]
    """First table row of each level."""
    hashed: tuple[bool, ...]
    """Whether the level uses the spatial hash (else dense indexing)."""

    @property
    def num_rows(self) -> int:
        """Total rows of the table."""
        return self.offsets[-1] + self.sizes[-1]

    @property
    def num_dense(self) -> int:
        """Dense levels come first: resolution grows with the level."""
        return sum(not h for h in self.hashed)


def grid_layout(config: HashGridConfig) -> GridLayout:
    """tcnn's level geometry, in float32 arithmetic like its host code."""
    log2_growth = np.float32(np.log2(config.per_level_scale))
    table_rows = 1 << config.log2_hashmap_size
    scales, resolutions, sizes, offsets, hashed = [], [], [], [], []
    offset = 0
    for level in range(config.num_levels):
        scale = np.float32(
            np.exp2(np.float32(level) * log2_growth) * np.float32(config.base_resolution)
        ) - np.float32(1.0)
        resolution = int(np.ceil(scale)) + 1
        dense_rows = resolution**3
        size = min(-(-dense_rows // 8) * 8, table_rows)
        scales.append(float(scale))
        resolutions.append(resolution)
        sizes.append(size)
        offsets.append(offset)
        hashed.append(dense_rows > size)
        offset += size
    return GridLayout(
        tuple(scales), tuple(resolutions), tuple(sizes), tuple(offsets), tuple(hashed)
    )


class _CornerIndexer:
    """Computes the table rows and trilinear weights of the 8 corners around every point.

    Output tensors are ``[L, 8, N]`` (level, corner, point): level-major so that the dense and the
    hashed levels are contiguous slices and each level's part of the table is visited in one go.
    Integer work is done in int32 where it cannot overflow: only the low ``log2_hashmap_size``
    bits of the hash matter, so the primes can be reduced modulo the (power-of-two) table size.
    """

    def __init__(self, layout: GridLayout, log2_hashmap_size: int, device: torch.device):
        self.num_dense = layout.num_dense
        self.num_levels = len(layout.scales)
        table_rows = 1 << log2_hashmap_size
        self.hash_mask = table_rows - 1
        max_vertex = max(layout.resolutions) + 1
        fits_int32 = max_vertex * table_rows < 2**31 and layout.num_rows < 2**31
        self.index_dtype = torch.int32 if fits_int32 else torch.int64
        primes = [p & self.hash_mask if fits_int32 else p for p in HASH_PRIMES]
        multipliers = [
            primes if hashed else (1, r, r * r)
            for r, hashed in zip(layout.resolutions, layout.hashed, strict=True)
        ]
        # [3, L, 1]: per axis, the multiplier of the integer vertex coordinate of every level.
        multipliers = torch.tensor(multipliers, dtype=self.index_dtype, device=device)
        self.multipliers = multipliers.T.contiguous()[..., None]
        self.scales = torch.tensor(layout.scales, dtype=torch.float32, device=device)[:, None, None]
        offsets = torch.tensor(layout.offsets, dtype=self.index_dtype, device=device)
        self.offsets = offsets[:, None]
        self.dense_sizes = offsets.new_tensor(layout.sizes[: self.num_dense])[:, None]

    @property
    def device(self) -> torch.device:
        """Where the lookup tensors live."""
        return self.offsets.device

    def __call__(self, positions: torch.Tensor, rows: torch.Tensor, weights: torch.Tensor):
        """Fills rows [L, 8, N] and weights [L, 8, N] for positions [N, 3] (clamped to [0, 1])."""
        x = positions.to(torch.float32).clamp(0.0, 1.0).T  # [3, N]
        # addcmul rounds like tcnn's fmaf(scale, x, 0.5), so cells and fractions match it exactly.
        level_pos = torch.addcmul(self.scales.new_tensor(0.5), self.scales, x[None])  # [L, 3, N]
        cell = level_pos.floor()
        frac = level_pos.sub_(cell)
        cell = cell.to(self.index_dtype)

        # Per axis: the index term and the weight of the lower and of the upper vertex.
        terms, axis_weights = [], []
        for d in range(3):
            lower = cell[:, d] * self.multipliers[d]
            terms.append((lower, lower + self.multipliers[d]))
            axis_weights.append((1.0 - frac[:, d], frac[:, d]))
        for ix in range(2):
            for iy in range(2):
                xy_row = self._combine(terms[0][ix], terms[1][iy])
                xy_weight = axis_weights[0][ix] * axis_weights[1][iy]
                for iz in range(2):
                    corner = ix | iy << 1 | iz << 2
                    self._combine(xy_row, terms[2][iz], out=rows[:, corner])
                    torch.mul(xy_weight, axis_weights[2][iz], out=weights[:, corner])

        nd = self.num_dense
        # tcnn takes dense indices modulo the level size; only vertices past x = 1 wrap, and by
        # less than one size (res + res^2 < res^3), so one conditional subtraction is the modulo.
        dense, sizes = rows[:nd], self.dense_sizes[..., None]
        dense.sub_(sizes * (dense >= sizes))
        rows[nd:].bitwise_and_(self.hash_mask)
        rows.add_(self.offsets[..., None])

    def _combine(self, a: torch.Tensor, b: torch.Tensor, out: torch.Tensor | None = None):
        """Dense levels add the axis terms, hashed levels xor them."""
        nd = self.num_dense
        out = torch.empty_like(a) if out is None else out
        torch.add(a[:nd], b[:nd], out=out[:nd])
        torch.bitwise_xor(a[nd:], b[nd:], out=out[nd:])
        return out


def _gather_rows(table: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """``table[rows]`` for flat ``rows``: [M, F]."""
    if table.shape[1] == 2 and table.dtype == torch.float32 and table.is_contiguous():
        # A row of two float32 gathered as one 64-bit word: ~2x faster than a [M, 2] gather.
        return (
            table.view(torch.float64).view(-1).index_select(0, rows).view(torch.float32).view(-1, 2)
        )
    return table.index_select(0, rows)


class _HashGridFunction(torch.autograd.Function):
    """Trilinear hash grid lookup whose backward scatters into the table with ``bincount``.

    Positions receive no gradient: the fields never optimise sample positions through the grid.
    """

    @staticmethod
    def forward(ctx, table: torch.Tensor, positions: torch.Tensor, indexer: _CornerIndexer):
        num_levels, n = indexer.num_levels, positions.shape[0]
        rows = torch.empty(num_levels, 8, n, dtype=indexer.index_dtype, device=positions.device)
        weights = torch.empty(num_levels, 8, n, dtype=torch.float32, device=positions.device)
        out = table.new_empty(num_levels, n, table.shape[1])
        # Chunks of points keep the temporaries cache-sized (and reused by the allocator); within
        # a chunk, levels go one by one so that a level's part of the table stays in cache.
        for start in range(0, n, POINTS_PER_CHUNK):
            chunk = slice(start, min(start + POINTS_PER_CHUNK, n))
            chunk_rows, chunk_weights = rows[:, :, chunk], weights[:, :, chunk]
            indexer(positions[chunk], chunk_rows, chunk_weights)
            chunk_weights = chunk_weights.to(table.dtype)[..., None]
            chunk_n = chunk.stop - chunk.start
            for level in range(num_levels):
                gathered = _gather_rows(table, chunk_rows[level].reshape(-1))
                gathered = gathered.view(8, chunk_n, -1)
                level_out = out[level, chunk]
                torch.mul(gathered[0], chunk_weights[level, 0], out=level_out)
                for corner in range(1, 8):
                    level_out.addcmul_(gathered[corner], chunk_weights[level, corner])
        ctx.save_for_backward(rows, weights)
        ctx.table_shape = table.shape
        # [L, N, F] -> [N, L * F]: tcnn's level-major feature order.
        return out.permute(1, 0, 2).reshape(n, -1)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        rows, weights = ctx.saved_tensors
        num_rows, num_features = ctx.table_shape
        n = grad_out.shape[0]
        # [N, L * F] -> [F, L, 1, N], broadcasting over the 8 corners of the saved tensors
        # (contiguous: a strided operand makes the multiplication below ~4x slower).
        grad_features = grad_out.reshape(n, -1, num_features).permute(2, 1, 0).contiguous()
        grad_features = grad_features.unsqueeze(2)
        rows = rows.view(-1)
        corner_grad = torch.empty_like(weights, dtype=grad_out.dtype)
        columns = []
        for f in range(num_features):
            torch.mul(weights, grad_features[f], out=corner_grad)
            columns.append(torch.bincount(rows, corner_grad.view(-1), minlength=num_rows))
        return torch.stack(columns, dim=1).to(grad_out.dtype), None, None


class HashGridEncoding(nn.Module):
    """Maps points in [0, 1]^3 ([N, 3]) to ``[N, num_levels * features_per_level]`` features."""

    def __init__(self, config: HashGridConfig):
        super().__init__()
        if config.interpolation != "linear":
            raise ValueError(f"unsupported interpolation {config.interpolation!r}")
        self.config = config
        self.layout = grid_layout(config)
        self.out_dim = config.out_dim
        self._tcnn = _make_tcnn_encoding(config) if config.backend in ("auto", "tcnn") else None
        if config.backend == "tcnn" and self._tcnn is None:
            raise RuntimeError("backend='tcnn' requested but tinycudann is not importable")
        if self._tcnn is not None:
            # tcnn owns the table (same layout as ours: [rows, features], level by level).
            self.table = None
        else:
            self.table = nn.Parameter(
                torch.empty(self.layout.num_rows, config.features_per_level).uniform_(
                    -config.init_scale, config.init_scale
                )
            )
        self._indexer: _CornerIndexer | None = None

    @property
    def backend(self) -> str:
        """The backend in use: ``tcnn`` or ``torch``."""
        return "tcnn" if self._tcnn is not None else "torch"

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        if self._tcnn is not None:
            if positions.device.type != "cuda":
                raise RuntimeError("the tcnn hash grid backend runs on CUDA only")
            return self._tcnn(positions).to(torch.float32)
        if self._indexer is None or self._indexer.device != positions.device:
            self._indexer = _CornerIndexer(
                self.layout, self.config.log2_hashmap_size, positions.device
            )
        return _HashGridFunction.apply(self.table, positions.detach(), self._indexer)


def _make_tcnn_encoding(config: HashGridConfig) -> nn.Module | None:
    """A tcnn encoding when tinycudann imports and CUDA is available, else None."""
    if not torch.cuda.is_available():
        return None
    try:
        import tinycudann as tcnn
    except ImportError:
        return None
    return tcnn.Encoding(n_input_dims=3, encoding_config=config.tcnn_config())
