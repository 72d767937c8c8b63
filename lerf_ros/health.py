"""The trainer's health as named entries with a level (ROS-free; ``/diagnostics`` publishes them).

:class:`HealthMonitor` turns one :class:`HealthReadings` a second (the engine's status, the
drop ledger's counts, the feature queue, memory) into :class:`HealthEntry` items: ``training``,
``frames``, ``feature queue``, ``memory`` and ``last error``, each ``OK``, ``WARN`` or
``ERROR`` with a one-line message and key/values. The levels match
``diagnostic_msgs/DiagnosticStatus``. Some levels need history (how long not ready, drops over
the last window, when the last error appeared), which the monitor keeps between updates.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # no torch import for a type
    from lerf_ros.engine.status import EngineStatus

OK, WARN, ERROR = 0, 1, 2
"""Levels, as diagnostic_msgs/DiagnosticStatus numbers them."""

LEVEL_NAMES = {OK: "OK", WARN: "WARN", ERROR: "ERROR"}


@dataclass
class HealthThresholds:
    """When an entry turns WARN or ERROR."""

    not_ready_s: float = 600.0
    """Seconds active without answering queries (or loading encoders) before WARN: the demo
    gets ready in 75-100 s on two CPU cores."""
    stalled_s: float = 15.0
    """Seconds of zero rays/s while active with keyframes (and not paused) before WARN."""
    no_frames_s: float = 30.0
    """Seconds active without any frame received before WARN (camera topics wrong or silent)."""
    window_s: float = 30.0
    """Window (s) over which the drop rate is measured."""
    drop_rate: float = 0.5
    """Share of the window's frames dropped above which ``frames`` is WARN."""
    min_frames: int = 5
    """Frames the window must hold before its drop rate counts (one bad frame is no trend)."""
    feature_queue_full: float = 0.9
    """Share of the feature queue's capacity at which ``feature queue`` is WARN."""
    memory_share: float = 0.9
    """Share of host (or GPU) memory in use by this process at which ``memory`` is WARN."""
    error_recent_s: float = 60.0
    """A new engine error (or a rollback of diverged weights) this recent is ERROR."""


@dataclass
class HealthReadings:
    """What the node knows at one instant."""

    lifecycle: str = "active"
    """The node's lifecycle state ('unconfigured', 'inactive', 'active', ...)."""
    status: EngineStatus | None = None
    """The engine's status; None while there is no engine (loading, failed, cleaned up)."""
    engine_error: str = ""
    """Why the engine could not be built ('' when it was, or still loads)."""
    frames_received: int = 0
    frames_dropped: int = 0
    drop_reasons: dict[str, int] = field(default_factory=dict)
    feature_queue: int = 0
    """Keyframes waiting for their CLIP/DINO features."""
    feature_queue_capacity: int = 0
    feature_overflows: int = 0
    """Keyframes not queued because the queue was full (computed later, when it is idle)."""
    host_rss: int = 0
    """Bytes of host memory the process uses (resident)."""
    host_total: int = 0
    gpu_allocated: int = 0
    """Bytes torch has allocated on the engine's GPU (0 on the CPU)."""
    gpu_reserved: int = 0
    gpu_total: int = 0
    """Bytes of GPU memory (0: no GPU)."""


@dataclass
class HealthEntry:
    """One named line of the node's health."""

    name: str
    level: int
    message: str
    values: dict[str, str] = field(default_factory=dict)


def _since(start: float | None, condition: bool, now: float) -> float | None:
    """When ``condition`` began to hold (``now`` if just now), None while it does not."""
    if not condition:
        return None
    return now if start is None else start


def _mib(size: int) -> str:
    return f"{size / 2**20:.0f}"


class HealthMonitor:
    """Keeps what the levels need from one update to the next; :meth:`update` once a second."""

    def __init__(self, thresholds: HealthThresholds | None = None):
        self.thresholds = thresholds or HealthThresholds()
        self._samples: deque[tuple[float, int, int]] = deque()
        self._last_step: tuple[float, int] | None = None
        self._unready_since: float | None = None
        self._stalled_since: float | None = None
        self._frameless_since: float | None = None
        self._error: tuple[str, float] = ("", 0.0)
        self._rollbacks: tuple[int, float] = (0, float("-inf"))

    def update(self, r: HealthReadings, now: float) -> list[HealthEntry]:
        """The entries for readings ``r`` taken at ``now`` (monotonic seconds)."""
        active = r.lifecycle == "active"
        self._track(r, now, active)
        return [
            self._training(r, now, active),
            self._frames(r, now, active),
            self._feature_queue(r),
            self._memory(r),
            self._last_error(r, now),
        ]

    # ------------------------------------------------------------ history
    def _track(self, r: HealthReadings, now: float, active: bool) -> None:
        s = r.status
        self._samples.append((now, r.frames_received, r.frames_dropped))
        while self._samples and now - self._samples[0][0] > self.thresholds.window_s:
            self._samples.popleft()
        training = active and s is not None and s.keyframes > 0 and s.state == "training"
        self._unready_since = _since(self._unready_since, active and not (s and s.ready), now)
        self._stalled_since = _since(self._stalled_since, training and s.rays_per_second <= 0, now)
        self._frameless_since = _since(self._frameless_since, active and not r.frames_received, now)
        error = (s.error if s is not None else "") or r.engine_error
        if error != self._error[0]:
            self._error = (error, now)
        rollbacks = s.rollbacks if s is not None else 0
        if rollbacks > self._rollbacks[0]:
            self._rollbacks = (rollbacks, now)
        elif rollbacks < self._rollbacks[0]:  # a new engine (cleanup, configure) counts anew
            self._rollbacks = (rollbacks, float("-inf"))

    def _since(self, start: float | None, now: float, limit: float) -> bool:
        return start is not None and now - start >= limit

    # ------------------------------------------------------------ entries
    def _training(self, r: HealthReadings, now: float, active: bool) -> HealthEntry:
        t, s = self.thresholds, r.status
        values = {"lifecycle": r.lifecycle}
        if s is None:
            values["state"] = "error" if r.engine_error else "no engine"
            if r.engine_error:
                return HealthEntry("training", ERROR, r.engine_error, values)
            if not active:
                return HealthEntry("training", OK, f"{r.lifecycle} (lifecycle)", values)
            late = self._since(self._unready_since, now, t.not_ready_s)
            return HealthEntry("training", WARN if late else OK, "loading encoders", values)
        steps_per_second = 0.0
        if self._last_step is not None and now > self._last_step[0]:
            steps_per_second = max(0, s.step - self._last_step[1]) / (now - self._last_step[0])
        self._last_step = (now, s.step)
        values.update(
            state=s.state,
            ready=str(s.ready).lower(),
            step=str(s.step),
            steps_per_second=f"{steps_per_second:.2f}",
            rays_per_second=f"{s.rays_per_second:.0f}",
            keyframes=str(s.keyframes),
            keyframes_with_features=str(s.keyframes_with_features),
            keyframes_with_depth=str(s.keyframes_with_depth),
            skipped_steps=str(s.skipped_steps),
            rollbacks=str(s.rollbacks),
        )
        if s.state == "error":
            return HealthEntry("training", ERROR, f"training stopped: {s.error}", values)
        if self._rollbacks[1] > now - t.error_recent_s:
            message = f"diverged: weights rolled back ({s.rollbacks} in all)"
            return HealthEntry("training", ERROR, message, values)
        if not active:
            return HealthEntry("training", OK, f"{r.lifecycle} (lifecycle)", values)
        if self._since(self._stalled_since, now, t.stalled_s):
            message = f"no rays trained for {now - self._stalled_since:.0f} s"
            return HealthEntry("training", WARN, message, values)
        if self._since(self._unready_since, now, t.not_ready_s):
            message = f"not ready for {now - self._unready_since:.0f} s: {s.message}"
            return HealthEntry("training", WARN, message, values)
        return HealthEntry("training", OK, "ready" if s.ready else s.message or s.state, values)

    def _frames(self, r: HealthReadings, now: float, active: bool) -> HealthEntry:
        t = self.thresholds
        first, last = self._samples[0], self._samples[-1]
        received, dropped = last[1] - first[1], last[2] - first[2]
        rate = dropped / received if received > 0 else 0.0
        values = {
            "received": str(r.frames_received),
            "dropped": str(r.frames_dropped),
            f"drop_rate_{t.window_s:.0f}s": f"{rate:.2f}",
        }
        values.update({f"dropped: {k}": str(v) for k, v in sorted(r.drop_reasons.items())})
        if received >= t.min_frames and rate > t.drop_rate:
            top = max(r.drop_reasons.items(), key=lambda kv: kv[1], default=("?", 0))[0]
            message = f"{rate:.0%} of the last {received} frames dropped (mostly: {top})"
            return HealthEntry("frames", WARN, message, values)
        if self._since(self._frameless_since, now, t.no_frames_s):
            message = f"no frames received for {now - self._frameless_since:.0f} s"
            return HealthEntry("frames", WARN, message, values)
        return HealthEntry(
            "frames", OK, f"{received} frames in the last {t.window_s:.0f} s", values
        )

    def _feature_queue(self, r: HealthReadings) -> HealthEntry:
        values = {
            "depth": str(r.feature_queue),
            "capacity": str(r.feature_queue_capacity),
            "overflows": str(r.feature_overflows),
        }
        if r.status is not None:
            pending = r.status.keyframes - r.status.keyframes_with_features
            values["keyframes_without_features"] = str(max(0, pending))
        capacity = r.feature_queue_capacity
        if capacity > 0 and r.feature_queue >= self.thresholds.feature_queue_full * capacity:
            message = f"{r.feature_queue}/{capacity} keyframes wait for features"
            return HealthEntry("feature queue", WARN, message, values)
        return HealthEntry("feature queue", OK, f"{r.feature_queue} waiting", values)

    def _memory(self, r: HealthReadings) -> HealthEntry:
        values = {"host_rss_mib": _mib(r.host_rss), "host_total_mib": _mib(r.host_total)}
        if r.gpu_total:
            values.update(
                gpu_allocated_mib=_mib(r.gpu_allocated),
                gpu_reserved_mib=_mib(r.gpu_reserved),
                gpu_total_mib=_mib(r.gpu_total),
            )
        share = self.thresholds.memory_share
        full = []
        if r.host_total and r.host_rss >= share * r.host_total:
            full.append(f"host {r.host_rss / r.host_total:.0%}")
        if r.gpu_total and r.gpu_reserved >= share * r.gpu_total:
            full.append(f"GPU {r.gpu_reserved / r.gpu_total:.0%}")
        if full:
            return HealthEntry("memory", WARN, "memory nearly full: " + ", ".join(full), values)
        gpu = f", GPU {_mib(r.gpu_allocated)} MiB" if r.gpu_total else ""
        return HealthEntry("memory", OK, f"host {_mib(r.host_rss)} MiB{gpu}", values)

    def _last_error(self, r: HealthReadings, now: float) -> HealthEntry:
        error, since = self._error
        if not error:
            return HealthEntry("last error", OK, "none", {})
        age = now - since
        values = {"error": error, "age_s": f"{age:.0f}"}
        level = ERROR if age < self.thresholds.error_recent_s else OK
        return HealthEntry("last error", level, f"{age:.0f} s ago: {error}", values)
