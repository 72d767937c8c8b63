"""Axis-aligned scene bounds in the world frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class SceneBox:
    """Axis-aligned box in world coordinates (metres)."""

    minimum: np.ndarray
    """Lower corner (x, y, z), float64 [3]."""
    maximum: np.ndarray
    """Upper corner (x, y, z), float64 [3]."""

    def __post_init__(self) -> None:
        self.minimum = np.asarray(self.minimum, dtype=np.float64).reshape(3)
        self.maximum = np.asarray(self.maximum, dtype=np.float64).reshape(3)
        if not (np.all(np.isfinite(self.minimum)) and np.all(np.isfinite(self.maximum))):
            raise ValueError("scene box corners must be finite")
        if np.any(self.maximum < self.minimum):
            raise ValueError(f"scene box maximum {self.maximum} is below minimum {self.minimum}")

    @classmethod
    def from_points(cls, points, margin: float = 0.0) -> SceneBox:
        """Tightest box around ``points`` [N, 3], grown by ``margin`` metres on every side."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        if len(points) == 0:
            raise ValueError("cannot bound an empty point set")
        return cls(points.min(axis=0) - margin, points.max(axis=0) + margin)

    @classmethod
    def from_cameras(cls, positions, margin: float = 0.5) -> SceneBox:
        """Box around camera centres [N, 3] (or camera-to-world poses [N, 4, 4]) plus a margin.

        Suits inward-looking captures (orbits, rooms), where the content lies between the
        cameras; ``margin`` (metres) leaves room for content just outside their hull.
        """
        positions = np.asarray(positions, dtype=np.float64)
        if positions.ndim == 3:
            positions = positions[:, :3, 3]
        return cls.from_points(positions, margin)

    def size(self) -> np.ndarray:
        """Edge lengths (x, y, z)."""
        return self.maximum - self.minimum

    def center(self) -> np.ndarray:
        """Centre point."""
        return 0.5 * (self.minimum + self.maximum)

    def diagonal(self) -> float:
        """Length of the space diagonal."""
        return float(np.linalg.norm(self.size()))

    def expanded(self, margin: float) -> SceneBox:
        """Copy grown by ``margin`` metres on every side."""
        return SceneBox(self.minimum - margin, self.maximum + margin)

    def union(self, other: SceneBox) -> SceneBox:
        """Smallest box containing both boxes."""
        return SceneBox(
            np.minimum(self.minimum, other.minimum), np.maximum(self.maximum, other.maximum)
        )

    def contains(self, points):
        """Boolean mask [...] of points [..., 3] inside the box (borders included).

        Works on numpy arrays and torch tensors (returns the same kind).
        """
        if isinstance(points, torch.Tensor):
            lo = torch.as_tensor(self.minimum, dtype=points.dtype, device=points.device)
            hi = torch.as_tensor(self.maximum, dtype=points.dtype, device=points.device)
            return ((points >= lo) & (points <= hi)).all(dim=-1)
        points = np.asarray(points)
        return np.all((points >= self.minimum) & (points <= self.maximum), axis=-1)

    def as_tensor(self, device: torch.device | str | None = None) -> torch.Tensor:
        """Corners as a float32 tensor [2, 3]: row 0 the minimum, row 1 the maximum."""
        return torch.tensor(
            np.stack([self.minimum, self.maximum]), dtype=torch.float32, device=device
        )

    def to_dict(self) -> dict:
        """JSON-friendly form ``{"min": [...], "max": [...]}``."""
        return {"min": self.minimum.tolist(), "max": self.maximum.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> SceneBox:
        """Inverse of :meth:`to_dict`."""
        return cls(data["min"], data["max"])
