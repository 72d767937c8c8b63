"""Benchmarks of lerf_ros: ``python -m benchmarks.run`` measures and rewrites docs/benchmarks.md.

OpenMP threads wait passively unless the caller chose otherwise: on a shared, loaded CPU,
spinning worker threads made training steps about 5x slower (measured on 2 cores). This must
be set before torch is imported, hence here.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
