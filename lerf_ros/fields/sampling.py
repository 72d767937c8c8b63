"""Where to evaluate the fields along each ray: nerfacto's proposal sampling.

Rays are ``origins, directions [R, 3]`` (unit directions, metres). Samples are intervals
``[starts, ends]`` in metres along each ray, ``[R, S, 1]``. Each interval also carries its
"spacing" coordinates in [0, 1] (uniform in the sampler's spacing function), where the PDF sampler
draws new samples and the proposal and distortion losses measure distances.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from lerf_ros.rendering.volume import render_weights

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


@dataclass(frozen=True)
class Spacing:
    """A monotone map ``g`` of distances; samples are uniform in ``g`` between near and far."""

    kind: Literal["linear", "lindisp_piecewise"] = "linear"
    """``linear``: uniform in metres. ``lindisp_piecewise``: uniform up to ``knee`` metres, then
    uniform in disparity (nerfstudio's ``UniformLinDispPiecewiseSampler``), for unbounded scenes."""
    knee: float = 1.0
    """Distance (m) where ``lindisp_piecewise`` switches from linear to disparity."""

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """g(t)."""
        if self.kind == "linear":
            return t
        x = t / self.knee
        return torch.where(x < 1.0, x / 2.0, 1.0 - 1.0 / (2.0 * x.clamp(min=1.0)))

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """g^-1(y)."""
        if self.kind == "linear":
            return y
        x = torch.where(y < 0.5, 2.0 * y, 1.0 / (2.0 - 2.0 * y.clamp(max=1.0 - 1e-7)))
        return x * self.knee

    def to_euclidean(self, s: torch.Tensor, near: torch.Tensor, far: torch.Tensor) -> torch.Tensor:
        """Spacing coordinates s in [0, 1] (``[R, K]``) -> metres along the ray."""
        if self.kind == "linear":
            return near + s * (far - near)
        g_near, g_far = self.forward(near), self.forward(far)
        return self.inverse(g_near + s * (g_far - g_near))


@dataclass
class RaySamples:
    """Intervals along a batch of rays."""

    origins: torch.Tensor
    """[R, 3] ray origins (metres)."""
    directions: torch.Tensor
    """[R, 3] unit ray directions."""
    starts: torch.Tensor
    """[R, S, 1] interval starts (metres along the ray)."""
    ends: torch.Tensor
    """[R, S, 1] interval ends."""
    spacing_starts: torch.Tensor
    """[R, S, 1] interval starts in spacing coordinates [0, 1]."""
    spacing_ends: torch.Tensor
    """[R, S, 1] interval ends in spacing coordinates."""
    nears: torch.Tensor
    """[R, 1] where spacing coordinate 0 lies (metres)."""
    fars: torch.Tensor
    """[R, 1] where spacing coordinate 1 lies (metres)."""
    spacing: Spacing
    """The map between spacing coordinates and metres."""

    @classmethod
    def from_spacing_bins(
        cls,
        origins: torch.Tensor,
        directions: torch.Tensor,
        bins: torch.Tensor,
        nears: torch.Tensor,
        fars: torch.Tensor,
        spacing: Spacing,
    ) -> RaySamples:
        """Samples between consecutive spacing ``bins`` [R, S + 1]."""
        bins = bins.detach()
        euclidean = spacing.to_euclidean(bins, nears, fars)
        return cls(
            origins=origins,
            directions=directions,
            starts=euclidean[:, :-1, None],
            ends=euclidean[:, 1:, None],
            spacing_starts=bins[:, :-1, None],
            spacing_ends=bins[:, 1:, None],
            nears=nears,
            fars=fars,
            spacing=spacing,
        )

    @property
    def num_samples(self) -> int:
        """Samples per ray."""
        return self.starts.shape[1]

    @property
    def midpoints(self) -> torch.Tensor:
        """[R, S, 1] distance of the interval centres."""
        return (self.starts + self.ends) / 2.0

    @property
    def positions(self) -> torch.Tensor:
        """[R, S, 3] world points at the interval centres."""
        return self.origins[:, None, :] + self.directions[:, None, :] * self.midpoints

    @property
    def deltas(self) -> torch.Tensor:
        """[R, S, 1] interval lengths (metres)."""
        return self.ends - self.starts

    @property
    def spacing_bins(self) -> torch.Tensor:
        """[R, S + 1] interval edges in spacing coordinates."""
        return torch.cat([self.spacing_starts[..., 0], self.spacing_ends[:, -1:, 0]], dim=-1)

    def weights(self, densities: torch.Tensor) -> torch.Tensor:
        """Volume-rendering weights [R, S, 1] of per-sample densities [R, S, 1]."""
        return render_weights(densities, self.deltas)[0]


def _stratified_bins(
    num_rays: int, num_bins: int, jitter: bool, single_jitter: bool, like: torch.Tensor
) -> torch.Tensor:
    """[R, num_bins + 1] edges in [0, 1]; jittered edges stay inside their stratum."""
    bins = torch.linspace(0.0, 1.0, num_bins + 1, device=like.device, dtype=like.dtype)
    bins = bins.expand(num_rays, -1)
    if not jitter:
        return bins
    shape = (num_rays, 1) if single_jitter else (num_rays, num_bins + 1)
    u = torch.rand(shape, device=like.device, dtype=like.dtype)
    centers = (bins[:, 1:] + bins[:, :-1]) / 2.0
    upper = torch.cat([centers, bins[:, -1:]], dim=-1)
    lower = torch.cat([bins[:, :1], centers], dim=-1)
    return lower + (upper - lower) * u


class UniformSampler(nn.Module):
    """Samples uniform in a spacing function between near and far, jittered while training."""

    def __init__(self, spacing: Spacing, single_jitter: bool = True):
        super().__init__()
        self.spacing = spacing
        self.single_jitter = single_jitter

    def forward(
        self,
        origins: torch.Tensor,
        directions: torch.Tensor,
        nears: torch.Tensor,
        fars: torch.Tensor,
        num_samples: int,
    ) -> RaySamples:
        bins = _stratified_bins(
            origins.shape[0], num_samples, self.training, self.single_jitter, origins
        )
        return RaySamples.from_spacing_bins(origins, directions, bins, nears, fars, self.spacing)


class PDFSampler(nn.Module):
    """Importance sampling: new intervals distributed like the weights of existing ones.

    ``histogram_padding`` is added to every weight first, so empty-looking space keeps a few
    samples (nerfstudio's default 0.01).
    """

    def __init__(
        self,
        histogram_padding: float = 0.01,
        single_jitter: bool = True,
        include_original: bool = False,
    ):
        super().__init__()
        self.histogram_padding = histogram_padding
        self.single_jitter = single_jitter
        self.include_original = include_original

    def forward(
        self, ray_samples: RaySamples, weights: torch.Tensor, num_samples: int, eps: float = 1e-5
    ) -> RaySamples:
        weights = weights[..., 0].detach() + self.histogram_padding
        weights_sum = weights.sum(dim=-1, keepdim=True)
        # Rays whose weights are all ~0 fall back to uniform rather than NaN.
        padding = torch.relu(eps - weights_sum)
        weights = weights + padding / weights.shape[-1]
        cdf = torch.cumsum(weights / (weights_sum + padding), dim=-1).clamp(max=1.0)
        cdf = torch.cat([torch.zeros_like(cdf[:, :1]), cdf], dim=-1)

        num_bins = num_samples + 1
        u = torch.linspace(0.0, 1.0 - 1.0 / num_bins, num_bins, device=cdf.device, dtype=cdf.dtype)
        u = u.expand(cdf.shape[0], -1)
        if self.training:
            shape = (cdf.shape[0], 1) if self.single_jitter else (cdf.shape[0], num_bins)
            u = u + torch.rand(shape, device=cdf.device, dtype=cdf.dtype) / num_bins
        else:
            u = u + 1.0 / (2 * num_bins)
        u = u.contiguous()

        existing = ray_samples.spacing_bins
        last = existing.shape[-1] - 1
        index = torch.searchsorted(cdf.contiguous(), u, side="right")
        below = (index - 1).clamp(0, last)
        above = index.clamp(0, last)
        cdf_below, cdf_above = cdf.gather(-1, below), cdf.gather(-1, above)
        bins_below, bins_above = existing.gather(-1, below), existing.gather(-1, above)
        t = torch.nan_to_num((u - cdf_below) / (cdf_above - cdf_below), 0.0).clamp(0.0, 1.0)
        bins = bins_below + t * (bins_above - bins_below)
        if self.include_original:
            bins = torch.sort(torch.cat([existing, bins], dim=-1), dim=-1).values
        return RaySamples.from_spacing_bins(
            ray_samples.origins,
            ray_samples.directions,
            bins,
            ray_samples.nears,
            ray_samples.fars,
            ray_samples.spacing,
        )


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

    @classmethod
    def cpu_preset(cls) -> ProposalSamplerConfig:
        """Fewer samples per ray for CPU training (each sample is a hash lookup)."""
        return cls(num_proposal_samples_per_ray=(96, 48), num_nerf_samples_per_ray=32)


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
    ) -> tuple[RaySamples, list[torch.Tensor], list[RaySamples]]:
        """-> (samples for the radiance field, proposal weights list, proposal samples list)."""
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
