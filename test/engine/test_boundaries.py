"""The engine's inside stays inside: consumers read the field through its read interface."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONSUMERS = [REPO / "lerf_ros", REPO / "benchmarks"]
INSIDE = REPO / "lerf_ros" / "engine"

REACHING_IN = re.compile(
    r"(?<![\"'\w])engine\.(trainer|keyframes|model_lock|_[A-Za-z]\w*)\b"
    r"|\bengine\.training\.trainer\b"
    r"|\bengine\.answers\.(cache|lock)\b"
)
"""An engine's internals: its trainer, keyframes, model lock or a private attribute."""


def consumer_files() -> list[Path]:
    files = []
    for folder in CONSUMERS:
        files += [p for p in folder.rglob("*.py") if INSIDE not in p.parents]
    return sorted(files)


def test_the_consumers_are_found():
    names = {p.relative_to(REPO).as_posix() for p in consumer_files()}
    assert {"lerf_ros/targets/service.py", "lerf_ros/visualize/side_by_side.py"} <= names
    assert "benchmarks/query.py" in names
    assert not any(name.startswith("lerf_ros/engine/") for name in names)


def reaching_in(text: str) -> list[str]:
    return [match.group(0) for match in REACHING_IN.finditer(text)]


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("model = engine.trainer.model", ["engine.trainer"]),
        ("frames = engine.keyframes.snapshot()", ["engine.keyframes"]),
        ("with engine.model_lock:", ["engine.model_lock"]),
        ("engine._candidates = None", ["engine._candidates"]),
        ("engine.training.trainer.step_count = 5", ["engine.training.trainer"]),
        ("result = engine.query('mug')", []),
        ("views = engine.keyframe_views()", []),
        ("config.keyframes.max_keyframes = 3", []),
        ('"max_keyframes": "engine.keyframes.max_keyframes",', []),  # a config path, not code
        ("self.engine.trainer is None", ["engine.trainer"]),
    ],
)
def test_the_pattern_tells_internals_from_the_read_interface(line, found):
    assert reaching_in(line) == found


def test_no_consumer_reaches_into_the_engine():
    offenders = []
    for path in consumer_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for hit in reaching_in(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {hit}")
    assert not offenders, "read the field through FieldReader instead:\n" + "\n".join(offenders)
