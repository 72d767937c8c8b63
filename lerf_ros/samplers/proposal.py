"""nerfacto's proposal sampling: where to evaluate the radiance field along each ray, found by
rounds of cheap proposal density fields, and the near/far range of the rays."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from lerf_ros.rendering.ray_samples import RaySamples
from lerf_ros.samplers.depth_guided import guided_bins
from lerf_ros.samplers.spacing import Spacing
from lerf_ros.samplers.stratified import PDFSampler, UniformSampler

DensityFn = Callable[[torch.Tensor], torch.Tensor]
"""positions [R, S, 3] -> density [R, S, 1]."""


def intersect_aabb(
    origins: torch.Tensor, directions: torch.Tensor, aabb: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Slab test of rays against a box -> near, far [R, 1] (metres, near >= 0).

    Rays that miss the box (or have it behind them) get ``far == near``.
    """
    aabb = aabb.to(origins)
    # A zero component would divide by zero; a tiny one gives +-huge slab distances, which is
    # right whatever its sign (min/max below sort them).
    safe = torch.where(directions.abs() < 1e-12, torch.full_like(directions, 1e-12), directions)
    inv = 1.0 / safe
    t0 = (aabb[0] - origins) * inv
    t1 = (aabb[1] - origins) * inv
    near = torch.minimum(t0, t1).amax(dim=-1, keepdim=True).clamp(min=0.0)
    far = torch.maximum(t0, t1).amin(dim=-1, keepdim=True)
    return near, torch.maximum(far, near)


@dataclass
class ProposalSamplerConfig:
    """nerfacto's proposal sampler, plus how near/far are chosen."""

    num_proposal_samples_per_ray: tuple[int, ...] = (256, 96)
    """Samples of each proposal round."""
    num_nerf_samples_per_ray: int = 48
    """Samples the radiance field evaluates."""
    num_proposal_iterations: int = 2
    """Proposal rounds (one density field each)."""
    single_jitter: bool = True
    """One random offset per ray instead of per sample."""
    spacing: Literal["auto", "linear", "lindisp_piecewise"] = "auto"
    """Spacing of the first round. ``auto``: piecewise lin/disparity for unbounded scenes
    (contraction), linear inside the box for bounded ones."""
    spacing_knee: float = 1.0
    """Where ``lindisp_piecewise`` turns from linear to disparity (metres)."""
    near_plane: float = 0.05
    """Minimum sample distance from the camera (metres)."""
    far_plane: float = 1000.0
    """Farthest sample of unbounded scenes (metres)."""
    use_proposal_weight_anneal: bool = True
    """Sharpen proposal weights as w^a, a going 0 -> 1 over the first iterations."""
    proposal_weights_anneal_slope: float = 10.0
    """Slope of the annealing schedule."""
    proposal_weights_anneal_max_num_iters: int = 1000
    """Iterations until a = 1."""
    proposal_update_every: int = 5
    """After warm-up, proposal fields are run with gradients only every this many steps."""
    proposal_warmup: int = 5000
    """Iterations over which the update interval ramps from 1 to ``proposal_update_every``."""
    depth_guided_fraction: float = 0.5
    """Share of the first proposal round's samples a ray with a depth reading places in a band
    around it (0: depth does not guide sampling)."""


class ProposalNetworkSampler(nn.Module):
    """Uniform samples -> proposal density -> PDF resampling, ``num_proposal_iterations`` times.

    Returns the final samples for the radiance field, and the proposal weights and samples for
    the interlevel loss (append the radiance field's weights and samples before calling it).
    """

    def __init__(self, config: ProposalSamplerConfig, aabb: torch.Tensor, unbounded: bool):
        super().__init__()
        if len(config.num_proposal_samples_per_ray) != config.num_proposal_iterations:
            raise ValueError("need one num_proposal_samples_per_ray entry per proposal iteration")
        self.config = config
        self.register_buffer("aabb", torch.as_tensor(aabb, dtype=torch.float32))
        self.unbounded = unbounded
        kind = config.spacing
        if kind == "auto":
            kind = "lindisp_piecewise" if unbounded else "linear"
        self.initial_sampler = UniformSampler(
            Spacing(kind, config.spacing_knee), config.single_jitter
        )
        self.pdf_sampler = PDFSampler(single_jitter=config.single_jitter)
        self._anneal = 1.0
        self._step = 0
        self._steps_since_update = 0

    def near_far(
        self, origins: torch.Tensor, directions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """[R, 1] sampling range: the box's for bounded scenes, [near, far plane] otherwise."""
        near_plane = self.config.near_plane
        if self.unbounded:
            near = torch.full_like(origins[:, :1], near_plane)
            return near, torch.full_like(near, max(self.config.far_plane, near_plane))
        near, far = intersect_aabb(origins, directions, self.aabb)
        near = near.clamp(min=near_plane)
        return near, torch.maximum(far, near)

    def set_step(self, step: int) -> None:
        """Training iteration, for annealing and the proposal update schedule."""
        self._step = step
        if self.config.use_proposal_weight_anneal:
            frac = min(max(step / self.config.proposal_weights_anneal_max_num_iters, 0.0), 1.0)
            slope = self.config.proposal_weights_anneal_slope
            self._anneal = (slope * frac) / ((slope - 1.0) * frac + 1.0)

    def _update_interval(self) -> float:
        c = self.config
        ramp = c.proposal_update_every * min(self._step / max(c.proposal_warmup, 1), 1.0)
        return min(max(ramp, 1.0), c.proposal_update_every)

    def forward(
        self,
        origins: torch.Tensor,
        directions: torch.Tensor,
        density_fns: Sequence[DensityFn],
        nears: torch.Tensor | None = None,
        fars: torch.Tensor | None = None,
        guides: torch.Tensor | None = None,
        guide_band: float = 0.0,
    ) -> tuple[RaySamples, list[torch.Tensor], list[RaySamples]]:
        """-> (samples for the radiance field, proposal weights list, proposal samples list).

        ``guides`` [R, 1]: measured distance along each ray (0 = none); the first round then
        puts ``depth_guided_fraction`` of a guided ray's samples within ``guide_band`` of it."""
        if len(density_fns) != self.config.num_proposal_iterations:
            raise ValueError("need one density function per proposal iteration")
        if nears is None or fars is None:
            nears, fars = self.near_far(origins, directions)
        # Like nerfstudio, proposal fields get gradients only every few steps (cheaper steps).
        update = (
            not self.training
            or self._step < 10
            or self._steps_since_update + 1 >= self._update_interval()
        )
        weights_list: list[torch.Tensor] = []
        samples_list: list[RaySamples] = []
        samples: RaySamples | None = None
        weights: torch.Tensor | None = None
        counts = [*self.config.num_proposal_samples_per_ray, self.config.num_nerf_samples_per_ray]
        for level, num_samples in enumerate(counts):
            if samples is None:
                samples = self.initial_sampler(origins, directions, nears, fars, num_samples)
                if guides is not None:
                    samples = guided_bins(
                        samples,
                        guides,
                        guide_band,
                        self.config.depth_guided_fraction,
                        self.initial_sampler.spacing,
                        self.training,
                    )
            else:
                assert weights is not None
                annealed = torch.pow(weights, self._anneal)
                samples = self.pdf_sampler(samples, annealed, num_samples)
            if level < len(density_fns):
                with torch.set_grad_enabled(update and torch.is_grad_enabled()):
                    density = density_fns[level](samples.positions)
                weights = samples.weights(density)
                weights_list.append(weights)
                samples_list.append(samples)
        if self.training:
            self._steps_since_update = 0 if update else self._steps_since_update + 1
        assert samples is not None
        return samples, weights_list, samples_list
