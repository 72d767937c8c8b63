"""The engine's two background jobs: language features per keyframe, and the training loop.

Neither may die while the engine runs: a failing extraction is retried and then skipped (the
keyframe still trains colour), an out-of-memory step halves the batch, and whatever escapes a
loop is reported and the loop restarts (:func:`run_guarded`).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable

import torch

from lerf_ros.engine.fair_lock import FairLock
from lerf_ros.features.extractor import FeatureExtractor
from lerf_ros.training.config import TrainerConfig
from lerf_ros.training.keyframe_store import KeyframeStore
from lerf_ros.training.trainer import StepStats, Trainer

LOG = logging.getLogger("lerf_ros.engine")

FEATURE_ATTEMPTS = 3
"""Tries at a keyframe's features before the worker skips it (it still trains colour)."""

FEATURE_RETRY_DELAY = 0.5
"""Seconds the feature worker waits after a failure before it goes on."""

MIN_RAYS_PER_BATCH = 32
"""Out-of-memory halving stops here (or at the configured batch, if that is smaller)."""

Report = Callable[[str], None]
"""Where a worker reports the last fault it survived (the engine's ``error``)."""


def run_guarded(loop: Callable[[], None], name: str, stop: threading.Event, report: Report):
    """Run a worker loop; whatever escapes it (even a BaseException raised by an encoder) is
    reported and the loop restarts: a worker never dies while the engine runs."""
    while not stop.is_set():
        try:
            loop()
        except BaseException as error:  # the thread must survive
            message = f"{name} worker crashed and restarted: {error!r}"
            report(message)
            LOG.error("%s", message, exc_info=error)
            stop.wait(FEATURE_RETRY_DELAY)


class FeatureWorker:
    """Computes each keyframe's crop pyramid and DINO map, newest arrivals first in line."""

    def __init__(
        self,
        keyframes: KeyframeStore,
        extractor: FeatureExtractor,
        report: Report,
        queue_size: int,
    ):
        self.keyframes = keyframes
        self.extractor = extractor
        self.report = report
        self.queue: queue.Queue[int] = queue.Queue(maxsize=queue_size)
        """Keyframe ids in arrival order; bounded (a burst overflows it, see ``enqueue``)."""
        self.overflows = 0
        """Keyframes not queued because the queue was full (the worker finds them later)."""

    def enqueue(self, keyframe_id: int) -> None:
        try:
            self.queue.put_nowait(keyframe_id)
        except queue.Full:  # a burst: the worker picks unfeatured keyframes up when idle
            self.overflows += 1

    def clear(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self.queue.get_nowait()

    def compute_pending(self, limit: int | None = None) -> int:
        """Compute features of queued keyframes in the calling thread (offline use)."""
        done = 0
        while limit is None or done < limit:
            try:
                keyframe_id = self.queue.get_nowait()
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

    def loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                keyframe_id = self.queue.get(timeout=0.2)
            except queue.Empty:
                keyframe_id = self.keyframes.next_without_features()
                if keyframe_id is None:
                    continue
            try:
                self._features_for(keyframe_id)
            except Exception as error:  # keep serving; report, retry, then skip
                self._failed(keyframe_id, error, stop)

    def _failed(self, keyframe_id: int, error: BaseException, stop: threading.Event) -> None:
        tries, skipped = self.keyframes.feature_failed(keyframe_id, FEATURE_ATTEMPTS)
        detail = " ".join(str(error).split())[:200] or type(error).__name__
        if skipped:
            message = (
                f"feature extraction failed for keyframe {keyframe_id} {tries} times, "
                f"skipped (trains colour only): {detail}"
            )
        else:
            message = f"feature extraction failed for keyframe {keyframe_id}, retrying: {detail}"
            self.enqueue(keyframe_id)
        self.report(message)
        LOG.warning("%s", message, exc_info=error)
        stop.wait(FEATURE_RETRY_DELAY)


class TrainingLoop:
    """Steps the trainer under the model lock; halves the batch when a step runs out of memory."""

    def __init__(
        self,
        config: TrainerConfig,
        keyframes: KeyframeStore,
        lock: FairLock,
        report: Report,
    ):
        self.config = config
        self.keyframes = keyframes
        self.lock = lock
        self.report = report
        self.trainer: Trainer | None = None
        self.last_stats: StepStats | None = None
        self.rays_per_second = 0.0
        """Exponential moving average: a single slow step (a query held the lock) is noise."""

    def step(self) -> StepStats | None:
        """One step on the keyframes now (None when there is nothing to train on, or out of
        memory)."""
        with self.lock:
            # Read under the lock: a reset may have cleared both while this thread waited.
            trainer, keyframes = self.trainer, self.keyframes.snapshot()
            if trainer is None or not keyframes:
                return None
            try:
                stats = trainer.step(keyframes)
            except torch.OutOfMemoryError as error:
                self._shrink_batch(error)
                return None
        self.last_stats = stats
        self.rays_per_second = 0.9 * self.rays_per_second + 0.1 * stats.rays_per_second
        if stats.rolled_back:
            self.report(self._rollback_message(trainer))
        probe = trainer.readiness.last
        if trainer.readiness.converged_at == stats.step and probe and probe.step == stats.step:
            measured = ", ".join(f"{k} {v:.3f}" for k, v in probe.values().items())
            LOG.info("converged at step %d on held-out rays (%s)", stats.step, measured)
        return stats

    @staticmethod
    def _rollback_message(trainer: Trainer) -> str:
        good = trainer.good_state
        first = trainer.first_nonfinite
        cause = f"; the first: {first.describe()}" if first is not None else ""
        return (
            f"training recovered from non-finite steps: rolled back to step {good.step} with "
            f"learning rate x{good.lr_scale:.3g} (rollback {good.rollbacks}){cause}"
        )

    def sample_batch(self):
        """A batch as the next step would draw it (the step profile times the sampling)."""
        with self.lock:
            return self.trainer.sample_batch(self.keyframes.snapshot())

    def fast_forward(self, step: int) -> None:
        """Set the step count to at least ``step`` (the benchmarks measure steps past the
        proposal warm-up without training through it)."""
        with self.lock:
            if self.trainer is not None:
                self.trainer.step_count = max(self.trainer.step_count, step)

    def _shrink_batch(self, error: BaseException) -> None:
        before = self.config.rays_per_batch
        # Never grows the batch (a fixed floor above a small configured batch would).
        self.config.rays_per_batch = max(min(before, MIN_RAYS_PER_BATCH), before // 2)
        if self.config.rays_per_batch < before:
            message = (
                f"out of memory; rays per batch reduced {before} -> {self.config.rays_per_batch}"
            )
        else:
            message = f"out of memory at the smallest batch ({before} rays); retrying"
        self.report(message)
        LOG.warning("%s (%s)", message, " ".join(str(error).split())[:200])
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def loop(self, stop: threading.Event, paused: threading.Event) -> None:
        while not stop.is_set():
            max_steps = self.config.max_steps
            step = self.trainer.step_count if self.trainer is not None else 0
            if paused.is_set() or (max_steps and step >= max_steps):
                time.sleep(0.05)
                continue
            try:
                if self.step() is None:
                    time.sleep(0.05)
            except Exception as error:
                self.report(f"training step failed: {error}")
                LOG.exception("training step failed")
                time.sleep(1.0)
