"""Answers from the field: 3D queries over cached surface candidates, rendered views, density.

Every method here runs on the engine's current trainer under its model lock (taken here or
by the caller, as each docstring says), so an answer sees one consistent model.
"""

from __future__ import annotations

import copy
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
    compute_candidates,
    encode_in_chunks,
    relevancy_image,
    run_query,
)
from lerf_ros.query.request import QueryRequest
from lerf_ros.training.keyframe_store import KeyframeStore
from lerf_ros.training.trainer import Trainer

NO_SURFACE = "not ready: the field has no surface seen by enough views yet"
"""Why a trained field cannot answer yet: no rendered surface point passed the view count."""

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
        self.config = config
        self.texts = texts
        self.device = device
        self.cache: CandidateSet | None = None
        """The last computed candidates (refreshed every ``refresh_steps`` steps)."""
        self.reset_pending = False
        """The field was reset and no keyframe has arrived since."""
        self._density_copy: tuple[Trainer, int, torch.nn.Module] | None = None
        """(trainer, step, a copy of its geometry field) that density reads use."""

    def clear(self) -> None:
        """Forget the cached candidates and the geometry copy (a reset or a load)."""
        self.cache = None
        self._density_copy = None

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

    def candidates(self) -> CandidateSet:
        """Surface candidates and their language features (cached; call under the lock)."""
        trainer = self._current()
        step = trainer.step_count
        cached = self.cache
        stale = (
            cached is None
            or len(cached[0]) == 0  # an empty field early in training fills in within steps
            or step - cached[0].step >= self.config.refresh_steps
        )
        if stale:
            frames = self.keyframes.snapshot()
            candidates, views = compute_candidates(
                trainer.model, frames, self.config, step, self.device
            )
            candidates = candidates.filtered(min(self.config.min_views, len(frames)))
            features = encode_in_chunks(
                trainer.model, torch.as_tensor(candidates.points, device=self.device)
            )
            cached = (candidates, views, features)
            self.cache = cached
        elif cached[0].step != step:
            # Geometry is recent enough, but language features follow the latest weights.
            candidates, views, _ = cached
            features = encode_in_chunks(
                trainer.model, torch.as_tensor(candidates.points, device=self.device)
            )
            cached = (candidates, views, features)
        return cached

    def fresh_candidates(self) -> CandidateSet:
        """Recompute the candidates now, whatever the cache holds (what a query pays when
        the cache is stale; the benchmarks time it)."""
        with self.lock:
            self.cache = None
            return self.candidates()

    def run(
        self, request: QueryRequest, candidates: Candidates, features: torch.Tensor | None = None
    ) -> QueryResult:
        """One query over given candidates (``features`` None: encoded afresh), without the
        cache or the readiness check: the query benchmark scales the candidate count."""
        with self.lock:
            model = self._current().model
            return run_query(
                model, self.texts, candidates, request, self.config, self.device, features
            )

    def depth_views(self) -> list[DepthView]:
        with self.lock:
            return self.candidates()[1]

    def query(self, request: QueryRequest) -> QueryResult:
        """Answer a validated request (the caller checked readiness)."""
        with self.lock:
            trainer = self._current()
            started = time.perf_counter()
            candidates, _, features = self.candidates()
            prepared = time.perf_counter() - started
            if len(candidates) == 0:
                raise NotReadyError(NO_SURFACE)
            result = run_query(
                trainer.model, self.texts, candidates, request, self.config, self.device, features
            )
        result.timings["candidates"] = prepared
        return result

    def relevancy_view(
        self, request: QueryRequest, keyframe_index: int, width: int | None
    ) -> dict[str, np.ndarray]:
        """2D relevancy of a request with a scale, from a keyframe's view."""
        frames = self.keyframes.snapshot()
        trainer = self._trainer()
        if not frames or trainer is None:
            raise NotReadyError(self.no_field_reason())
        frame = frames[keyframe_index]
        intrinsics = frame.intrinsics
        if width is not None and 0 < width < intrinsics.width:
            intrinsics = intrinsics.scaled(width / intrinsics.width)
        # The picture renders block by block, each under the model lock (queries and training
        # steps go on in between, the weights may move by a step or two across the picture).
        return relevancy_image(
            trainer.model,
            self.texts,
            intrinsics,
            frame.c2w,
            request.text,
            request.scale,
            request.negatives,
            self.device,
            lock=self.lock,
        )

    def _geometry(self) -> torch.nn.Module:
        """A copy of the geometry field at most ``refresh_steps`` steps old. Grasp and goal
        planning look the density up dozens of times per answer; on the copy no lookup waits
        for a training step, and only a refresh (a copy of the weights) takes the model lock."""
        held, trainer = self._density_copy, self._trainer()
        fresh = (
            held is not None
            and trainer is held[0]
            and trainer.step_count - held[1] < self.config.refresh_steps
        )
        if fresh:
            return held[2]
        with self.lock:
            trainer = self._current()
            geometry = copy.deepcopy(trainer.model.nerf).eval().requires_grad_(False)
            self._density_copy = (trainer, trainer.step_count, geometry)
        return geometry

    def density(self, points: np.ndarray) -> np.ndarray:
        flat = torch.as_tensor(np.asarray(points, dtype=np.float32).reshape(-1, 3))
        geometry = self._geometry()
        out = []
        with torch.no_grad():
            for start in range(0, len(flat), DENSITY_CHUNK):
                density, _ = geometry.density(flat[start : start + DENSITY_CHUNK].to(self.device))
                out.append(density[:, 0].float().cpu())
        return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)

    def render_view(self, intrinsics: Intrinsics, c2w: np.ndarray) -> dict[str, np.ndarray]:
        bundle = image_rays(intrinsics, c2w, device=self.device)
        with self.lock, torch.no_grad():
            out = self._current().model.render_chunked(bundle.origins, bundle.directions)
        h, w = intrinsics.height, intrinsics.width
        return {
            "rgb": out["rgb"].view(h, w, 3).cpu().numpy(),
            "depth": out["depth"].view(h, w).cpu().numpy(),
        }
