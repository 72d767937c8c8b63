"""The pixels training never draws: readiness measures the field on them (held-out rays).

A fixed sparse grid (one pixel in every 8 x 8 block, 1/64 of each keyframe) is kept out of
training; a drawn pixel that lands on it moves one column to the right. The grid is the same
for every keyframe and every run, so no bookkeeping follows keyframes around, and the error on
it is an honest estimate of how well the field predicts a view it was not fitted to.
"""

from __future__ import annotations

import torch

HOLDOUT_STRIDE = 8
"""One held-out pixel per ``HOLDOUT_STRIDE`` x ``HOLDOUT_STRIDE`` block."""

HOLDOUT_OFFSET = (3, 5)
"""(row, column) of the held-out pixel inside its block (away from the block's edges)."""


def is_held_out(rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """Whether each pixel (integer rows, cols) is held out."""
    row, col = HOLDOUT_OFFSET
    return (rows % HOLDOUT_STRIDE == row) & (cols % HOLDOUT_STRIDE == col)


def avoid_held_out(rows: torch.Tensor, cols: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
    """``cols`` with every held-out pixel moved one column right (wrapping at ``widths``, the
    image width of each row of pixels: [count, 1] or a scalar)."""
    return torch.where(is_held_out(rows, cols), (cols + 1) % widths, cols)


def held_out_pixels(height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows, cols) of every held-out pixel of a ``width`` x ``height`` image."""
    rows = torch.arange(HOLDOUT_OFFSET[0], height, HOLDOUT_STRIDE)
    cols = torch.arange(HOLDOUT_OFFSET[1], width, HOLDOUT_STRIDE)
    grid_rows, grid_cols = torch.meshgrid(rows, cols, indexing="ij")
    return grid_rows.flatten(), grid_cols.flatten()
