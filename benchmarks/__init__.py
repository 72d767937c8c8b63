"""Benchmarks of lerf_ros: ``python -m benchmarks.run`` measures and rewrites docs/benchmarks.md."""
