"""The micro-benchmarks run and report sensible numbers (tiny sizes: this is not a benchmark)."""

from __future__ import annotations

import torch

from lerf_ros.fields.bench import NerfStepBenchmark, benchmark_hash_grid, benchmark_nerf_training
from lerf_ros.fields.hash_grid import HashGridConfig
from lerf_ros.fields.nerf_field import NerfFieldConfig
from lerf_ros.fields.sampling import ProposalSamplerConfig


def test_benchmark_hash_grid_reports_each_backend():
    config = HashGridConfig(num_levels=4, log2_hashmap_size=12, max_resolution=64)
    rows = benchmark_hash_grid(config, num_points=2048, compile_modes=(False,), repeats=1)
    assert [(r["backend"], r["compiled"]) for r in rows] == [("torch", False), ("tcnn", False)]
    assert rows[0]["forward_backward_points_per_s"] > 0
    assert rows[0]["forward_points_per_s"] >= rows[0]["forward_backward_points_per_s"] * 0.5
    if not torch.cuda.is_available():
        assert "error" in rows[1]  # tcnn needs CUDA


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
