"""Run these tests with one intra-op thread (restored after each test).

On a small machine shared with other work, torch's default of one thread per core makes tiny ops
wait on busy cores: a 40-point MLP pass measured 25x slower with 2 threads than with 1.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_intra_op_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
