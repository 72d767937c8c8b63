"""Intervals along a batch of rays: the data that samplers produce and that volume rendering and
the sampling losses consume.

Rays are ``origins, directions [R, 3]`` (unit directions, metres). Samples are intervals
``[starts, ends]`` in metres along each ray, ``[R, S, 1]``. Each interval also carries its
"spacing" coordinates in [0, 1] (uniform in the sampler's spacing function), where the PDF sampler
draws new samples and the proposal and distortion losses measure distances.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from lerf_ros.rendering.weights import render_weights


class SpacingMap(Protocol):
    """The map from spacing coordinates to metres that the samples were drawn with
    (``lerf_ros.samplers.Spacing``); a Protocol so that this ground-floor data class does not
    import the samplers that sit above it."""

    def to_euclidean(
        self, s: torch.Tensor, near: torch.Tensor, far: torch.Tensor
    ) -> torch.Tensor: ...


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
    spacing: SpacingMap
    """The map between spacing coordinates and metres."""

    @classmethod
    def from_spacing_bins(
        cls,
        origins: torch.Tensor,
        directions: torch.Tensor,
        bins: torch.Tensor,
        nears: torch.Tensor,
        fars: torch.Tensor,
        spacing: SpacingMap,
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
