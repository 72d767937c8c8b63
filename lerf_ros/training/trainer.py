"""One optimisation step at a time over whatever keyframes exist now (offline or online)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lerf_ros.cameras.rays import rays_for_pixels
from lerf_ros.rendering.losses import distortion_loss, interlevel_loss
from lerf_ros.training.config import LerfConfig
from lerf_ros.training.keyframe_store import Keyframe
from lerf_ros.training.model import LerfModel

MAX_NONFINITE_IN_A_ROW = 20
"""Non-finite losses in a row after which a step raises ``FloatingPointError`` (skipped
before that: one bad batch must not stop an online run)."""


@dataclass
class StepStats:
    """Losses and speed of one step."""

    step: int
    loss: float
    rgb_loss: float
    clip_loss: float
    dino_loss: float
    rays: int
    seconds: float

    @property
    def rays_per_second(self) -> float:
        return self.rays / self.seconds if self.seconds > 0 else 0.0


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
        self.generator = torch.Generator(device="cpu").manual_seed(config.trainer.seed)
        self.step_count = 0
        self.skipped_steps = 0
        """Steps whose loss was not finite (their update was skipped)."""
        self.nonfinite_in_a_row = 0

    def learning_rate(self) -> float:
        c = self.config.trainer
        progress = min(max(self.step_count / max(c.decay_steps, 1), 0.0), 1.0)
        return c.learning_rate * (c.final_learning_rate / c.learning_rate) ** progress

    def sample_batch(self, keyframes: list[Keyframe]):
        """Random rays from up to ``frames_per_batch`` keyframes, with their targets.

        The random numbers are drawn on the CPU (reproducible) and moved to the device
        once; per keyframe only gathers follow, so a GPU step waits for no host sync here.
        """
        c = self.config.trainer
        count = min(len(keyframes), c.frames_per_batch)
        picks = torch.randperm(len(keyframes), generator=self.generator)[:count].tolist()
        frames = [keyframes[i] for i in picks]
        per_frame = max(1, c.rays_per_batch // count)
        sizes = torch.tensor([f.image.shape[:2] for f in frames], dtype=torch.float64)
        uniform = torch.rand(3, count, per_frame, generator=self.generator, dtype=torch.float64)
        device = self.device
        rows = (uniform[0] * sizes[:, :1]).long().to(device)  # [count, per_frame]
        cols = (uniform[1] * sizes[:, 1:]).long().to(device)
        positions = uniform[2].float().to(device)  # pyramid position of each ray
        u, v = cols.float() + 0.5, rows.float() + 0.5
        rgb, scale_per_distance, language, clip_t, dino_t = [], [], [], [], []
        for i, frame in enumerate(frames):
            rgb.append(frame.image[rows[i], cols[i]])
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
        return {
            "origins": bundle.origins.to(device),
            "directions": bundle.directions.to(device),
            "rgb": torch.cat(rgb).to(device).float() / 255.0,
            "scale_per_distance": torch.cat(scale_per_distance),
            "language": torch.cat(language),
            "clip": torch.cat(clip_t) if clip_t else None,
            "dino": torch.cat(dino_t) if dino_t and len(dino_t) == len(clip_t) else None,
        }

    def step(self, keyframes: list[Keyframe]) -> StepStats:
        """One optimisation step on rays drawn from ``keyframes``."""
        started = time.perf_counter()
        c = self.config.trainer
        self.model.train()
        self.model.sampler.set_step(self.step_count)
        batch = self.sample_batch(keyframes)
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate()
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.use_amp):
            out = self.model.render(
                batch["origins"],
                batch["directions"],
                batch["scale_per_distance"],
                batch["language"],
            )
            rgb_loss = F.mse_loss(out.rgb.float(), batch["rgb"])
            loss = rgb_loss
            loss = loss + c.interlevel_loss_weight * interlevel_loss(
                out.weights_list, out.samples_list
            )
            loss = loss + c.distortion_loss_weight * distortion_loss(
                out.weights_list, out.samples_list
            )
            clip_loss = torch.zeros((), device=self.device)
            dino_loss = torch.zeros((), device=self.device)
            if out.clip is not None and batch["clip"] is not None:
                clip_loss = (
                    F.huber_loss(
                        out.clip.float(), batch["clip"], delta=c.clip_huber_delta, reduction="none"
                    )
                    .sum(dim=-1)
                    .mean()
                )
                loss = loss + c.clip_loss_weight * clip_loss
            if out.dino is not None and batch["dino"] is not None:
                dino_loss = F.mse_loss(out.dino.float(), batch["dino"])
                loss = loss + c.dino_loss_weight * dino_loss
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        value = float(loss.detach())  # the one host sync of a step
        finite = math.isfinite(value)
        if finite:
            self.nonfinite_in_a_row = 0
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.step_count += 1
        else:
            # Skip the update rather than write NaN into every weight; only a run of such
            # steps means training diverged.
            self.optimizer.zero_grad(set_to_none=True)
            self.nonfinite_in_a_row += 1
            self.skipped_steps += 1
            if self.nonfinite_in_a_row >= MAX_NONFINITE_IN_A_ROW:
                raise FloatingPointError(
                    f"training diverged: {self.nonfinite_in_a_row} non-finite losses in a row "
                    f"(step {self.step_count})"
                )
        return StepStats(
            step=self.step_count,
            loss=value,
            rgb_loss=float(rgb_loss.detach()),
            clip_loss=float(clip_loss.detach()),
            dino_loss=float(dino_loss.detach()),
            rays=len(batch["origins"]) if finite else 0,
            seconds=time.perf_counter() - started,
        )
