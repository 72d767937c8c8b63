"""Write relevancy clouds as binary PLY (x, y, z, red, green, blue, relevancy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

PLY_DTYPE = np.dtype(
    [
        ("x", "<f4"),
        ("y", "<f4"),
        ("z", "<f4"),
        ("red", "u1"),
        ("green", "u1"),
        ("blue", "u1"),
        ("relevancy", "<f4"),
    ]
)
"""One vertex as written: position, colour, relevancy."""


def write_ply(
    path: str | Path, points: np.ndarray, colors: np.ndarray, relevancy: np.ndarray
) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = len(points)
    data = np.empty(count, dtype=PLY_DTYPE)
    data["x"], data["y"], data["z"] = (np.asarray(points, np.float32)[:, i] for i in range(3))
    rgb = (np.clip(np.asarray(colors, np.float32), 0, 1) * 255).round().astype(np.uint8)
    data["red"], data["green"], data["blue"] = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    data["relevancy"] = np.asarray(relevancy, np.float32)
    header = (
        "ply\nformat binary_little_endian 1.0\n"
        f"element vertex {count}\n"
        "property float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\n"
        "property float relevancy\nend_header\n"
    )
    with open(path, "wb") as handle:
        handle.write(header.encode("ascii"))
        handle.write(data.tobytes())
    return path


def read_ply(path: str | Path) -> dict[str, np.ndarray]:
    """Read back what :func:`write_ply` wrote (for tests and tools)."""
    raw = Path(path).read_bytes()
    end = raw.index(b"end_header\n") + len(b"end_header\n")
    header = raw[:end].decode("ascii").splitlines()
    count = int(next(line.split()[2] for line in header if line.startswith("element vertex")))
    data = np.frombuffer(raw[end:], dtype=PLY_DTYPE, count=count)
    return {name: np.asarray(data[name]) for name in data.dtype.names}
