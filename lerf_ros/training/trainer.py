"""One optimisation step at a time over whatever keyframes exist now (offline or online)."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import torch

from lerf_ros.training.batch import RayBatch, sample_rays
from lerf_ros.training.config import LerfConfig
from lerf_ros.training.keyframe_store import Keyframe
from lerf_ros.training.losses import (
    ClipLoss,
    DinoLoss,
    LossTerm,
    RgbLoss,
    compute_losses,
    loss_terms,
    total_loss,
)
from lerf_ros.training.model import LerfModel
from lerf_ros.training.readiness import Readiness
from lerf_ros.training.recovery import MAX_NONFINITE_IN_A_ROW, GoodState, NonFiniteStep

LOG = logging.getLogger("lerf_ros.training")

DEPTH_GUIDE_SIGMAS = 2.0
"""Depth-guided samples fill the band within this many depth sigmas of the measurement."""


@dataclass
class StepStats:
    """Losses and speed of one step."""

    step: int
    """Optimiser steps taken so far (this one included when it was not skipped)."""
    loss: float
    """The weighted total loss (NaN/inf when the step was skipped)."""
    rays: int
    """Rays trained on (0 when the step was skipped)."""
    seconds: float
    """Wall time of the step."""
    losses: dict[str, float] = field(default_factory=dict)
    """Unweighted value of each loss term that had its target, by name (term order)."""
    rolled_back: bool = False
    """This step ended a run of non-finite steps by restoring the last good state."""

    @property
    def rays_per_second(self) -> float:
        return self.rays / self.seconds if self.seconds > 0 else 0.0

    @property
    def rgb_loss(self) -> float:
        """The colour MSE (0.0 when absent)."""
        return self.losses.get(RgbLoss.name, 0.0)

    @property
    def clip_loss(self) -> float:
        """The CLIP Huber loss (0.0 when the batch had no language targets)."""
        return self.losses.get(ClipLoss.name, 0.0)

    @property
    def dino_loss(self) -> float:
        """The DINO MSE (0.0 when the batch had no DINO targets)."""
        return self.losses.get(DinoLoss.name, 0.0)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but CUDA is not available")
    return device


def make_optimizer(model: LerfModel, config: LerfConfig, device: torch.device):
    params = [
        {"params": model.geometry_parameters(), "name": "geometry"},
        {"params": model.language_parameters(), "name": "language"},
    ]
    kwargs = {"lr": config.trainer.learning_rate, "eps": 1e-15}
    if config.trainer.fused_adam:
        try:
            return torch.optim.Adam(params, fused=True, **kwargs)
        except (RuntimeError, TypeError):  # device/dtype without a fused kernel
            pass
    return torch.optim.Adam(params, **kwargs)


class Trainer:
    """Holds the model and optimiser; :meth:`step` trains on a list of keyframes."""

    def __init__(
        self,
        config: LerfConfig,
        aabb: torch.Tensor,
        clip_dim: int,
        dino_dim: int,
        device: torch.device,
    ):
        self.config = config
        self.device = device
        torch.manual_seed(config.trainer.seed)
        self.model = LerfModel(config, aabb, clip_dim, dino_dim).to(device)
        self.optimizer = make_optimizer(self.model, config, device)
        self.use_amp = device.type == "cuda" and config.trainer.mixed_precision
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.loss_terms: list[LossTerm] = loss_terms(config.trainer)
        """The named terms summed into the loss (weights from the config)."""
        self.generator = torch.Generator(device="cpu").manual_seed(config.trainer.seed)
        self.step_count = 0
        """Optimiser steps taken (never goes back, not even at a rollback)."""
        self.skipped_steps = 0
        """Steps whose loss or gradients were not finite (their update was skipped)."""
        self.nonfinite_in_a_row = 0
        self.good_state = GoodState()
        """The last good weights and optimiser state, for a rollback (the initial ones until
        the first good step)."""
        self.good_state.keep_if_due(self.model, self.optimizer, 0)
        self.first_nonfinite: NonFiniteStep | None = None
        """The first step of the current (or last) run of non-finite steps."""
        self.readiness = Readiness(config.readiness)
        """The convergence test on held-out rays, probed every ``check_every`` steps."""

    def learning_rate(self) -> float:
        c = self.config.trainer
        progress = min(max(self.step_count / max(c.decay_steps, 1), 0.0), 1.0)
        scheduled = c.learning_rate * (c.final_learning_rate / c.learning_rate) ** progress
        return scheduled * self.good_state.lr_scale

    def depth_sigma(self) -> float:
        """Metres: the band the depth terms want the weight in, at this step."""
        c = self.config.trainer
        progress = min(max(self.step_count / max(c.depth_sigma_steps, 1), 0.0), 1.0)
        return c.depth_sigma_start * (c.depth_sigma_end / c.depth_sigma_start) ** progress

    def sample_batch(self, keyframes: list[Keyframe]) -> RayBatch:
        """Random rays from up to ``frames_per_batch`` keyframes, with their targets
        (:func:`~lerf_ros.training.batch.sample_rays` with this trainer's generator)."""
        batch = sample_rays(keyframes, self.config.trainer, self.generator, self.device)
        batch.depth_sigma = self.depth_sigma()
        return batch

    def step(self, keyframes: list[Keyframe]) -> StepStats:
        """One optimisation step on rays drawn from ``keyframes``."""
        started = time.perf_counter()
        self.model.train()
        self.model.sampler.set_step(self.step_count)
        batch = self.sample_batch(keyframes)
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate()
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.use_amp):
            out = self.model.render(
                batch.origins,
                batch.directions,
                batch.scale_per_distance,
                batch.language_mask,
                depth_guides=batch.depth,
                guide_band=DEPTH_GUIDE_SIGMAS * batch.depth_sigma,
            )
            losses = compute_losses(self.loss_terms, out, batch)
            loss = total_loss(self.loss_terms, losses)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        # The one host sync of a step: the total, the gradient norm and every term together.
        # Under fp16 the scaler skips steps with non-finite gradients itself (and lowers its
        # scale): that is routine, not divergence.
        gradients = [p.grad for p in self.model.parameters() if p.grad is not None]
        norm = loss.new_zeros(())
        if not self.use_amp and gradients:
            norm = torch.nn.utils.get_total_norm(gradients)
        values = torch.stack(
            [loss.detach().float(), norm.float(), *(v.detach().float() for v in losses.values())]
        )
        value, gradient_norm, *term_values = values.cpu().tolist()
        terms = dict(zip(losses, term_values, strict=True))
        finite = math.isfinite(value) and math.isfinite(gradient_norm)
        rolled_back = False
        if finite:
            self.nonfinite_in_a_row = 0
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.step_count += 1
            self.good_state.keep_if_due(self.model, self.optimizer, self.step_count)
            if self.readiness.due(self.step_count):
                self.readiness.probe(self.model, keyframes, self.step_count)
        else:
            rolled_back = self._skip(NonFiniteStep(self.step_count, value, gradient_norm, terms))
        return StepStats(
            step=self.step_count,
            loss=value if finite else math.nan,
            losses=terms,
            rays=len(batch) if finite else 0,
            seconds=time.perf_counter() - started,
            rolled_back=rolled_back,
        )

    def _skip(self, record: NonFiniteStep) -> bool:
        """Skip a non-finite step's update (never write NaN into the weights); after
        ``MAX_NONFINITE_IN_A_ROW`` of them, roll back to the last good state. True when it
        rolled back."""
        self.optimizer.zero_grad(set_to_none=True)
        self.nonfinite_in_a_row += 1
        self.skipped_steps += 1
        if self.nonfinite_in_a_row == 1:
            self.first_nonfinite = record
            LOG.warning("%s", record.describe())
        if self.nonfinite_in_a_row < MAX_NONFINITE_IN_A_ROW:
            return False
        self.good_state.roll_back(self.model, self.optimizer)
        self.nonfinite_in_a_row = 0
        LOG.warning(
            "%d non-finite steps in a row: rolled back to the state of step %d, learning rate "
            "x%.3g (rollback %d)",
            MAX_NONFINITE_IN_A_ROW,
            self.good_state.step,
            self.good_state.lr_scale,
            self.good_state.rollbacks,
        )
        return True
