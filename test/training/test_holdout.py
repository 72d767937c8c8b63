"""The held-out pixel grid: training never draws it, readiness measures exactly it."""

from __future__ import annotations

import torch

from lerf_ros.training.holdout import (
    HOLDOUT_STRIDE,
    avoid_held_out,
    held_out_pixels,
    is_held_out,
)


def test_the_grid_is_one_pixel_per_block_and_training_draws_never_land_on_it():
    rows, cols = held_out_pixels(96, 128)
    assert len(rows) == (96 // HOLDOUT_STRIDE) * (128 // HOLDOUT_STRIDE)
    assert is_held_out(rows, cols).all()
    every_row, every_col = torch.meshgrid(torch.arange(96), torch.arange(128), indexing="ij")
    assert int(is_held_out(every_row, every_col).sum()) == len(rows)
    moved = avoid_held_out(every_row, every_col, torch.tensor(128))
    assert not is_held_out(every_row, moved).any()
    assert ((moved != every_col).sum()).item() == len(rows)  # only held-out pixels moved
    assert int(moved.max()) < 128


def test_widths_per_frame_wrap_each_row_at_its_own_image_width():
    rows = torch.tensor([[3, 3], [3, 3]])
    cols = torch.tensor([[5, 13], [5, 13]])
    widths = torch.tensor([[6], [128]])
    moved = avoid_held_out(rows, cols, widths)
    assert moved.tolist() == [[0, 14 % 6], [6, 14]]
