"""The training loss as a list of named terms (as nerfstudio's ``get_loss_dict``).

Each term maps (render output, :class:`~lerf_ros.training.batch.RayBatch`) to its unweighted
value, or to None when the batch lacks its target (then it contributes nothing). The trainer
sums the weighted values; the unweighted ones are reported by name (``StepStats.losses``,
``EngineStatus.losses``, ``~/status``). A new loss is a new term here plus its target in the
batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import torch
import torch.nn.functional as F

from lerf_ros.rendering.losses import distortion_loss, interlevel_loss
from lerf_ros.training.batch import RayBatch
from lerf_ros.training.config import TrainerConfig

if TYPE_CHECKING:
    from lerf_ros.training.model import RenderOutput


@dataclass(frozen=True)
class LossTerm:
    """One named term of the loss; subclasses compute its value."""

    name: ClassVar[str] = ""
    """Key of the term in the loss dict, ``StepStats.losses`` and ``~/status``."""
    weight: float = 1.0
    """Factor of the term in the total loss."""

    def __call__(self, outputs: RenderOutput, batch: RayBatch) -> torch.Tensor | None:
        """The unweighted scalar value, or None when ``batch`` lacks the target."""
        raise NotImplementedError


@dataclass(frozen=True)
class RgbLoss(LossTerm):
    """Mean squared colour error."""

    name: ClassVar[str] = "rgb"

    def __call__(self, outputs: RenderOutput, batch: RayBatch) -> torch.Tensor | None:
        if batch.rgb is None:
            return None
        # In float32: under autocast the rendered colour may be half precision.
        return F.mse_loss(outputs.rgb.float(), batch.rgb)


@dataclass(frozen=True)
class InterlevelLoss(LossTerm):
    """Proposal loss: the proposal histograms must bound the NeRF's (needs no target)."""

    name: ClassVar[str] = "interlevel"

    def __call__(self, outputs: RenderOutput, batch: RayBatch) -> torch.Tensor | None:
        return interlevel_loss(outputs.weights_list, outputs.samples_list)


@dataclass(frozen=True)
class DistortionLoss(LossTerm):
    """mip-NeRF 360 distortion of the NeRF's weights (needs no target)."""

    name: ClassVar[str] = "distortion"

    def __call__(self, outputs: RenderOutput, batch: RayBatch) -> torch.Tensor | None:
        return distortion_loss(outputs.weights_list, outputs.samples_list)


@dataclass(frozen=True)
class ClipLoss(LossTerm):
    """Huber loss of the rendered CLIP embeddings, summed over dimensions, mean over rays."""

    name: ClassVar[str] = "clip"
    delta: float = 1.25
    """Huber delta (LERF: 1.25)."""

    def __call__(self, outputs: RenderOutput, batch: RayBatch) -> torch.Tensor | None:
        if outputs.clip is None or batch.clip is None:
            return None
        errors = F.huber_loss(outputs.clip.float(), batch.clip, delta=self.delta, reduction="none")
        return errors.sum(dim=-1).mean()


@dataclass(frozen=True)
class DinoLoss(LossTerm):
    """Mean squared error of the rendered DINO features."""

    name: ClassVar[str] = "dino"

    def __call__(self, outputs: RenderOutput, batch: RayBatch) -> torch.Tensor | None:
        if outputs.dino is None or batch.dino is None:
            return None
        return F.mse_loss(outputs.dino.float(), batch.dino)


def _depth_rows(outputs: RenderOutput, batch: RayBatch):
    """(weights [D, S, 1], midpoints, starts, ends, measured [D, 1, 1]) of the NeRF's samples
    on the rays with a depth reading, or None when there are none."""
    if batch.depth is None:
        return None
    rows = batch.depth[:, 0] > 0
    if not bool(rows.any()):
        return None
    samples = outputs.samples_list[-1]
    weights = outputs.weights_list[-1][rows].float()
    measured = batch.depth[rows][:, :, None]
    return weights, samples.midpoints[rows], samples.starts[rows], samples.ends[rows], measured


@dataclass(frozen=True)
class DepthLoss(LossTerm):
    """Line of sight to the measured surface (as Urban Radiance Fields' and DS-NeRF's depth
    terms): the share of a ray's weight *not* within ``sigma`` of the measured distance, with
    a Gaussian falloff so that a ray whose weight is still far off gets a gradient too. 0 for a
    ray that ends sharply at its measurement; 1 for one that puts nothing near it."""

    name: ClassVar[str] = "depth"

    def __call__(self, outputs: RenderOutput, batch: RayBatch) -> torch.Tensor | None:
        rows = _depth_rows(outputs, batch)
        if rows is None:
            return None
        weights, midpoints, _, _, measured = rows
        sigma = max(batch.depth_sigma, 1e-3)
        near = torch.exp(-0.5 * ((midpoints - measured) / sigma) ** 2)
        return (1.0 - (weights * near).sum(dim=(-2, -1))).mean()


@dataclass(frozen=True)
class FreeSpaceLoss(LossTerm):
    """The weight a ray with a depth reading puts in the space it saw empty: samples that end
    more than ``sigma`` in front of the measured surface (the sensor looked through them)."""

    name: ClassVar[str] = "free_space"

    def __call__(self, outputs: RenderOutput, batch: RayBatch) -> torch.Tensor | None:
        rows = _depth_rows(outputs, batch)
        if rows is None:
            return None
        weights, _, _, ends, measured = rows
        in_front = (ends < measured - max(batch.depth_sigma, 1e-3)).float()
        return (weights * in_front).sum(dim=(-2, -1)).mean()


def loss_terms(config: TrainerConfig) -> list[LossTerm]:
    """The terms of LERF's loss with the configured weights, in summation order."""
    return [
        RgbLoss(),
        InterlevelLoss(config.interlevel_loss_weight),
        DistortionLoss(config.distortion_loss_weight),
        ClipLoss(config.clip_loss_weight, delta=config.clip_huber_delta),
        DinoLoss(config.dino_loss_weight),
        DepthLoss(config.depth_loss_weight),
        FreeSpaceLoss(config.free_space_loss_weight),
    ]


def compute_losses(
    terms: Sequence[LossTerm], outputs: RenderOutput, batch: RayBatch
) -> dict[str, torch.Tensor]:
    """The unweighted value of every term that has its target, by name, in term order."""
    names = [term.name for term in terms]
    if len(set(names)) != len(names):
        raise ValueError(f"loss term names repeat: {names}")
    losses: dict[str, torch.Tensor] = {}
    for term in terms:
        value = term(outputs, batch)
        if value is not None:
            losses[term.name] = value
    return losses


def total_loss(terms: Sequence[LossTerm], losses: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum of ``weight * value`` over the terms present in ``losses``, in term order (a fixed
    order keeps a seeded run's numbers reproducible)."""
    weighted = [term.weight * losses[term.name] for term in terms if term.name in losses]
    if not weighted:
        raise ValueError("no loss term has its target in this batch")
    total = weighted[0]
    for value in weighted[1:]:
        total = total + value
    return total
