"""What a consumer of a trained field may read: the one interface targets, pictures, the CLI
and the benchmarks use instead of an engine's internals (its trainer, keyframes and locks).

:class:`lerf_ros.engine.LerfEngine` implements it; every call takes the locks it needs and
returns plain arrays, so a reader never sees a half-updated model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.query.candidates import DepthView

if TYPE_CHECKING:
    from lerf_ros.query.config import QueryConfig
    from lerf_ros.query.query3d import QueryResult


@dataclass(frozen=True)
class KeyframeView:
    """A keyframe as a reader sees it: its image and camera (copies, safe to keep)."""

    image: np.ndarray
    """uint8 ``[H, W, 3]`` RGB."""
    intrinsics: Intrinsics
    c2w: np.ndarray
    """4x4 float64 camera-to-world, OpenCV optical convention, in the field's frame."""


class FieldReader(Protocol):
    """Read access to a trained (or training) language field."""

    @property
    def frame_id(self) -> str:
        """The fixed frame every position is expressed in."""
        ...

    @property
    def query_config(self) -> QueryConfig:
        """The query settings answers are computed with (thresholds, cluster distance)."""
        ...

    def query(
        self,
        text: str,
        negatives: Sequence[str] = (),
        scale: float | None = None,
        max_results: int | None = None,
        min_relevancy: float | None = None,
        return_cloud: bool = False,
    ) -> QueryResult:
        """Answer a language query (raises QueryError for a bad request, NotReadyError)."""
        ...

    def relevancy_view(
        self,
        text: str,
        keyframe_index: int = -1,
        scale: float | None = None,
        negatives: Sequence[str] | None = None,
        width: int | None = None,
    ) -> dict[str, np.ndarray]:
        """2D relevancy of ``text`` rendered from a keyframe's view: 'rgb', 'relevancy', ..."""
        ...

    def density(self, points: np.ndarray) -> np.ndarray:
        """Volume density (1/m) of the field at ``[N, 3]`` points, as ``[N]`` float32."""
        ...

    def depth_views(self) -> list[DepthView]:
        """The keyframes' rendered depth maps behind the current answers (what was seen)."""
        ...

    def keyframe_views(self) -> list[KeyframeView]:
        """Every keyframe's image and camera, oldest first."""
        ...

    def camera_positions(self) -> np.ndarray:
        """``[K, 3]`` positions of the keyframes' cameras, oldest first."""
        ...

    def render_view(self, intrinsics: Intrinsics, c2w: np.ndarray) -> dict[str, np.ndarray]:
        """The field rendered from a camera: 'rgb' ``[H, W, 3]`` in [0, 1], 'depth' ``[H, W]``."""
        ...
