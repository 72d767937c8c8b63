"""What the engine reports: its state, readiness and why not, speed, losses and drops."""

from __future__ import annotations

from dataclasses import dataclass, field

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
