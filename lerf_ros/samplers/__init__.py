"""Where to evaluate the fields along each ray: spacing functions, stratified and PDF sampling,
and nerfacto's proposal network sampler. Sits above ``rendering`` (whose ``RaySamples`` it
produces) and below ``training``; the density fields are passed in as plain callables. ``bench``
(not imported here) times a whole training step with the fields of ``lerf_ros.fields``."""

from lerf_ros.samplers.proposal import (
    DensityFn,
    ProposalNetworkSampler,
    ProposalSamplerConfig,
    intersect_aabb,
)
from lerf_ros.samplers.spacing import Spacing
from lerf_ros.samplers.stratified import PDFSampler, UniformSampler

__all__ = [
    "DensityFn",
    "PDFSampler",
    "ProposalNetworkSampler",
    "ProposalSamplerConfig",
    "Spacing",
    "UniformSampler",
    "intersect_aabb",
]
