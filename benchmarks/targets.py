"""The issue's performance targets, matched against measured rows."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.common import Row, format_number


@dataclass
class Target:
    platform: str
    """``GPU`` or ``CPU``: the device the target is for."""
    text: str
    group: str
    pattern: str
    """Regular expression on row names; the best matching numeric row is compared."""
    good: Callable[[float], bool]
    unit: str
    higher_is_better: bool = True
    caveat: str = ""
    lerf: str = ""
    """LERF's own figure for the same thing, where one is published."""
    bound: str = ""
    """What bounds the measured value when the target is missed (from a profile)."""
    worst_case: bool = False
    """Judge the worst matching row (e.g. memory at every size), not the best."""


TARGETS = [
    Target(
        "GPU",
        "≥ 200k rays/s, LERF-size model",
        "engine",
        r"lerf preset, fp16 autocast: rays/s \(after",
        lambda v: v >= 200_000,
        "rays/s",
        lerf="≈45k rays/s (A100)",
        bound="host-bound pure-PyTorch hash grid (tinycudann not installed on the card's "
        "machine): a profiled step is 56 % GPU-busy with ~6.9k kernel launches (16 levels x "
        "3 grids, each a handful of small kernels; cudaLaunchKernel is 22 % of host time), "
        "and of the GPU time the grids' bincount backward is 32 % and gathers 23 % (profile "
        "below). Needs fused grid kernels (tinycudann) or a CUDA-graphed step, not tuning",
    ),
    Target(
        "GPU",
        "crop pyramid ≥ 8 keyframes/s at 640x480 (ViT-B-16)",
        "pyramid",
        r"^open_clip ViT-B-16.*keyframes/s",
        lambda v: v >= 8,
        "keyframes/s",
        lerf="all pyramids precomputed at start-up (no rate published)",
    ),
    Target(
        "GPU",
        "first correct answer ≤ 10 s",
        "first_answer",
        r"incl\. features",
        lambda v: v <= 10,
        "s",
        False,
        "offline engine incl. features; the real node is measured elsewhere",
        lerf="~8 min (6k steps, A100)",
        bound="the ready gate (300 steps) at the measured ~6 steps/s (28k rays/s, see the "
        "training target) takes ≥ 46 s; at 200k rays/s it would be ~6 s",
    ),
    Target(
        "GPU",
        "query p50 ≤ 50 ms for 1M points x 30 scales",
        "query",
        r"1,000,000 points x 30 scales",
        lambda v: v <= 50,
        "ms",
        False,
        "excludes candidate extraction",
        lerf="2D relevancy render ~31 s per image",
        bound="of 205 ms, 154 ms re-encode the 1M points through the language hash grids "
        "(features recomputed as if the field had trained since the last query; pure-PyTorch "
        "grid), relevancy 23, sweep 22, peaks 5 ms",
    ),
    Target(
        "GPU",
        "lego PSNR ≥ 33 dB in ≤ 3 min",
        "quality",
        r"^lego held-out PSNR after (\d|[1-9]\d|1[0-7]\d|180) s",
        lambda v: v >= 33,
        "dB",
        lerf="LERF's nerfacto: ~45 min (30k steps, A100)",
    ),
    Target(
        "GPU",
        "≤ 8 GB GPU memory",
        "memory",
        r"peak GPU memory",
        lambda v: v <= 8192,
        "MB",
        False,
        lerf="lerf ~15 GB, lerf-lite ~8 GB",
        worst_case=True,
    ),
    Target(
        "CPU",
        "first correct answer ≤ 60 s",
        "first_answer",
        r"incl\. features",
        lambda v: v <= 60,
        "s",
        False,
        "offline engine incl. features, checked every 50 steps (ready gate: 250 steps); "
        "the real node is measured elsewhere",
        bound="the ready gate (250 steps) at ~5 steps/s on 2 cores is 50 s of training; "
        "the features of the 30 keyframes add 6.5-10 s",
    ),
    Target(
        "CPU",
        "query ≤ 1 s for 100k points x 30 scales",
        "query",
        r"100,000 points x 30 scales",
        lambda v: v <= 1000,
        "ms",
        False,
        "run_query p50 with features recomputed; excludes candidate extraction, which the "
        "engine redoes every 200 training steps (see the query rows)",
    ),
]


def evaluate(target: Target, rows: list[Row] | None) -> tuple[str, str]:
    """(measured value text, status) of ``target`` on the rows of a run on its platform
    (None: no such run is recorded)."""
    if rows is None:
        return f"not measured (no {target.platform} run recorded)", "pending"
    group = [r for r in rows if r.group == target.group]
    matches = [r for r in group if re.search(target.pattern, r.name)]
    numbers = [r.value for r in matches if isinstance(r.value, int | float)]
    if not numbers:
        if matches:
            return f"{matches[0].value_text()}", "not met"
        if group:  # the group ran but produced no such row (it failed, or was skipped)
            return f"not measured ({group[0].name}: {group[0].value_text()})", "pending"
        return "not measured (group not run)", "pending"
    best = max(numbers) if target.higher_is_better != target.worst_case else min(numbers)
    return f"{format_number(best)} {target.unit}", "met" if target.good(best) else "not met"
