"""What the engine reports: its state, readiness and why not, speed, losses and drops."""

from __future__ import annotations

from dataclasses import dataclass, field

from lerf_ros.data.drops import DropLedger
from lerf_ros.training.config import TrainerConfig
from lerf_ros.training.keyframe_store import Keyframe
from lerf_ros.training.readiness import Readiness


@dataclass
class EngineStatus:
    """A snapshot of the engine for ``~/status`` and progress bars."""

    state: str
    """'waiting' (no keyframes), 'training', 'paused' or 'error' (the workers stopped)."""
    ready: bool
    """Whether queries are answered (see ``message`` when not)."""
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
    losses: dict[str, float] = field(default_factory=dict)
    """The last step's loss terms by name (unweighted); empty before the first step."""
    skipped_steps: int = 0
    """Steps whose loss or gradients were not finite (their update skipped)."""
    rollbacks: int = 0
    """Times a run of non-finite steps restored the last good weights."""
    frames_without_depth: int = 0
    """Colour frames of a depth camera that trained without depth (none matched their stamp,
    or it was refused)."""
    depth_drop_reasons: dict[str, int] = field(default_factory=dict)
    """Refused depth images by reason ('bad depth: ...'); their colour images still trained."""
    keyframes_with_depth: int = 0
    """Keyframes that carry a depth image."""
    held_out: dict[str, float] = field(default_factory=dict)
    """The last readiness probe on held-out rays: ``rgb_error``, ``clip_cosine``,
    ``depth_error`` (those measured); empty before the first probe. Probing stops once the
    field is ready: then these are the values it became ready with."""
    latest_keyframe: tuple[int, str, float] | None = None
    """(id, camera, stamp in seconds) of the newest keyframe: the view a relevancy image
    renders by default; None without keyframes."""


def build_status(
    *,
    frames: list[Keyframe],
    reason: str | None,
    paused: bool,
    failed: bool,
    error: str,
    step: int,
    training,
    drops: DropLedger,
) -> EngineStatus:
    """The engine's status from its keyframes, readiness, training loop and drop ledger."""
    if paused:
        state = "paused"
    elif failed:
        state = "error"
    elif not frames:
        state = "waiting"
    else:
        state = "training"
    stats = training.last_stats
    trainer = training.trainer
    message = f"{reason} (last error: {error})" if reason and error else reason or error
    probe = None
    if trainer is not None:
        message = message or trainer.readiness.summary(step)
        probe = trainer.readiness.last
    latest = frames[-1] if frames else None
    return EngineStatus(
        state=state,
        ready=reason is None,
        step=step,
        keyframes=len(frames),
        keyframes_with_features=sum(f.has_features for f in frames),
        frames_received=drops.frames_received,
        frames_dropped=drops.frames_dropped,
        rays_per_second=training.rays_per_second,
        rgb_loss=stats.rgb_loss if stats else 0.0,
        clip_loss=stats.clip_loss if stats else 0.0,
        dino_loss=stats.dino_loss if stats else 0.0,
        message=message,
        drop_reasons=drops.reasons(),
        error=error,
        losses=dict(stats.losses) if stats else {},
        skipped_steps=trainer.skipped_steps if trainer is not None else 0,
        rollbacks=trainer.good_state.rollbacks if trainer is not None else 0,
        frames_without_depth=drops.frames_without_depth,
        depth_drop_reasons=drops.depth_reasons(),
        keyframes_with_depth=sum(f.depth is not None for f in frames),
        held_out=probe.values() if probe is not None else {},
        latest_keyframe=(latest.id, latest.camera, float(latest.stamp)) if latest else None,
    )


def not_ready_reason(
    frames: list[Keyframe],
    skipped_features: set[int],
    step: int,
    config: TrainerConfig,
    readiness: Readiness | None = None,
) -> str | None:
    """Why the field cannot answer yet, or None when it can: keyframes with language targets,
    ``ready_steps`` (a minimum), then the convergence test on held-out rays."""
    if not frames:
        return "not ready: no keyframes received yet"
    with_features = sum(f.has_features for f in frames)
    # Keyframes whose features were given up on cannot hold readiness back for ever.
    eligible = sum(f.id not in skipped_features for f in frames)
    needed = min(config.ready_keyframes, eligible)
    if with_features < needed or with_features == 0:
        return f"not ready: language features for {with_features}/{max(needed, 1)} keyframes"
    if step < config.ready_steps:
        return f"not ready: trained {step}/{config.ready_steps} steps"
    if readiness is not None:
        reason = readiness.reason(step)
        if reason is not None:
            return reason
    # A trained field may still show no surface seen by enough views: the query says so
    # (NO_SURFACE) and the next one looks again. Not part of readiness, which nothing but a
    # query would ever re-check.
    return None
