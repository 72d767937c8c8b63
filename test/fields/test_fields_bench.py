"""The micro-benchmarks run and report sensible numbers (tiny sizes: this is not a benchmark)."""

from __future__ import annotations

import torch

from lerf_ros.fields.bench import benchmark_hash_grid
from lerf_ros.fields.hash_grid import HashGridConfig


def test_benchmark_hash_grid_reports_each_backend():
    config = HashGridConfig(num_levels=4, log2_hashmap_size=12, max_resolution=64)
    rows = benchmark_hash_grid(config, num_points=2048, compile_modes=(False,), repeats=1)
    assert [(r["backend"], r["compiled"]) for r in rows] == [("torch", False), ("tcnn", False)]
    assert rows[0]["forward_backward_points_per_s"] > 0
    assert rows[0]["forward_points_per_s"] >= rows[0]["forward_backward_points_per_s"] * 0.5
    if not torch.cuda.is_available():
        assert "error" in rows[1]  # tcnn needs CUDA
