"""Shared pieces of the benchmarks: options, result rows, timing and machine description."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

NA_CPU = "n/a (CPU)"
"""What a CUDA-only row shows on a CPU."""


@dataclass
class Options:
    """How much to measure, and where."""

    device: torch.device
    quick: bool = False
    """Smaller sizes and fewer repeats: every CPU row in about 15 s."""
    full: bool = False
    """Also the largest sizes (1M query points, 1000 keyframes, 2 and 5 min of training)."""

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"

    def pick(self, quick, normal, full=None):
        """The setting of the current mode (``full`` defaults to ``normal``)."""
        if self.quick:
            return quick
        if self.full and full is not None:
            return full
        return normal

    def device_label(self) -> str:
        """``cpu`` or the GPU's name, for the device column."""
        if self.cuda:
            return torch.cuda.get_device_name(self.device)
        return f"cpu ({torch.get_num_threads()} threads)"


@dataclass
class Row:
    """One line of the results table."""

    group: str
    name: str
    value: float | str | None
    """A number, a text such as ``n/a (CPU)``, or None when the row failed."""
    unit: str = ""
    device: str = ""
    reference: str = ""
    """The LERF (or NeRF paper) figure to compare with, if any."""
    note: str = ""
    extra: dict = field(default_factory=dict)
    """Machine-readable details (kept out of the table)."""

    def value_text(self) -> str:
        if self.value is None:
            return "failed"
        if isinstance(self.value, str):
            return self.value
        return format_number(self.value)


def format_number(value: float) -> str:
    """Three significant figures, thousands separated (``45,100``, ``0.0123``)."""
    if value == 0 or not abs(value) < float("inf"):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_time(fn: Callable[[], object], repeats: int, device: torch.device) -> float:
    """Best wall time of ``fn`` over ``repeats`` runs after one warm-up run (least disturbed
    by other processes on a shared machine)."""
    fn()
    times = []
    for _ in range(max(repeats, 1)):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return min(times)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(device: torch.device) -> dict[str, str]:
    """CPU, cores, memory, torch and GPU, for the document's header."""
    gpu = "none"
    if torch.cuda.is_available():
        gpu = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    memory = "unknown"
    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:
        pass
    return {
        "CPU": cpu_model(),
        "cores": f"{os.cpu_count()} (torch threads: {torch.get_num_threads()})",
        "memory": memory,
        "torch": torch.__version__,
        "GPU": gpu,
        "device benchmarked": str(device),
        "python": platform.python_version(),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "(unset)"),
    }


def load_average() -> str:
    try:
        return ", ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "unknown"
