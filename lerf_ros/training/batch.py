"""The rays of one training step and their targets, drawn at random from the keyframes."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lerf_ros.cameras.rays import rays_for_pixels
from lerf_ros.training.config import TrainerConfig
from lerf_ros.training.holdout import avoid_held_out, held_out_pixels
from lerf_ros.training.keyframe_store import Keyframe


@dataclass
class RayBatch:
    """Ray inputs of one step and the targets the loss terms compare the render with.

    A target is None when no keyframe of the batch has it; the loss terms that need it then
    contribute nothing (:mod:`lerf_ros.training.losses`).
    """

    origins: torch.Tensor
    """[R, 3] ray origins in the fixed frame (metres)."""
    directions: torch.Tensor
    """[R, 3] unit ray directions."""
    scale_per_distance: torch.Tensor
    """[R] language scale (metres) per metre along the ray: the crop size of the ray's pyramid
    position at unit distance (0 for rays of keyframes without a pyramid)."""
    language_mask: torch.Tensor
    """[R] bool: the rays whose keyframe has language targets (the rows of ``clip``/``dino``)."""
    rgb: torch.Tensor | None = None
    """[R, 3] colour in [0, 1]."""
    clip: torch.Tensor | None = None
    """[R', clip_dim] CLIP embeddings of the crops around the language rays (R' = rays in
    ``language_mask``)."""
    dino: torch.Tensor | None = None
    """[R', dino_dim] DINO features at the language rays; None unless every keyframe with a
    pyramid also has a DINO map."""
    depth: torch.Tensor | None = None
    """[R, 1] measured distance along the ray (metres, as ``RenderOutput.depth``), 0 where
    the keyframe has no reading; None when no keyframe of the batch has depth."""
    depth_sigma: float = 0.0
    """Metres: how close to the measured distance the depth terms want the ray's weight
    (shrinks as training goes on; the trainer sets it)."""

    def __len__(self) -> int:
        return len(self.origins)


def sample_rays(
    keyframes: list[Keyframe],
    config: TrainerConfig,
    generator: torch.Generator,
    device: torch.device,
) -> RayBatch:
    """Random rays from up to ``frames_per_batch`` keyframes, with their targets.

    The random numbers are drawn on the CPU from ``generator`` (reproducible) and moved to the
    device once; per keyframe only gathers follow, so a GPU step waits for no host sync here.
    """
    count = min(len(keyframes), config.frames_per_batch)
    picks = torch.randperm(len(keyframes), generator=generator)[:count].tolist()
    frames = [keyframes[i] for i in picks]
    per_frame = max(1, config.rays_per_batch // count)
    sizes = torch.tensor([f.image.shape[:2] for f in frames], dtype=torch.float64)
    uniform = torch.rand(3, count, per_frame, generator=generator, dtype=torch.float64)
    rows = (uniform[0] * sizes[:, :1]).long()  # [count, per_frame]
    cols = avoid_held_out(rows, (uniform[1] * sizes[:, 1:]).long(), sizes[:, 1:].long())
    return pixel_batch(frames, rows, cols, uniform[2].float(), device)


def held_out_batch(keyframes: list[Keyframe], max_rays: int, device: torch.device) -> RayBatch:
    """The same rays of the held-out pixel grid (:mod:`~lerf_ros.training.holdout`) of each
    keyframe every time, at most ``max_rays`` in all, with their language targets at the
    pyramid's smallest crops (where a small object is most of the crop): what readiness
    measures the field on."""
    counts = []
    grids = []
    for frame in keyframes:
        h, w = frame.image.shape[:2]
        grids.append(held_out_pixels(h, w))
        counts.append(len(grids[-1][0]))
    per_frame = max(1, min(min(counts), max_rays // max(len(keyframes), 1)))
    rows, cols = [], []
    for grid_rows, grid_cols in grids:
        pick = torch.linspace(0, len(grid_rows) - 1, per_frame).round().long()
        rows.append(grid_rows[pick])
        cols.append(grid_cols[pick])
    positions = torch.zeros(len(keyframes), per_frame)
    return pixel_batch(keyframes, torch.stack(rows), torch.stack(cols), positions, device)


def pixel_batch(
    frames: list[Keyframe],
    rows: torch.Tensor,
    cols: torch.Tensor,
    positions: torch.Tensor,
    device: torch.device,
) -> RayBatch:
    """The rays through pixels ``rows``, ``cols`` ([count, per_frame] integers, one row per
    frame) with their targets; ``positions`` [count, per_frame] in [0, 1] pick each ray's
    place in its keyframe's crop pyramid (scale)."""
    count, per_frame = rows.shape
    rows, cols = rows.to(device), cols.to(device)
    positions = positions.to(device)
    u, v = cols.float() + 0.5, rows.float() + 0.5
    rgb, scale_per_distance, language, clip_t, dino_t, z = [], [], [], [], [], []
    with_depth = any(f.depth is not None for f in frames)
    for i, frame in enumerate(frames):
        rgb.append(frame.image[rows[i], cols[i]])
        if with_depth:
            z.append(
                frame.depth[rows[i], cols[i]]
                if frame.depth is not None
                else torch.zeros(per_frame, device=device)
            )
        h = frame.image.shape[0]
        if frame.pyramid is not None:
            pyramid = frame.pyramid
            tile = pyramid.tile_fraction_at(positions[i].to(pyramid.device))
            clip_t.append(pyramid.sample(u[i], v[i], positions[i]).to(device))
            if frame.dense is not None:
                dino_t.append(frame.dense.sample(u[i], v[i]).float().to(device))
            language.append(torch.ones(per_frame, dtype=torch.bool, device=device))
        else:
            tile = torch.zeros(per_frame, device=device)
            language.append(torch.zeros(per_frame, dtype=torch.bool, device=device))
        # A crop covering `tile` of the image height spans tile*h/fy metres per metre
        # of distance: the language scale of a sample grows with its distance.
        scale_per_distance.append(tile.to(device) * h / frame.intrinsics.fy)
    index = torch.arange(count, device=device).repeat_interleave(per_frame)
    bundle = rays_for_pixels(
        [f.intrinsics for f in frames],
        torch.stack([torch.as_tensor(f.c2w) for f in frames]),
        index,
        u.flatten(),
        v.flatten(),
    )
    directions = bundle.directions.to(device)
    depth = None
    if with_depth:
        # Sensors measure z along the optical axis; the render measures distance along the ray.
        forwards = torch.stack([torch.as_tensor(f.c2w[:3, 2]) for f in frames]).to(directions)
        cosine = (directions * forwards[index]).sum(-1).clamp(min=1e-3)
        depth = (torch.cat(z).to(directions) / cosine)[:, None]
    return RayBatch(
        origins=bundle.origins.to(device),
        directions=directions,
        depth=depth,
        scale_per_distance=torch.cat(scale_per_distance),
        language_mask=torch.cat(language),
        rgb=torch.cat(rgb).to(device).float() / 255.0,
        clip=torch.cat(clip_t) if clip_t else None,
        # DINO rows must line up with the CLIP rows: only when every language frame has one.
        dino=torch.cat(dino_t) if dino_t and len(dino_t) == len(clip_t) else None,
    )
