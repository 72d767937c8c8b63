"""Depth in a training batch: the measured z-depth of each drawn pixel becomes its distance
along the ray, 0 where there is no reading or no depth, and training never draws a held-out
pixel."""

from __future__ import annotations

import math

import numpy as np
import torch

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.cameras.rays import image_rays
from lerf_ros.training.batch import held_out_batch, sample_rays
from lerf_ros.training.config import TrainerConfig
from lerf_ros.training.holdout import is_held_out
from lerf_ros.training.keyframe_store import Keyframe

W, H = 40, 30
INTRINSICS = Intrinsics.from_fov(W, H, math.radians(70.0))


def keyframe(index: int, depth: np.ndarray | None) -> Keyframe:
    c2w = np.eye(4)
    c2w[:3, 3] = (0.1 * index, 0.0, 0.0)
    angle = 0.2 * index  # turn about y so the optical axis is not the world's z
    c2w[:3, :3] = [
        [math.cos(angle), 0, math.sin(angle)],
        [0, 1, 0],
        [-math.sin(angle), 0, math.cos(angle)],
    ]
    image = torch.full((H, W, 3), 40 * index, dtype=torch.uint8)
    return Keyframe(
        id=index,
        image=image,
        intrinsics=INTRINSICS,
        c2w=c2w,
        depth=None if depth is None else torch.as_tensor(depth),
    )


def test_measured_z_becomes_distance_along_each_ray_and_missing_depth_is_zero():
    # Each pixel's depth encodes its own position: z = 1 + row/100 + col/10000 (0 in column 0).
    rows, cols = np.mgrid[0:H, 0:W]
    depth = (1.0 + rows / 100 + cols / 10000).astype(np.float32)
    depth[:, 0] = 0.0
    frames = [keyframe(1, depth), keyframe(2, None)]
    config = TrainerConfig(rays_per_batch=600, frames_per_batch=2)
    batch = sample_rays(frames, config, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert batch.depth is not None and batch.depth.shape == (600, 1)
    for index, frame in enumerate(frames):
        c2w = torch.as_tensor(frame.c2w, dtype=batch.directions.dtype)
        rows_here = slice(300 * index, 300 * (index + 1))
        directions = batch.directions[rows_here]
        z = batch.depth[rows_here, 0] * (directions @ c2w[:3, 2])
        if frame.depth is None:
            assert torch.all(batch.depth[rows_here] == 0)
            continue
        # Recover each ray's pixel from its direction and compare with the depth map there.
        camera = directions @ c2w[:3, :3]
        u = INTRINSICS.fx * camera[:, 0] / camera[:, 2] + INTRINSICS.cx
        v = INTRINSICS.fy * camera[:, 1] / camera[:, 2] + INTRINSICS.cy
        col, row = u.floor().long(), v.floor().long()
        expected = torch.as_tensor(depth)[row, col]
        torch.testing.assert_close(z, expected, atol=1e-4, rtol=1e-4)
        assert not is_held_out(row, col).any()


def test_a_batch_without_depth_keyframes_has_no_depth_target():
    frames = [keyframe(1, None), keyframe(2, None)]
    batch = sample_rays(
        frames, TrainerConfig(rays_per_batch=64), torch.Generator().manual_seed(0), "cpu"
    )
    assert batch.depth is None


def test_the_held_out_batch_is_the_same_rays_every_time_and_only_held_out_pixels():
    frames = [keyframe(1, np.ones((H, W), np.float32)), keyframe(2, None)]
    first = held_out_batch(frames, 40, torch.device("cpu"))
    again = held_out_batch(frames, 40, torch.device("cpu"))
    torch.testing.assert_close(first.directions, again.directions)
    assert len(first) == 40
    for index, frame in enumerate(frames):
        bundle = image_rays(INTRINSICS, frame.c2w)
        grid = bundle.directions.view(H, W, 3)
        held = grid[
            torch.as_tensor(
                is_held_out(*torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij"))
            )
        ]
        for direction in first.directions[20 * index : 20 * (index + 1)]:
            assert torch.isclose(held, direction.to(held.dtype), atol=1e-6).all(-1).any()
