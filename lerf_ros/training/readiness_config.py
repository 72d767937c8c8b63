"""Settings of the readiness test (:mod:`lerf_ros.training.readiness`); a module of its own
because the composition root :class:`~lerf_ros.training.config.LerfConfig` imports it and the
test itself imports the model, which imports the composition root."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ReadinessConfig:
    """When the field's answers are trusted: a convergence test on held-out rays."""

    enabled: bool = True
    """Gate readiness on the convergence test on held-out rays; False: ready after
    ``ready_steps`` alone (a fixed budget, e.g. to test serving rather than quality)."""
    check_every: int = 25
    """Training steps between two probes of the held-out rays."""
    probe_keyframes: int = 8
    """The probe uses the held-out rays of this many most recent keyframes."""
    probe_rays: int = 1024
    """At most this many held-out rays per probe."""
    max_rgb_error: float = 0.02
    """Largest held-out colour mean squared error (0.02: PSNR 17 dB)."""
    min_clip_cosine: float = 0.75
    """Smallest cosine of the rendered CLIP embedding with its crop-pyramid target, averaged
    over the worst tenth of the held-out rays (small objects are few pixels: a mean over all
    rays is high long before they are learnt)."""
    max_depth_error: float = 0.1
    """Largest median held-out depth error (metres) where keyframes have depth readings."""
    window: int = 4
    """Probes in a row that must be within the bounds and stable."""
    tolerance: float = 0.15
    """Stable: over the window each metric varies by at most this fraction of its bound's
    margin (colour 0.003, CLIP cosine 0.06, depth 0.015 m at the defaults)."""
    max_steps: int = 5000
    """Ready after this many steps even without convergence, and the status says so (0:
    never): a scene the bounds do not suit must not keep a robot waiting for ever."""
