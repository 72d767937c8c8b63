"""Micro-benchmark of the hash grid backends (the radiance-field training step's benchmark is
:mod:`lerf_ros.samplers.bench`, as it needs the sampler above this package).

Called from ``benchmarks/``; each returns plain dicts so results can be printed or saved as JSON.
Timings take the best of ``repeats`` runs (the least disturbed by other processes) after warm-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, replace

import torch

from lerf_ros.fields.hash_grid import HashGridConfig, HashGridEncoding


def best_time(fn: Callable[[], object], repeats: int, device: torch.device) -> float:
    """Best wall time of ``fn`` over ``repeats`` runs, after one warm-up run."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def _ray_points(num_rays: int, samples_per_ray: int, device: torch.device) -> torch.Tensor:
    """Points in [0, 1]^3 along random rays, like a sampler's output (spatially coherent)."""
    origins = torch.rand(num_rays, 1, 3, device=device)
    directions = torch.nn.functional.normalize(torch.randn(num_rays, 1, 3, device=device), dim=-1)
    t = torch.sort(torch.rand(num_rays, samples_per_ray, 1, device=device), dim=1).values * 0.5
    return (origins + directions * t).clamp(0.0, 1.0).reshape(-1, 3)


def benchmark_hash_grid(
    config: HashGridConfig | None = None,
    num_points: int = 2**16,
    backends: tuple[str, ...] = ("torch", "tcnn"),
    compile_modes: tuple[bool, ...] = (False, True),
    device: str | torch.device | None = None,
    repeats: int = 5,
) -> list[dict]:
    """Points/s of forward and of forward + backward for each backend x (eager, torch.compile).

    Combinations that cannot run here (tcnn without CUDA, a failing compile) are reported with
    an ``error`` instead of timings.
    """
    config = config or HashGridConfig()
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    num_rays = max(num_points // 64, 1)
    points = _ray_points(num_rays, 64, device)
    results = []
    for backend in backends:
        for compiled in compile_modes:
            row = {
                "backend": backend,
                "compiled": compiled,
                "device": str(device),
                "num_points": points.shape[0],
                "threads": torch.get_num_threads(),
                "config": asdict(config),
            }
            try:
                encoding = HashGridEncoding(replace(config, backend=backend)).to(device)
                fn = torch.compile(encoding) if compiled else encoding
                params = list(encoding.parameters())

                def forward_backward(fn=fn, params=params):
                    for p in params:
                        p.grad = None
                    fn(points).square().sum().backward()

                with torch.no_grad():
                    forward_s = best_time(lambda fn=fn: fn(points), repeats, device)
                step_s = best_time(forward_backward, repeats, device)
                row["forward_points_per_s"] = points.shape[0] / forward_s
                row["forward_backward_points_per_s"] = points.shape[0] / step_s
            except Exception as error:  # report, do not abort the other combinations
                row["error"] = f"{type(error).__name__}: {error}"
            results.append(row)
    return results
