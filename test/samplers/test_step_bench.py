"""The training-step micro-benchmark runs and reports sensible numbers (tiny sizes: this is not a
benchmark)."""

from __future__ import annotations

from lerf_ros.fields.hash_grid import HashGridConfig
from lerf_ros.fields.nerf_field import NerfFieldConfig
from lerf_ros.samplers import ProposalSamplerConfig
from lerf_ros.samplers.bench import NerfStepBenchmark, benchmark_nerf_training


def test_benchmark_nerf_training_reports_rays_per_second():
    bench = NerfStepBenchmark(
        nerf=NerfFieldConfig(grid=HashGridConfig(num_levels=4, log2_hashmap_size=12)),
        sampler=ProposalSamplerConfig(
            num_proposal_samples_per_ray=(8, 8), num_nerf_samples_per_ray=4
        ),
        num_rays=64,
        steps=1,
    )
    result = benchmark_nerf_training(bench)
    assert result["rays_per_s"] > 0 and result["samples_per_ray"] == [8, 8, 4]
