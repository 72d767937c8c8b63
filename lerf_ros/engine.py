"""The engine the node and the CLI drive: keyframes in, training in the background, answers out.

Threads:
- the caller's (``add_frame``: validation and keyframe selection only, never blocks on training),
- a feature worker (crop pyramid + DINO per keyframe as it arrives, bounded queue),
- a training loop (``step()`` under the model lock).
Queries take the model lock only while they evaluate the field (a fraction of a second), so
training pauses briefly rather than stopping, and every answer sees one consistent model.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lerf_ros.cameras.conventions import validate_pose
from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.keyframes import Decision, KeyframeSelector
from lerf_ros.features.cache import FeatureCache
from lerf_ros.features.dense import DenseFeatures
from lerf_ros.features.extractor import FeatureExtractor
from lerf_ros.features.pyramid import PyramidFeatures
from lerf_ros.query.candidates import Candidates, DepthView
from lerf_ros.query.query3d import (
    QueryResult,
    TextEmbeddings,
    compute_candidates,
    encode_in_chunks,
    relevancy_image,
    run_query,
)
from lerf_ros.query.request import QueryError, validate_request
from lerf_ros.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from lerf_ros.training.config import LerfConfig
from lerf_ros.training.keyframe_store import Keyframe, KeyframeStore
from lerf_ros.training.trainer import StepStats, Trainer, resolve_device

LOG = logging.getLogger("lerf_ros.engine")


class NotReadyError(RuntimeError):
    """The field cannot answer yet; the message says what it is waiting for."""


@dataclass
class EngineStatus:
    """A snapshot of the engine for ``~/status`` and progress bars."""

    state: str
    ready: bool
    step: int
    keyframes: int
    keyframes_with_features: int
    frames_received: int
    frames_dropped: int
    rays_per_second: float
    rgb_loss: float
    clip_loss: float
    dino_loss: float
    message: str
    drop_reasons: dict[str, int] = field(default_factory=dict)
    error: str = ""
    """The last fault the engine survived (a failed feature extraction, an out-of-memory step,
    a failed training step), '' when there was none; also appended to ``message``."""


MAX_POSITION = 1e5
"""Metres: a camera farther than this from the fixed frame's origin is a corrupt pose (the
field computes in float32; a pose beyond float32's range made every later step fail)."""

MAX_STAMP_AHEAD = 3600.0
"""Seconds: a stamp further ahead of this machine's clock is a broken clock, not a frame (it
would also hold back time-based keyframe selection until the clock caught up)."""

FEATURE_ATTEMPTS = 3
"""Tries at a keyframe's features before the worker skips it (it still trains colour)."""

FEATURE_RETRY_DELAY = 0.5
"""Seconds the feature worker waits after a failure before it goes on."""

MIN_RAYS_PER_BATCH = 32
"""Out-of-memory halving stops here (or at the configured batch, if that is smaller)."""

NO_SURFACE = "not ready: the field has no surface seen by enough views yet"
"""Why a trained field cannot answer yet: no rendered surface point passed the view count."""


def validate_frame(image: np.ndarray, intrinsics: Intrinsics, c2w: np.ndarray) -> np.ndarray:
    """Raise ValueError naming the problem; returns the pose as float64 4x4."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3:
        raise ValueError("image must be a uint8 [H, W, 3] array")
    if image.shape[2] != 3:
        raise ValueError(f"image must have 3 channels, got {image.shape[2]}")
    if not isinstance(intrinsics, Intrinsics):
        raise ValueError(f"intrinsics must be Intrinsics, got {type(intrinsics).__name__}")
    intrinsics.validate()
    if (image.shape[1], image.shape[0]) != (intrinsics.width, intrinsics.height):
        raise ValueError(
            f"image is {image.shape[1]}x{image.shape[0]} but camera info says "
            f"{intrinsics.width}x{intrinsics.height}"
        )
    try:
        pose = np.asarray(c2w, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("pose is not a numeric 4x4 matrix") from None
    pose = validate_pose(pose)
    distance = float(np.abs(pose[:3, 3]).max())
    if distance > MAX_POSITION:
        raise ValueError(
            f"camera position {distance:.3g} m from the origin is beyond {MAX_POSITION:g} m"
        )
    return pose


class LerfEngine:
    """Online (or offline) LERF: add frames, train, query."""

    def __init__(
        self,
        config: LerfConfig,
        encoder,
        dense_encoder=None,
        frame_id: str = "map",
    ):
        self.config = config
        self.frame_id = frame_id
        self.device = resolve_device(config.device)
        self.encoder = encoder.to(self.device) if hasattr(encoder, "to") else encoder
        self.dense_encoder = dense_encoder
        if dense_encoder is not None and hasattr(dense_encoder, "to"):
            self.dense_encoder = dense_encoder.to(self.device)
        cache = FeatureCache(
            directory=config.feature_cache_dir,
            max_bytes=config.feature_cache_bytes,
            memory_bytes=config.feature_memory_bytes,
        )
        self.extractor = FeatureExtractor(
            self.encoder, self.dense_encoder, config.pyramid, cache, output_device=self.device
        )
        self.texts = TextEmbeddings(self.encoder)
        self.keyframes = KeyframeStore()
        self.selector = KeyframeSelector(config.keyframes)
        self.trainer: Trainer | None = None
        self.model_lock = threading.RLock()
        self._feature_queue: queue.Queue[int] = queue.Queue(
            maxsize=4 * config.keyframes.max_keyframes
        )
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._threads: list[threading.Thread] = []
        self._candidates: tuple[Candidates, list[DepthView], torch.Tensor] | None = None
        self.frames_received = 0
        self.drops: Counter[str] = Counter()
        self.last_stats: StepStats | None = None
        self.error: str = ""
        self._rays_per_second = 0.0
        self._feature_failures: Counter[int] = Counter()
        self.skipped_features: set[int] = set()
        """Keyframes whose features failed FEATURE_ATTEMPTS times (kept for colour only)."""
        self.feature_queue_overflows = 0
        """Keyframes not queued because the queue was full (the worker finds them later)."""

    # ------------------------------------------------------------------ frames
    def add_frame(
        self,
        image: np.ndarray,
        intrinsics: Intrinsics,
        c2w: np.ndarray,
        stamp: float,
        camera: str = "camera",
        force: bool = False,
    ) -> Decision:
        """Offer a frame; it becomes a keyframe if valid, sharp and new enough (or ``force``)."""
        self.frames_received += 1
        try:
            pose = validate_frame(image, intrinsics, c2w)
            if not math.isfinite(stamp):
                raise ValueError(f"stamp must be finite, got {stamp}")
        except (ValueError, TypeError) as error:
            return self._drop(f"invalid frame: {error}")
        ahead = stamp - time.time()
        if ahead > MAX_STAMP_AHEAD:
            return self._drop(f"stamp in the future: {ahead:.0f} s ahead of this machine's clock")
        decision = Decision(True, "forced") if force else self.selector.consider(pose, stamp, image)
        if not decision.accepted:
            return decision  # not a keyframe is not a drop: the frame was fine
        keyframe = Keyframe(
            id=self.keyframes.new_id(),
            image=torch.tensor(image, dtype=torch.uint8, device=self.device),  # a copy
            intrinsics=intrinsics,
            c2w=pose,
            stamp=stamp,
            camera=camera,
        )
        with self.model_lock:
            if self.trainer is None:
                self._create_trainer([pose])
            self.keyframes.add(keyframe)
            evicted = self.selector.commit(keyframe.id, pose, stamp)
            if evicted is not None:
                self.keyframes.remove(evicted)
        try:
            self._feature_queue.put_nowait(keyframe.id)
        except queue.Full:  # a burst: the worker picks unfeatured keyframes up when idle
            self.feature_queue_overflows += 1
        decision.evicted = evicted
        return decision

    def _drop(self, reason: str) -> Decision:
        key = reason.split(":")[0] if ":" in reason else reason
        self.drops[key] += 1
        return Decision(False, reason)

    def count_drop(self, reason: str) -> None:
        """Count a frame the adapter (node) rejected before it reached the engine."""
        self.frames_received += 1
        self.drops[reason] += 1

    def _scene_box(self, poses: list[np.ndarray]) -> torch.Tensor:
        scene = self.config.scene
        if scene.box_min is not None and scene.box_max is not None:
            return torch.tensor([scene.box_min, scene.box_max], dtype=torch.float32)
        centre = np.mean([p[:3, 3] for p in poses], axis=0)
        return torch.tensor(
            np.stack([centre - scene.radius, centre + scene.radius]), dtype=torch.float32
        )

    def _create_trainer(self, poses: list[np.ndarray]) -> None:
        dino_dim = self.dense_encoder.dim if self.dense_encoder is not None else 0
        self.trainer = Trainer(
            self.config, self._scene_box(poses), self.encoder.dim, dino_dim, self.device
        )

    # ---------------------------------------------------------------- features
    def compute_pending_features(self, limit: int | None = None) -> int:
        """Compute features of queued keyframes in the calling thread (offline use)."""
        done = 0
        while limit is None or done < limit:
            try:
                keyframe_id = self._feature_queue.get_nowait()
            except queue.Empty:
                break
            self._features_for(keyframe_id)
            done += 1
        return done

    def _features_for(self, keyframe_id: int) -> None:
        frame = self.keyframes.get(keyframe_id)
        if frame is None or frame.has_features:
            return
        pyramid, dense = self.extractor.features_for(frame.image.cpu().numpy())
        self.keyframes.set_features(keyframe_id, pyramid, dense)

    def _unfeatured_keyframe(self) -> int | None:
        """A keyframe still without features that is not queued (a burst overflowed the queue)
        and not given up on, or None."""
        for frame in self.keyframes.snapshot():
            if not frame.has_features and frame.id not in self.skipped_features:
                return frame.id
        return None

    def _feature_worker(self) -> None:
        while not self._stop.is_set():
            try:
                keyframe_id = self._feature_queue.get(timeout=0.2)
            except queue.Empty:
                keyframe_id = self._unfeatured_keyframe()
                if keyframe_id is None:
                    continue
            try:
                self._features_for(keyframe_id)
                self._feature_failures.pop(keyframe_id, None)
            except Exception as error:  # keep serving; report, retry, then skip
                self._feature_failed(keyframe_id, error)

    def _feature_failed(self, keyframe_id: int, error: BaseException) -> None:
        self._feature_failures[keyframe_id] += 1
        tries = self._feature_failures[keyframe_id]
        detail = " ".join(str(error).split())[:200] or type(error).__name__
        if tries >= FEATURE_ATTEMPTS:
            self.skipped_features.add(keyframe_id)
            del self._feature_failures[keyframe_id]
            self.error = (
                f"feature extraction failed for keyframe {keyframe_id} {tries} times, "
                f"skipped (trains colour only): {detail}"
            )
        else:
            self.error = f"feature extraction failed for keyframe {keyframe_id}, retrying: {detail}"
            with contextlib.suppress(queue.Full):
                self._feature_queue.put_nowait(keyframe_id)
        LOG.warning("%s", self.error, exc_info=error)
        self._stop.wait(FEATURE_RETRY_DELAY)

    def _guarded(self, loop, name: str) -> None:
        """Run a worker loop; whatever escapes it (even a BaseException raised by an encoder)
        is reported and the loop restarts: a worker never dies while the engine runs."""
        while not self._stop.is_set():
            try:
                loop()
            except BaseException as error:  # the thread must survive
                self.error = f"{name} worker crashed and restarted: {error!r}"
                LOG.error("%s", self.error, exc_info=error)
                self._stop.wait(FEATURE_RETRY_DELAY)

    # ---------------------------------------------------------------- training
    def train_step(self) -> StepStats | None:
        """One step on the current keyframes (None when there is nothing to train on)."""
        frames = self.keyframes.snapshot()
        if not frames or self.trainer is None:
            return None
        with self.model_lock:
            try:
                stats = self.trainer.step(frames)
            except torch.OutOfMemoryError as error:
                self._shrink_batch(error)
                return None
        self.last_stats = stats
        # Exponential moving average: a single slow step (a query held the lock) is noise.
        self._rays_per_second = 0.9 * self._rays_per_second + 0.1 * stats.rays_per_second
        return stats

    def _shrink_batch(self, error: BaseException | None = None) -> None:
        trainer_config = self.config.trainer
        before = trainer_config.rays_per_batch
        # Never grows the batch (the floor used to be 256, above small configured batches).
        trainer_config.rays_per_batch = max(min(before, MIN_RAYS_PER_BATCH), before // 2)
        if trainer_config.rays_per_batch < before:
            self.error = (
                f"out of memory; rays per batch reduced {before} -> {trainer_config.rays_per_batch}"
            )
        else:
            self.error = f"out of memory at the smallest batch ({before} rays); retrying"
        LOG.warning("%s (%s)", self.error, " ".join(str(error).split())[:200])
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _train_loop(self) -> None:
        max_steps = self.config.trainer.max_steps
        while not self._stop.is_set():
            if self._paused.is_set() or (max_steps and self.step >= max_steps):
                time.sleep(0.05)
                continue
            try:
                if self.train_step() is None:
                    time.sleep(0.05)
            except Exception as error:
                self.error = f"training step failed: {error}"
                LOG.exception("training step failed")
                time.sleep(1.0)

    def start(self) -> None:
        """Start the feature worker and the training loop (online mode)."""
        if self._threads:
            return
        self._stop.clear()
        for target, name in ((self._feature_worker, "features"), (self._train_loop, "training")):
            thread = threading.Thread(
                target=self._guarded, args=(target, name), name=f"lerf-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()

    def pause(self, paused: bool) -> None:
        (self._paused.set if paused else self._paused.clear)()

    def reset(self) -> None:
        """Forget every keyframe and the model (frames keep coming in)."""
        with self.model_lock:
            self.keyframes.clear()
            self.selector.reset()
            self.trainer = None
            self._candidates = None
            self.last_stats = None
            self.skipped_features.clear()
            self._feature_failures.clear()
            while not self._feature_queue.empty():
                self._feature_queue.get_nowait()

    # ------------------------------------------------------------------ status
    @property
    def step(self) -> int:
        return self.trainer.step_count if self.trainer is not None else 0

    def not_ready_reason(self) -> str | None:
        trainer_config = self.config.trainer
        frames = self.keyframes.snapshot()
        with_features = sum(f.has_features for f in frames)
        if not frames:
            return "not ready: no keyframes received yet"
        # Keyframes whose features were given up on cannot hold readiness back for ever.
        eligible = sum(f.id not in self.skipped_features for f in frames)
        needed = min(trainer_config.ready_keyframes, eligible)
        if with_features < needed or with_features == 0:
            return f"not ready: language features for {with_features}/{max(needed, 1)} keyframes"
        if self.step < trainer_config.ready_steps:
            return f"not ready: trained {self.step}/{trainer_config.ready_steps} steps"
        # A trained field may still show no surface seen by enough views: the query says so
        # (NO_SURFACE) and the next one looks again. Not part of readiness, which nothing but
        # a query would ever re-check.
        return None

    @property
    def ready(self) -> bool:
        return self.not_ready_reason() is None

    def status(self) -> EngineStatus:
        frames = self.keyframes.snapshot()
        reason = self.not_ready_reason()
        if self._paused.is_set():
            state = "paused"
        elif self.error and not self._threads:
            state = "error"
        elif not frames:
            state = "waiting"
        else:
            state = "training"
        stats = self.last_stats
        return EngineStatus(
            state=state,
            ready=reason is None,
            step=self.step,
            keyframes=len(frames),
            keyframes_with_features=sum(f.has_features for f in frames),
            frames_received=self.frames_received,
            frames_dropped=sum(self.drops.values()),
            rays_per_second=self._rays_per_second,
            rgb_loss=stats.rgb_loss if stats else 0.0,
            clip_loss=stats.clip_loss if stats else 0.0,
            dino_loss=stats.dino_loss if stats else 0.0,
            message=f"{reason} (last error: {self.error})"
            if reason and self.error
            else reason or self.error,
            drop_reasons=dict(self.drops),
            error=self.error,
        )

    # ------------------------------------------------------------------- query
    def candidates(self) -> tuple[Candidates, list[DepthView], torch.Tensor]:
        """Surface candidates and their language features (cached; call under the lock)."""
        assert self.trainer is not None
        cached = self._candidates
        stale = (
            cached is None
            or len(cached[0]) == 0  # an empty field early in training fills in within steps
            or self.step - cached[0].step >= self.config.query.refresh_steps
        )
        if stale:
            frames = self.keyframes.snapshot()
            candidates, views = compute_candidates(
                self.trainer.model, frames, self.config.query, self.step, self.device
            )
            candidates = candidates.filtered(min(self.config.query.min_views, len(frames)))
            features = encode_in_chunks(
                self.trainer.model, torch.as_tensor(candidates.points, device=self.device)
            )
            cached = (candidates, views, features)
            self._candidates = cached
        elif cached[0].step != self.step:
            # Geometry is recent enough, but language features follow the latest weights.
            candidates, views, _ = cached
            features = encode_in_chunks(
                self.trainer.model, torch.as_tensor(candidates.points, device=self.device)
            )
            cached = (candidates, views, features)
        return cached

    def depth_views(self) -> list[DepthView]:
        """The keyframes' rendered depth maps behind the current candidates (what was seen)."""
        with self.model_lock:
            return self.candidates()[1]

    def query(
        self,
        text: str,
        negatives: list[str] | tuple[str, ...] = (),
        scale: float | None = None,
        max_results: int | None = None,
        min_relevancy: float | None = None,
        return_cloud: bool = False,
    ) -> QueryResult:
        """Answer a language query (raises QueryError for bad requests, NotReadyError)."""
        request = validate_request(
            text, self.config.query, negatives, scale, max_results, min_relevancy, return_cloud
        )
        reason = self.not_ready_reason()
        if reason is not None:
            raise NotReadyError(reason)
        with self.model_lock:
            assert self.trainer is not None
            started = time.perf_counter()
            candidates, _, features = self.candidates()
            prepared = time.perf_counter() - started
            if len(candidates) == 0:
                raise NotReadyError(NO_SURFACE)
            result = run_query(
                self.trainer.model,
                self.texts,
                candidates,
                request,
                self.config.query,
                self.device,
                features,
            )
        result.timings["candidates"] = prepared
        return result

    def relevancy_view(
        self,
        text: str,
        keyframe_index: int = -1,
        scale: float | None = None,
        negatives: list[str] | None = None,
        width: int | None = None,
    ) -> dict[str, np.ndarray]:
        """2D relevancy of ``text`` rendered from a keyframe's view (latest by default),
        optionally at a reduced ``width``."""
        request = validate_request(text, self.config.query, negatives or [], scale)
        frames = self.keyframes.snapshot()
        if not frames or self.trainer is None:
            raise NotReadyError("not ready: no keyframes")
        frame = frames[keyframe_index]
        intrinsics = frame.intrinsics
        if width is not None and 0 < width < intrinsics.width:
            intrinsics = intrinsics.scaled(width / intrinsics.width)
        if request.scale is None:
            request.scale = self.query(text, negatives or []).selected_scale
        # The picture renders block by block, each under the model lock (queries and training
        # steps go on in between, the weights may move by a step or two across the picture).
        return relevancy_image(
            self.trainer.model,
            self.texts,
            intrinsics,
            frame.c2w,
            request.text,
            request.scale,
            request.negatives,
            self.device,
            lock=self.model_lock,
        )

    # ------------------------------------------------------------ checkpoints
    def save(self, path: str | Path) -> Path:
        """Atomically write weights, optimiser, keyframes and their features."""
        with self.model_lock:
            if self.trainer is None:
                raise NotReadyError("nothing to save: no keyframes yet")
            payload = {
                "frame_id": self.frame_id,
                "step": self.step,
                "aabb": self.trainer.model.aabb.cpu(),
                "clip_dim": int(self.encoder.dim),
                "dino_dim": int(self.dense_encoder.dim) if self.dense_encoder is not None else 0,
                "encoder": getattr(self.encoder, "name", type(self.encoder).__name__),
                "model": {k: v.cpu() for k, v in self.trainer.model.state_dict().items()},
                "optimizer": self.trainer.optimizer.state_dict(),
                "keyframes": [_keyframe_to_dict(f) for f in self.keyframes.snapshot()],
            }
        return save_checkpoint(path, payload)

    def load(self, path: str | Path) -> None:
        """Resume from :meth:`save`'s output (raises CheckpointError naming the problem).

        Everything is rebuilt aside and swapped in only when the whole checkpoint loaded: a
        malformed one (another preset, a damaged payload) leaves the running field as it was.
        """
        data = load_checkpoint(path, map_location="cpu")
        try:
            encoder_name = getattr(self.encoder, "name", type(self.encoder).__name__)
            if not isinstance(data["encoder"], str) or data["encoder"] != encoder_name:
                raise CheckpointError(
                    f"checkpoint {path}: trained with encoder {_brief(data['encoder'])}, "
                    f"this engine uses {encoder_name!r}"
                )
            dino_dim = int(data["dino_dim"])
            expected_dino = int(self.dense_encoder.dim) if self.dense_encoder is not None else 0
            if int(data["clip_dim"]) != int(self.encoder.dim) or dino_dim != expected_dino:
                raise CheckpointError(
                    f"checkpoint {path}: feature sizes {data['clip_dim']}/{dino_dim} do not "
                    f"match this engine's encoders ({self.encoder.dim}/{expected_dino})"
                )
            if not isinstance(data["keyframes"], list):
                raise TypeError(f"keyframes is a {type(data['keyframes']).__name__}, not a list")
            keyframes = [_keyframe_from_dict(d, self.device) for d in data["keyframes"]]
            trainer = Trainer(
                self.config, data["aabb"], int(data["clip_dim"]), dino_dim, self.device
            )
            trainer.model.load_state_dict(data["model"])
            trainer.optimizer.load_state_dict(data["optimizer"])
            trainer.step_count = int(data["step"])
            if trainer.step_count < 0:  # it sets the learning rate: exp of a huge power
                raise ValueError(f"step is negative ({trainer.step_count})")
            frame_id = str(data["frame_id"])
        except CheckpointError:
            raise
        except Exception as error:  # whatever a damaged payload provokes, named in one line
            detail = " ".join(str(error).split())[:300] or type(error).__name__
            raise CheckpointError(f"checkpoint {path}: malformed ({detail})") from error
        with self.model_lock:
            self.trainer = trainer
            self.frame_id = frame_id
            self.keyframes.clear()
            self.selector.reset()
            self.skipped_features.clear()
            self._feature_failures.clear()
            for keyframe in keyframes:
                self.keyframes.add(keyframe)
                evicted = self.selector.commit(keyframe.id, keyframe.c2w, keyframe.stamp)
                if evicted is not None:  # a checkpoint with more keyframes than this buffer
                    self.keyframes.remove(evicted)
            for keyframe in self.keyframes.snapshot():
                if not keyframe.has_features:
                    with contextlib.suppress(queue.Full):
                        self._feature_queue.put_nowait(keyframe.id)
            self._candidates = None


def _brief(value) -> str:
    """A checkpoint's value for a one-line message (a damaged one may be a whole tensor)."""
    return " ".join(repr(value).split())[:100]


def _keyframe_to_dict(frame: Keyframe) -> dict:
    i = frame.intrinsics
    return {
        "id": frame.id,
        "image": frame.image.cpu(),
        "intrinsics": [i.width, i.height, i.fx, i.fy, i.cx, i.cy, list(i.distortion)],
        "c2w": torch.as_tensor(frame.c2w),
        "stamp": float(frame.stamp),
        "camera": frame.camera,
        "pyramid": frame.pyramid.to_tensors() if frame.pyramid is not None else None,
        "dense": frame.dense.to_tensors() if frame.dense is not None else None,
    }


def _keyframe_from_dict(data: dict, device: torch.device) -> Keyframe:
    width, height, fx, fy, cx, cy, distortion = data["intrinsics"]
    pyramid = PyramidFeatures.from_tensors(data["pyramid"]) if data["pyramid"] else None
    dense = DenseFeatures.from_tensors(data["dense"]) if data["dense"] else None
    intrinsics = Intrinsics(int(width), int(height), fx, fy, cx, cy, tuple(distortion))
    # The same checks as a live frame: a damaged checkpoint must not poison training.
    c2w = validate_frame(data["image"].cpu().numpy(), intrinsics, data["c2w"].double().numpy())
    return Keyframe(
        id=int(data["id"]),
        image=data["image"].to(device),
        intrinsics=intrinsics,
        c2w=c2w,
        stamp=float(data["stamp"]),
        camera=str(data["camera"]),
        pyramid=pyramid.to(device) if pyramid is not None else None,
        dense=dense.to(device) if dense is not None else None,
    )


__all__ = ["EngineStatus", "LerfEngine", "NotReadyError", "QueryError"]
