"""3D language queries evaluated directly on the field's surface points.

No volume rendering per query: candidate surface points (cached per keyframe by
:mod:`lerf_ros.query.surface_cache`: measured depth where a keyframe has it, the field's
rendered surface, refreshed as it trains, elsewhere) get their language hash features once;
the scale sweep then only re-runs the small scale-conditioned head, on a subsample; the best
scale scores all candidates.
"""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.cameras.rays import image_rays
from lerf_ros.fields.language_field import LanguageField
from lerf_ros.query.candidates import Candidates, DepthView
from lerf_ros.query.config import QueryConfig
from lerf_ros.query.peaks import Peak, find_peaks
from lerf_ros.query.relevancy import CANONICAL_NEGATIVES, best_scale, relevancy
from lerf_ros.query.request import QueryRequest
from lerf_ros.query.surface_cache import SurfaceCache


class FieldModel(Protocol):
    """What a query needs of a trained model (``lerf_ros.training.model.LerfModel`` is one):
    queries sit below training and see the model only through this."""

    language: LanguageField
    aabb: torch.Tensor

    def eval(self): ...

    def render_chunked(
        self,
        origins: torch.Tensor,
        directions: torch.Tensor,
        chunk: int = ...,
        depth_method: str = ...,
    ) -> dict[str, torch.Tensor]: ...

    def render_clip_chunked(
        self, origins: torch.Tensor, directions: torch.Tensor, scale: float
    ) -> dict[str, torch.Tensor]: ...


HEATMAP_BLOCK_RAYS = 2048
"""Rays rendered per model-lock hold by :func:`relevancy_image` (~0.1-0.3 s on two CPU
cores): a query waiting behind a heat map waits for one block, not the picture."""


@dataclass
class QueryResult:
    """The answer to one query."""

    request: QueryRequest
    peaks: list[Peak]
    selected_scale: float
    points: np.ndarray
    """[N, 3] candidate points (after the visibility filter)."""
    relevancy: np.ndarray
    """[N] relevancy of each point at the selected scale."""
    colors: np.ndarray
    """[N, 3] rendered colour of each point."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent per stage (candidates, features, sweep, relevancy, peaks)."""

    def summary(self) -> str:
        """One line for a service answer. An empty answer says how close the best point came,
        so a caller can tell "not there" from "not learnt yet" (a young field's relevancies
        sit just above 0.5)."""
        text = self.request.text
        if self.peaks:
            return f"{len(self.peaks)} peak(s) for {text!r}"
        if len(self.relevancy) == 0:
            return f"no surface points to search for {text!r}"
        best = int(np.argmax(self.relevancy))
        x, y, z = (float(v) for v in self.points[best])
        return (
            f"nothing above relevancy {self.request.min_relevancy:.2f} for {text!r}: best "
            f"{float(self.relevancy[best]):.3f} at ({x:.2f}, {y:.2f}, {z:.2f}) of "
            f"{len(self.relevancy):,} surface points at scale {self.selected_scale:.2f} m "
            "(ask again after more training, or lower min_relevancy)"
        )


class TextEmbeddings:
    """Caches text embeddings (the canonical phrases are asked for on every query)."""

    def __init__(self, encoder, max_entries: int = 4096):
        self.encoder = encoder
        self.cache: dict[str, torch.Tensor] = {}
        self.max_entries = max_entries
        # Queries and heat maps ask from several threads; a clear() between another thread's
        # update and lookup would lose its entries.
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> torch.Tensor:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
            if missing:
                with torch.no_grad():
                    encoded = self.encoder.encode_text(missing).float().cpu()
                if len(self.cache) + len(missing) > self.max_entries:
                    self.cache.clear()
                self.cache.update(zip(missing, encoded, strict=True))
            return torch.stack([self.cache[t] for t in texts])


def compute_candidates(
    model: FieldModel,
    keyframes: list,
    config: QueryConfig,
    step: int,
    device: torch.device,
) -> tuple[Candidates, list[DepthView]]:
    """Surface points seen from the keyframes, with their view counts, computed afresh
    (measured depth where a keyframe has it, the field's rendered surface elsewhere; see
    :mod:`lerf_ros.query.surface_cache`, whose :class:`SurfaceCache` keeps them between
    calls)."""
    return SurfaceCache(config).update(model, keyframes, step, device)


def sweep_scales(config: QueryConfig) -> torch.Tensor:
    """The scales a query sweeps (metres), excluding 0 (a zero-size crop means nothing)."""
    return torch.linspace(0.0, config.max_scale, config.num_scales + 1)[1:]


@torch.no_grad()
def run_query(
    model: FieldModel,
    texts: TextEmbeddings,
    candidates: Candidates,
    request: QueryRequest,
    config: QueryConfig,
    device: torch.device,
    features: torch.Tensor | None = None,
) -> QueryResult:
    """Relevancy of every candidate for ``request``; peaks of the most relevant scale."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    model.eval()
    negatives_text = [*CANONICAL_NEGATIVES, *request.negatives]
    embeddings = texts([request.text, *negatives_text]).to(device)
    query, negatives = embeddings[0], embeddings[1:]
    timings["text"] = time.perf_counter() - started

    points = torch.as_tensor(candidates.points, device=device)
    t = time.perf_counter()
    if features is None:
        features = encode_in_chunks(model, points)
    timings["features"] = time.perf_counter() - t

    t = time.perf_counter()
    if request.scale is not None:
        scale = request.scale
    else:
        scales = sweep_scales(config).to(device)
        count = len(points)
        subset = (
            torch.randperm(count, generator=torch.Generator().manual_seed(0))[
                : config.sweep_points
            ].to(device)
            if count > config.sweep_points
            else torch.arange(count, device=device)
        )
        sub = features[subset]
        per_scale = torch.stack(
            [relevancy(clip_in_chunks(model, sub, float(s)), query, negatives) for s in scales]
        )
        scale = float(scales[best_scale(per_scale, config.sweep_top_fraction)])
    timings["sweep"] = time.perf_counter() - t

    t = time.perf_counter()
    scores = relevancy(clip_in_chunks(model, features, scale), query, negatives).cpu().numpy()
    timings["relevancy"] = time.perf_counter() - t

    t = time.perf_counter()
    peaks = find_peaks(
        candidates.points,
        scores,
        threshold=request.min_relevancy,
        scale=scale,
        cluster_distance=config.cluster_distance,
        min_support=config.min_support,
        max_results=request.max_results,
    )
    timings["peaks"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started
    return QueryResult(request, peaks, scale, candidates.points, scores, candidates.colors, timings)


def encode_in_chunks(model: FieldModel, points: torch.Tensor, chunk: int = 65536) -> torch.Tensor:
    parts = [model.language.encode(points[i : i + chunk]) for i in range(0, len(points), chunk)]
    if not parts:
        return torch.zeros(0, model.language.feature_dim, device=points.device)
    return torch.cat(parts)


def clip_in_chunks(
    model: FieldModel, features: torch.Tensor, scale: float, chunk: int = 65536
) -> torch.Tensor:
    parts = []
    for i in range(0, len(features), chunk):
        part = features[i : i + chunk]
        scales = torch.full((len(part), 1), scale, device=part.device, dtype=part.dtype)
        parts.append(model.language.clip_from_features(part, scales))
    if not parts:
        return torch.zeros(0, model.language.config.clip_dim, device=features.device)
    return torch.cat(parts)


@torch.no_grad()
def relevancy_image(
    model: FieldModel,
    texts: TextEmbeddings,
    intrinsics: Intrinsics,
    c2w: np.ndarray,
    text: str,
    scale: float,
    negatives: list[str] | None = None,
    device: torch.device | None = None,
    lock: AbstractContextManager | None = None,
    rays_per_block: int = HEATMAP_BLOCK_RAYS,
) -> dict[str, np.ndarray]:
    """Render a view: rgb [H,W,3], depth [H,W] and relevancy [H,W] of ``text`` at ``scale``.

    The language field is rendered at a fixed metric scale (every sample sees ``scale``, as
    in LERF's query rendering; one pass gives colour, depth and CLIP). The image renders in
    blocks of rows, each under ``lock`` (the engine's model lock) if given, so that queries
    and training steps run between blocks instead of waiting for the whole picture.
    """
    device = device or model.aabb.device
    lock = lock if lock is not None else nullcontext()
    embeddings = texts([text, *CANONICAL_NEGATIVES, *(negatives or [])]).to(device)
    bundle = image_rays(intrinsics, c2w, device=device)
    h, w = intrinsics.height, intrinsics.width
    rows = max(1, rays_per_block // w)
    blocks: dict[str, list[torch.Tensor]] = {"rgb": [], "depth": [], "acc": [], "rel": []}
    for top in range(0, h, rows):
        origins = bundle.origins[top * w : (top + rows) * w]
        directions = bundle.directions[top * w : (top + rows) * w]
        with lock:  # the render switches to eval mode and restores the mode after
            out = model.render_clip_chunked(origins, directions, scale)
        blocks["rgb"].append(out["rgb"])
        blocks["depth"].append(out["depth"])
        blocks["acc"].append(out["accumulation"])
        blocks["rel"].append(relevancy(out["clip"], embeddings[0], embeddings[1:]))
    return {
        "rgb": torch.cat(blocks["rgb"]).view(h, w, 3).clamp(0, 1).cpu().numpy(),
        "depth": torch.cat(blocks["depth"]).view(h, w).cpu().numpy(),
        "accumulation": torch.cat(blocks["acc"]).view(h, w).cpu().numpy(),
        "relevancy": torch.cat(blocks["rel"]).view(h, w).cpu().numpy(),
    }
