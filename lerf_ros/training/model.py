"""The LERF model: nerfacto-style geometry and colour + a scale-conditioned language field.

Language and DINO heads read the NeRF's sample positions and weights *detached*: their
gradients never move geometry (as in LERF). They are evaluated only at the highest-weight
samples of each ray (LERF: 24).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace

import torch
from torch import nn

from lerf_ros.fields.language_field import LanguageField
from lerf_ros.fields.nerf_field import DensityField, NerfField
from lerf_ros.rendering.ray_samples import RaySamples
from lerf_ros.rendering.volume import (
    gather_samples,
    render_accumulation,
    render_depth,
    render_embedding,
    render_rgb,
    top_k_samples,
)
from lerf_ros.samplers.proposal import ProposalNetworkSampler
from lerf_ros.training.config import LerfConfig


@dataclass
class RenderOutput:
    """What rendering a batch of rays gives."""

    rgb: torch.Tensor
    """[R, 3]"""
    depth: torch.Tensor
    """[R, 1] distance along the ray (metres)."""
    accumulation: torch.Tensor
    """[R, 1] opacity."""
    weights_list: list[torch.Tensor]
    """Proposal weights, then the NeRF's (for the interlevel loss)."""
    samples_list: list[RaySamples]
    """Proposal samples, then the NeRF's."""
    clip: torch.Tensor | None = None
    """[R', clip_dim] rendered, renormalised CLIP embeddings of the language rays."""
    dino: torch.Tensor | None = None
    """[R', dino_dim] rendered DINO features of the language rays."""


class LerfModel(nn.Module):
    """NeRF + proposal networks + language field over one scene box."""

    def __init__(self, config: LerfConfig, aabb: torch.Tensor, clip_dim: int, dino_dim: int):
        super().__init__()
        self.config = config
        aabb = torch.as_tensor(aabb, dtype=torch.float32)
        self.register_buffer("aabb", aabb)
        unbounded = config.scene.contraction == "contract"
        nerf_config = _with_contraction(config.nerf, config.scene.contraction)
        self.nerf = NerfField(nerf_config, aabb)
        self.proposals = nn.ModuleList(
            DensityField(_with_contraction(c, config.scene.contraction), aabb)
            for c in config.proposals
        )
        # Samples are spaced linearly up to the knee, then in disparity: put the knee at the
        # scene's size in metres (nerfstudio's 1.0 assumes scenes rescaled to a unit cube).
        sampler_config = replace(config.sampler, spacing_knee=config.scene.radius)
        self.sampler = ProposalNetworkSampler(sampler_config, aabb, unbounded=unbounded)
        language_config = _with_contraction(config.language, config.scene.contraction)
        language_config.dino_dim = dino_dim
        self.language = LanguageField(language_config, aabb, clip_dim=clip_dim)
        background = config.trainer.background
        self.register_buffer(
            "background",
            torch.tensor(background if background is not None else (0.0, 0.0, 0.0)),
        )

    def geometry_parameters(self) -> list[nn.Parameter]:
        return [*self.nerf.parameters(), *self.proposals.parameters()]

    def language_parameters(self) -> list[nn.Parameter]:
        return list(self.language.parameters())

    def render(
        self,
        origins: torch.Tensor,
        directions: torch.Tensor,
        scale_per_distance: torch.Tensor | None = None,
        language_mask: torch.Tensor | None = None,
        language_samples: int | None = None,
        fixed_scale: float | None = None,
        depth_guides: torch.Tensor | None = None,
        guide_band: float = 0.0,
    ) -> RenderOutput:
        """Render rays [R, 3]. With ``scale_per_distance`` [R] (metres of language scale per
        metre along the ray, as in training) or ``fixed_scale`` (metres at every sample, as
        LERF renders a query), also render CLIP/DINO for the rays in ``language_mask``.
        ``depth_guides`` [R, 1] (measured distance, 0 = none) guide sampling within
        ``guide_band`` metres of it."""
        samples, weights_list, samples_list = self.sampler(
            origins,
            directions,
            [proposal.forward for proposal in self.proposals],
            guides=depth_guides,
            guide_band=guide_band,
        )
        density, rgb = self.nerf(samples.positions, samples.directions[:, None, :])
        weights = samples.weights(density)
        weights_list.append(weights)
        samples_list.append(samples)
        out = RenderOutput(
            rgb=render_rgb(weights, rgb, self.background),
            depth=render_depth(weights, samples),
            accumulation=render_accumulation(weights),
            weights_list=weights_list,
            samples_list=samples_list,
        )
        if scale_per_distance is None and fixed_scale is None:
            return out
        rows = (
            torch.arange(len(origins), device=origins.device)
            if language_mask is None
            else torch.nonzero(language_mask, as_tuple=False).squeeze(-1)
        )
        if rows.numel() == 0:
            return out
        k = language_samples or self.config.trainer.language_samples_per_ray
        # Detached: the language field must not move geometry.
        index, top_weights = top_k_samples(weights[rows].detach(), k)
        positions = gather_samples(samples.positions[rows].detach(), index)
        distances = gather_samples(samples.midpoints[rows].detach(), index)
        if scale_per_distance is not None:
            scales = scale_per_distance[rows].view(-1, 1, 1) * distances
        else:
            scales = torch.full_like(distances, float(fixed_scale))
        features = self.language.encode(positions)
        clip = self.language.clip_from_features(features, scales)
        out.clip = render_embedding(top_weights, clip, normalise=True)
        dino = self.language.dino_from_features(features)
        if dino is not None:
            out.dino = render_embedding(top_weights, dino, normalise=False)
        return out

    @torch.no_grad()
    def render_chunked(
        self,
        origins: torch.Tensor,
        directions: torch.Tensor,
        chunk: int = 4096,
        depth_method: str = "expected",
    ) -> dict[str, torch.Tensor]:
        """Inference rendering of many rays: rgb, depth, accumulation (no language).

        ``depth_method="median"`` gives surface points without the "flying pixels" that the
        expected depth puts between foreground and background at silhouettes.

        Renders in eval mode (no sample jitter, proposal schedule untouched) whatever mode the
        model is in, and restores that mode."""
        parts: dict[str, list[torch.Tensor]] = {"rgb": [], "depth": [], "accumulation": []}
        with eval_mode(self):
            for start in range(0, len(origins), chunk):
                sl = slice(start, start + chunk)
                out = self.render(origins[sl], directions[sl])
                parts["rgb"].append(out.rgb)
                if depth_method == "median":
                    parts["depth"].append(
                        render_depth(out.weights_list[-1], out.samples_list[-1], method="median")
                    )
                else:
                    parts["depth"].append(out.depth)
                parts["accumulation"].append(out.accumulation)
        return {key: torch.cat(value) for key, value in parts.items()}

    @torch.no_grad()
    def render_clip_chunked(
        self,
        origins: torch.Tensor,
        directions: torch.Tensor,
        scale: float,
        chunk: int = 2048,
    ) -> dict[str, torch.Tensor]:
        """Inference rendering with CLIP at ``scale`` metres: rgb, depth, accumulation, clip
        (in eval mode). One pass: the language samples all take the query's scale, as in LERF,
        so the depth needs no render of its own first."""
        parts: dict[str, list[torch.Tensor]] = {
            "rgb": [],
            "depth": [],
            "accumulation": [],
            "clip": [],
        }
        with eval_mode(self):
            for start in range(0, len(origins), chunk):
                sl = slice(start, start + chunk)
                out = self.render(origins[sl], directions[sl], fixed_scale=scale)
                parts["rgb"].append(out.rgb)
                parts["depth"].append(out.depth)
                parts["accumulation"].append(out.accumulation)
                parts["clip"].append(out.clip)
        return {key: torch.cat(value) for key, value in parts.items()}


@contextmanager
def eval_mode(module: nn.Module):
    """Put ``module`` in eval mode for the block, then back in the mode it was in."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def _with_contraction(config, kind: str):
    """A copy of a field config whose contraction kind is the scene's."""
    from copy import deepcopy

    config = deepcopy(config)
    config.contraction.kind = kind
    return config
