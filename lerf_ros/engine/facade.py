"""The engine the node and the CLI drive: keyframes in, training in the background, answers out.

Threads:
- the caller's (``add_frame``: validation and keyframe selection only, never blocks on training),
- a feature worker (crop pyramid + DINO per keyframe as it arrives, bounded queue),
- a training loop (one step at a time under the model lock).
Queries take the model lock only while they evaluate the field (a fraction of a second), so
training pauses briefly rather than stopping, and every answer sees one consistent model.
Readers (targets, pictures, the CLI, benchmarks) use the :class:`~lerf_ros.query.reader.
FieldReader` methods, never the trainer or the keyframes directly.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.depth import DepthError, check_registered, depth_drop_reason
from lerf_ros.data.drops import DropLedger
from lerf_ros.data.frame_sync import MAX_STAMP_AHEAD
from lerf_ros.data.keyframes import Decision, KeyframeConfig
from lerf_ros.engine.answers import FieldAnswers
from lerf_ros.engine.checkpoint_state import (
    EncoderIdentity,
    build_payload,
    field_copy,
    restore,
)
from lerf_ros.engine.fair_lock import FairLock
from lerf_ros.engine.frames import validate_frame
from lerf_ros.engine.status import EngineStatus, build_status, not_ready_reason
from lerf_ros.engine.workers import FeatureWorker, TrainingLoop, run_guarded
from lerf_ros.errors import NotReadyError
from lerf_ros.features.cache import FeatureCache
from lerf_ros.features.extractor import FeatureExtractor
from lerf_ros.query.candidates import DepthView
from lerf_ros.query.config import QueryConfig
from lerf_ros.query.query3d import QueryResult, TextEmbeddings
from lerf_ros.query.reader import KeyframeView
from lerf_ros.query.request import validate_request
from lerf_ros.training.checkpoint import load_checkpoint, save_checkpoint
from lerf_ros.training.config import LerfConfig
from lerf_ros.training.keyframe_store import KeyframeStore
from lerf_ros.training.trainer import StepStats, Trainer, resolve_device


class LerfEngine:
    """Online (or offline) LERF: add frames, train, query."""

    def __init__(
        self,
        config: LerfConfig,
        encoder,
        dense_encoder=None,
        frame_id: str = "map",
        drops: DropLedger | None = None,
    ):
        self.config = config.validate()  # the node and the CLI get the same error text
        self.frame_id = frame_id
        self.device = resolve_device(config.device)
        self.encoder = encoder.to(self.device) if hasattr(encoder, "to") else encoder
        self.dense_encoder = dense_encoder
        if dense_encoder is not None and hasattr(dense_encoder, "to"):
            self.dense_encoder = dense_encoder.to(self.device)
        self.identity = EncoderIdentity(
            name=getattr(self.encoder, "name", type(self.encoder).__name__),
            clip_dim=int(self.encoder.dim),
            dino_dim=int(self.dense_encoder.dim) if self.dense_encoder is not None else 0,
        )
        cache = FeatureCache(
            directory=config.feature_cache_dir,
            max_bytes=config.feature_cache_bytes,
            memory_bytes=config.feature_memory_bytes,
        )
        extractor = FeatureExtractor(
            self.encoder, self.dense_encoder, config.pyramid, cache, output_device=self.device
        )
        self.drops = drops if drops is not None else DropLedger()
        """Frames received and dropped, by reason (shared with the node that feeds us)."""
        self.error = ""
        """The last fault a worker survived ('' when none)."""
        self.keyframes = KeyframeStore(config.keyframes)
        self.model_lock = FairLock()
        """Held by a training step, a read of the field, a save's copy: in arrival order."""
        self.feature_worker = FeatureWorker(
            self.keyframes, extractor, self._report, 4 * config.keyframes.max_keyframes
        )
        self.training = TrainingLoop(config.trainer, self.keyframes, self.model_lock, self._report)
        self.answers = FieldAnswers(
            lambda: self.training.trainer,
            self.keyframes,
            self.model_lock,
            config.query,
            TextEmbeddings(self.encoder),
            self.device,
        )
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._threads: list[threading.Thread] = []
        self.last_save_hold_seconds = 0.0
        """How long the last save held the model lock (training waits that long)."""

    def _report(self, message: str) -> None:
        self.error = message

    @property
    def trainer(self) -> Trainer | None:
        return self.training.trainer

    # ------------------------------------------------------------------ frames
    def add_frame(
        self,
        image: np.ndarray,
        intrinsics: Intrinsics,
        c2w: np.ndarray,
        stamp: float,
        camera: str = "camera",
        force: bool = False,
        depth: np.ndarray | None = None,
    ) -> Decision:
        """Offer a frame; it becomes a keyframe if valid, sharp and new enough (or ``force``).

        ``depth``: float32 z-depth in metres [H, W] registered to ``image`` (0 = no reading).
        Depth that fails its checks is a counted depth drop; the frame trains colour only."""
        self.drops.received()
        try:
            pose = validate_frame(image, intrinsics, c2w)
            if not math.isfinite(stamp):
                raise ValueError(f"stamp must be finite, got {stamp}")
        except (ValueError, TypeError) as error:
            return self._drop(f"invalid frame: {error}")
        ahead = stamp - time.time()
        if ahead > MAX_STAMP_AHEAD:
            return self._drop(f"stamp in the future: {ahead:.0f} s ahead of this machine's clock")
        if depth is not None:
            depth = self._checked_depth(depth, image.shape)
        offer = self.keyframes.offer(
            image, intrinsics, pose, stamp, camera, force, self.device, depth
        )
        if offer.keyframe is None:
            return offer.decision  # not a keyframe is not a drop: the frame was fine
        with self.model_lock:
            if self.training.trainer is None:
                self.training.trainer = self._new_trainer(pose)
                self.answers.reset_pending = False
        self.feature_worker.enqueue(offer.keyframe.id)
        return offer.decision

    def _checked_depth(self, depth: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
        try:
            return check_registered(depth, shape)
        except DepthError as error:
            self.drops.drop_depth(depth_drop_reason(error))
            self.drops.without_depth()
            return None

    def _drop(self, reason: str) -> Decision:
        self.drops.drop(reason.split(":")[0])
        return Decision(False, reason)

    def _new_trainer(self, first_pose: np.ndarray) -> Trainer:
        scene = self.config.scene
        if scene.box_min is not None and scene.box_max is not None:
            aabb = torch.tensor([scene.box_min, scene.box_max], dtype=torch.float32)
        else:
            centre = first_pose[:3, 3]
            aabb = torch.tensor(
                np.stack([centre - scene.radius, centre + scene.radius]), dtype=torch.float32
            )
        identity = self.identity
        return Trainer(self.config, aabb, identity.clip_dim, identity.dino_dim, self.device)

    # -------------------------------------------------------- offline driving
    def compute_pending_features(self, limit: int | None = None) -> int:
        """Compute features of queued keyframes in the calling thread (offline use)."""
        return self.feature_worker.compute_pending(limit)

    def train_step(self) -> StepStats | None:
        """One step on the current keyframes (None when there is nothing to train on)."""
        return self.training.step()

    # ------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Start the feature worker and the training loop (online mode)."""
        if self._threads:
            return
        self._stop.clear()
        loops = (
            (lambda: self.feature_worker.loop(self._stop), "features"),
            (lambda: self.training.loop(self._stop, self._paused), "training"),
        )
        for loop, name in loops:
            thread = threading.Thread(
                target=run_guarded,
                args=(loop, name, self._stop, self._report),
                name=f"lerf-{name}",
                daemon=True,
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

    def set_query_config(self, query: QueryConfig) -> None:
        """Answer with ``query`` (swapped whole: a request reads one object) from now on."""
        self.config.query = query
        self.answers.set_config(query)

    def set_keyframe_config(self, keyframes: KeyframeConfig) -> None:
        """Select keyframes with ``keyframes``' thresholds (not its capacity) from now on."""
        self.config.keyframes = keyframes
        self.keyframes.set_config(keyframes)

    def reset(self) -> None:
        """Forget every keyframe and the model (frames keep coming in)."""
        with self.model_lock:
            self.keyframes.clear()
            self.training.trainer = None
            self.training.last_stats = None
            self.answers.clear()
            self.answers.reset_pending = True
            self.feature_worker.clear()

    # ------------------------------------------------------------------ status
    @property
    def step(self) -> int:
        trainer = self.training.trainer
        return trainer.step_count if trainer is not None else 0

    def not_ready_reason(self) -> str | None:
        trainer = self.training.trainer
        return not_ready_reason(
            self.keyframes.snapshot(),
            self.keyframes.skipped_features,
            self.step,
            self.config.trainer,
            trainer.readiness if trainer is not None else None,
        )

    @property
    def ready(self) -> bool:
        return self.not_ready_reason() is None

    def waive_ready_steps(self) -> None:
        """Answer whatever the step count: a field loaded to be read (not to train on) is
        trained as far as it will be; ``ready_steps`` is for a field still training online."""
        trainer_config = self.config.trainer
        trainer_config.ready_steps = min(trainer_config.ready_steps, self.step)
        if self.training.trainer is not None:
            self.training.trainer.readiness.waived = True

    def status(self) -> EngineStatus:
        return build_status(
            frames=self.keyframes.snapshot(),
            reason=self.not_ready_reason(),
            paused=self._paused.is_set(),
            failed=bool(self.error and not self._threads),
            error=self.error,
            step=self.step,
            training=self.training,
            drops=self.drops,
        )

    # ------------------------------------------------- reading (FieldReader)
    @property
    def query_config(self) -> QueryConfig:
        return self.config.query

    def query(
        self,
        text: str,
        negatives: Sequence[str] = (),
        scale: float | None = None,
        max_results: int | None = None,
        min_relevancy: float | None = None,
        return_cloud: bool = False,
    ) -> QueryResult:
        """Answer a language query (raises QueryError for bad requests, NotReadyError)."""
        request = validate_request(
            text, self.config.query, list(negatives), scale, max_results, min_relevancy,
            return_cloud,
        )  # fmt: skip
        reason = self.not_ready_reason()
        if reason is not None:
            raise NotReadyError(reason)
        return self.answers.query(request)

    def relevancy_view(
        self,
        text: str,
        keyframe_index: int = -1,
        scale: float | None = None,
        negatives: Sequence[str] | None = None,
        width: int | None = None,
    ) -> dict[str, np.ndarray]:
        """2D relevancy of ``text`` rendered from a keyframe's view (latest by default),
        optionally at a reduced ``width``."""
        negatives = list(negatives or [])
        request = validate_request(text, self.config.query, negatives, scale)
        if not self.keyframes.snapshot() or self.training.trainer is None:
            raise NotReadyError(self.answers.no_field_reason())
        if request.scale is None:
            request.scale = self.query(text, negatives).selected_scale
        return self.answers.relevancy_view(request, keyframe_index, width)

    def density(self, points: np.ndarray) -> np.ndarray:
        return self.answers.density(points)

    def depth_views(self) -> list[DepthView]:
        """The keyframes' rendered depth maps behind the current candidates (what was seen)."""
        return self.answers.depth_views()

    def keyframe_views(self) -> list[KeyframeView]:
        return [
            KeyframeView(f.image.cpu().numpy(), f.intrinsics, np.array(f.c2w, dtype=np.float64))
            for f in self.keyframes.snapshot()
        ]

    def camera_positions(self) -> np.ndarray:
        frames = self.keyframes.snapshot()
        return np.array([f.c2w[:3, 3] for f in frames], dtype=np.float64).reshape(-1, 3)

    def render_view(self, intrinsics: Intrinsics, c2w: np.ndarray) -> dict[str, np.ndarray]:
        return self.answers.render_view(intrinsics, c2w)

    # ------------------------------------------------------------ checkpoints
    def save(self, path: str | Path) -> Path:
        """Atomically write weights, optimiser, keyframes and their features."""
        with self.model_lock:
            held = time.perf_counter()
            if self.training.trainer is None:
                raise NotReadyError("nothing to save: no keyframes yet")
            field = field_copy(self.training.trainer)
            keyframes, frame_id = self.keyframes.snapshot(), self.frame_id
            self.last_save_hold_seconds = time.perf_counter() - held
        # Keyframes, the digest and the disk write work on copies: training goes on meanwhile.
        return save_checkpoint(path, build_payload(field, keyframes, self.identity, frame_id))

    def load(self, path: str | Path) -> None:
        """Resume from :meth:`save`'s output (raises CheckpointError naming the problem).

        Everything is rebuilt aside and swapped in only when the whole checkpoint loaded: a
        malformed one (another preset, a damaged payload) leaves the running field as it was.
        """
        data = load_checkpoint(path, map_location="cpu")
        state = restore(data, path, self.config, self.identity, self.device)
        with self.model_lock:
            self.training.trainer = state.trainer
            self.frame_id = state.frame_id
            self.keyframes.replace_all(state.keyframes)
            self.feature_worker.clear()
            for keyframe in self.keyframes.snapshot():
                if not keyframe.has_features:
                    self.feature_worker.enqueue(keyframe.id)
            self.answers.clear()
