"""Answers from the field: 3D queries over cached surface candidates, rendered views, density.

Answers are computed on a copy of the model taken under the model lock (tens of milliseconds),
not on the live model: a query, a heat map or a grasp plan then never holds training up for
the seconds it computes, and each answer sees one consistent set of weights.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable

import numpy as np
import torch

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.cameras.rays import image_rays
from lerf_ros.engine.fair_lock import FairLock
from lerf_ros.errors import NotReadyError
from lerf_ros.query.candidates import Candidates, DepthView
from lerf_ros.query.config import QueryConfig
from lerf_ros.query.query3d import (
    QueryResult,
    TextEmbeddings,
    encode_in_chunks,
    relevancy_image,
    run_query,
)
from lerf_ros.query.request import QueryRequest
from lerf_ros.query.surface_cache import SurfaceCache
from lerf_ros.training.keyframe_store import KeyframeStore
from lerf_ros.training.model import LerfModel
from lerf_ros.training.trainer import Trainer

NO_SURFACE = "not ready: the field has no surface seen by enough views yet"
"""Why a trained field cannot answer yet: no rendered surface point passed the view count."""

ModelCopy = tuple[Trainer, int, LerfModel]
"""(the trainer copied, its step at the copy, the copy)."""

DENSITY_CHUNK = 65536
"""Points per density evaluation (bounds the memory of one call)."""

CandidateSet = tuple[Candidates, list[DepthView], torch.Tensor]
"""Surface candidates, the keyframe depth views behind them, their language features."""


class FieldAnswers:
    """Query, render and density reads of the engine's field, with the candidate cache."""

    def __init__(
        self,
        trainer: Callable[[], Trainer | None],
        keyframes: KeyframeStore,
        lock: FairLock,
        config: QueryConfig,
        texts: TextEmbeddings,
        device: torch.device,
    ):
        self._trainer = trainer
        self.keyframes = keyframes
        self.lock = lock
        """The model lock: held here only to copy the model."""
        self.config = config
        self.texts = texts
        self.device = device
        self.cache: CandidateSet | None = None
        """The last computed candidates (rebuilt when a keyframe came or went, or a keyframe's
        rendered surface is ``refresh_steps`` steps old)."""
        self.surfaces = SurfaceCache(config)
        """Each keyframe's surface points and depth view, by keyframe id (under the cache
        lock): a rebuild recomputes only new and stale keyframes."""
        self._cache_lock = threading.Lock()
        """One reader at a time computes candidates (training does not wait for it)."""
        self.reset_pending = False
        """The field was reset and no keyframe has arrived since."""
        self._copy: ModelCopy | None = None

    def set_config(self, config: QueryConfig) -> None:
        """Use ``config`` from the next request on; candidates filtered with another
        ``min_views`` are recomputed."""
        with self._cache_lock:
            if config.min_views != self.config.min_views:
                self.cache = None
            self.config = config
            self.surfaces.config = config

    def clear(self) -> None:
        """Forget the cached candidates and the model copy (a reset or a load)."""
        with self._cache_lock:
            self.cache = None
            self.surfaces.clear()
        self._copy = None

    def _current(self) -> Trainer:
        trainer = self._trainer()
        if trainer is None:
            raise NotReadyError(self.no_field_reason())
        return trainer

    def no_field_reason(self) -> str:
        """Why there is no field: a reset (a request that raced it lands here) or no keyframe
        yet."""
        if self.reset_pending:
            return "not ready: reset in progress (the field was cleared; no keyframes since)"
        return "not ready: no keyframes"

    def model_copy(self, max_age_steps: int = 0) -> ModelCopy:
        """A copy of the current model at most ``max_age_steps`` steps old (0: as of now).
        Only making a copy takes the model lock; readers share a copy (forward passes only)."""
        held, trainer = self._copy, self._trainer()
        if (
            held is not None
            and trainer is held[0]
            and trainer.step_count - held[1] <= max_age_steps
        ):
            return held
        with self.lock:
            trainer = self._current()
            held = self._copy
            if held is None or held[0] is not trainer or held[1] != trainer.step_count:
                model = copy.deepcopy(trainer.model).eval().requires_grad_(False)
                held = (trainer, trainer.step_count, model)
                self._copy = held
        return held

    def candidates(self, step: int, model: LerfModel) -> CandidateSet:
        """Surface candidates and their language features for ``model`` at ``step`` (cached:
        the geometry is rebuilt when the keyframes changed or a rendered keyframe surface is
        ``refresh_steps`` steps old, recomputing only those keyframes; the features follow
        every step)."""
        with self._cache_lock:
            cached = self.cache
            frames = self.keyframes.snapshot()
            # An empty field early in training fills in within steps: look at it again.
            empty = cached is not None and len(cached[0]) == 0
            stale = cached is None or self.surfaces.needs_update(frames, step, retry_empty=empty)
            if stale:
                candidates, views = self.surfaces.update(
                    model, frames, step, self.device, retry_empty=empty
                )
                candidates = candidates.filtered(min(self.config.min_views, len(frames)))
                features = encode_in_chunks(
                    model, torch.as_tensor(candidates.points, device=self.device)
                )
                cached = (candidates, views, features)
                self.cache = cached
            elif cached[0].step != step:
                # Geometry is recent enough, but language features follow the latest weights.
                candidates, views, _ = cached
                features = encode_in_chunks(
                    model, torch.as_tensor(candidates.points, device=self.device)
                )
                cached = (candidates, views, features)
            return cached

    def fresh_candidates(self) -> CandidateSet:
        """Recompute the candidates now, every keyframe's surface included, whatever the
        caches hold (what the first query pays; the benchmarks time it)."""
        _, step, model = self.model_copy()
        with self._cache_lock:
            self.cache = None
            self.surfaces.clear()
        return self.candidates(step, model)

    def run(
        self, request: QueryRequest, candidates: Candidates, features: torch.Tensor | None = None
    ) -> QueryResult:
        """One query over given candidates (``features`` None: encoded afresh), without the
        cache or the readiness check: the query benchmark scales the candidate count."""
        _, _, model = self.model_copy()
        return run_query(model, self.texts, candidates, request, self.config, self.device, features)

    def depth_views(self) -> list[DepthView]:
        _, step, model = self.model_copy(self.config.refresh_steps)
        return self.candidates(step, model)[1]

    def query(self, request: QueryRequest) -> QueryResult:
        """Answer a validated request (the caller checked readiness)."""
        _, step, model = self.model_copy()
        started = time.perf_counter()
        candidates, _, features = self.candidates(step, model)
        prepared = time.perf_counter() - started
        if len(candidates) == 0:
            raise NotReadyError(NO_SURFACE)
        result = run_query(
            model, self.texts, candidates, request, self.config, self.device, features
        )
        result.timings["candidates"] = prepared
        return result

    def relevancy_view(
        self, request: QueryRequest, keyframe_index: int, width: int | None
    ) -> dict[str, np.ndarray]:
        """2D relevancy of a request with a scale, from a keyframe's view."""
        frames = self.keyframes.snapshot()
        if not frames or self._trainer() is None:
            raise NotReadyError(self.no_field_reason())
        _, _, model = self.model_copy()
        frame = frames[keyframe_index]
        intrinsics = frame.intrinsics
        if width is not None and 0 < width < intrinsics.width:
            intrinsics = intrinsics.scaled(width / intrinsics.width)
        return relevancy_image(
            model,
            self.texts,
            intrinsics,
            frame.c2w,
            request.text,
            request.scale,
            request.negatives,
            self.device,
        )

    def density(self, points: np.ndarray) -> np.ndarray:
        """Field density at ``points`` [N, 3]. Grasp and goal planning look it up dozens of
        times per answer: a copy up to ``refresh_steps`` old serves them all (the candidates
        they plan on are as old)."""
        flat = torch.as_tensor(np.asarray(points, dtype=np.float32).reshape(-1, 3))
        _, _, model = self.model_copy(self.config.refresh_steps)
        out = []
        with torch.no_grad():
            for start in range(0, len(flat), DENSITY_CHUNK):
                chunk = flat[start : start + DENSITY_CHUNK].to(self.device)
                density, _ = model.nerf.density(chunk)
                out.append(density[:, 0].float().cpu())
        return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)

    def render_view(self, intrinsics: Intrinsics, c2w: np.ndarray) -> dict[str, np.ndarray]:
        bundle = image_rays(intrinsics, c2w, device=self.device)
        _, _, model = self.model_copy()
        with torch.no_grad():
            out = model.render_chunked(bundle.origins, bundle.directions)
        h, w = intrinsics.height, intrinsics.width
        return {
            "rgb": out["rgb"].view(h, w, 3).cpu().numpy(),
            "depth": out["depth"].view(h, w).cpu().numpy(),
        }
