"""Readiness that measures itself: the field is ready when it predicts pixels it never trained
on well enough, and has stopped changing.

Every ``check_every`` steps the field renders the held-out rays (:mod:`.holdout`) of the most
recent keyframes and compares them with what the keyframes say: colour (mean squared error),
language (cosine of the rendered CLIP embedding with the crop pyramid's target) and, where the
keyframe has depth, depth (median absolute error of the rendered distance, in metres). Each
metric must be within its bound on the last ``window`` probes, and vary over them by less than
``tolerance`` of its bound (stable: a probe that happens to pass while the field still swings
does not count). Once ready, the field stays ready until a reset: new keyframes make the probe
worse for a while, and a planner must not see answers come and go.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from lerf_ros.training.batch import held_out_batch
from lerf_ros.training.keyframe_store import Keyframe
from lerf_ros.training.model import LerfModel, eval_mode
from lerf_ros.training.readiness_config import ReadinessConfig


@dataclass
class Probe:
    """One measurement of the field on held-out rays."""

    step: int
    rgb_error: float
    """Mean squared colour error."""
    clip_cosine: float | None
    """Mean cosine with the CLIP targets over the worst tenth of the rays; None without
    language targets yet."""
    depth_error: float | None
    """Median absolute distance error (metres); None without depth readings."""

    def values(self) -> dict[str, float]:
        """The measured metrics by name."""
        named = {
            "rgb_error": self.rgb_error,
            "clip_cosine": self.clip_cosine,
            "depth_error": self.depth_error,
        }
        return {key: value for key, value in named.items() if value is not None}


@dataclass
class Readiness:
    """The probes so far and the verdict."""

    config: ReadinessConfig = field(default_factory=ReadinessConfig)
    probes: deque[Probe] = field(default_factory=deque)
    converged_at: int | None = None
    """Step at which the test passed (None: not yet)."""
    waived: bool = False
    """Ready without a test (a field loaded to be read, not trained)."""

    @property
    def last(self) -> Probe | None:
        """The latest probe (None before the first)."""
        return self.probes[-1] if self.probes else None

    def due(self, step: int) -> bool:
        """Whether a probe is due after ``step`` (never once converged, waived or disabled)."""
        every = max(self.config.check_every, 1)
        done = self.converged_at is not None or self.waived or not self.config.enabled
        return not done and step % every == 0

    @torch.no_grad()
    def probe(self, model: LerfModel, keyframes: list[Keyframe], step: int) -> Probe | None:
        """Measure the field on the held-out rays of the recent keyframes (None: no keyframes)."""
        # The newest keyframes with language targets (online, the very newest still wait for
        # theirs): a probe without them would judge colour alone.
        with_targets = [frame for frame in keyframes if frame.pyramid is not None]
        recent = (with_targets or keyframes)[-self.config.probe_keyframes :]
        if not recent:
            return None
        device = next(model.parameters()).device
        batch = held_out_batch(recent, self.config.probe_rays, device)
        with eval_mode(model):
            out = model.render(
                batch.origins, batch.directions, batch.scale_per_distance, batch.language_mask
            )
        rgb_error = float(F.mse_loss(out.rgb.float(), batch.rgb))
        clip_cosine = None
        if out.clip is not None and batch.clip is not None and len(batch.clip):
            cosines = F.cosine_similarity(out.clip.float(), batch.clip, dim=-1)
            # The worst tenth of the rays: small objects are a small share of the pixels, and
            # a mean over all of them is high long before they are learnt.
            worst = max(1, len(cosines) // 10)
            clip_cosine = float(cosines.sort().values[:worst].mean())
        depth_error = None
        if batch.depth is not None and bool((batch.depth > 0).any()):
            rows = batch.depth[:, 0] > 0
            depth_error = float((out.depth[rows] - batch.depth[rows]).abs().median())
        result = Probe(step, rgb_error, clip_cosine, depth_error)
        self.probes.append(result)
        while len(self.probes) > self.config.window:
            self.probes.popleft()
        if self.converged_at is None and self._failing() is None:
            self.converged_at = step
        return result

    def _failing(self) -> str | None:
        """Why the last probes do not pass (None: they pass)."""
        c = self.config
        if not self.probes:
            return "no probe of the held-out rays yet"
        last = self.probes[-1]
        checks = [("colour error", [p.rgb_error for p in self.probes], c.max_rgb_error, False)]
        if last.clip_cosine is not None:
            cosines = [p.clip_cosine for p in self.probes]
            checks.append(("CLIP cosine", cosines, c.min_clip_cosine, True))
        if last.depth_error is not None:
            depths = [p.depth_error for p in self.probes]
            checks.append(("depth error", depths, c.max_depth_error, False))
        for name, values, bound, at_least in checks:
            if any(v is None or not math.isfinite(v) for v in values):
                return f"{name} not measured on {c.window} probes yet"
            value = values[-1]
            passes = value >= bound if at_least else value <= bound
            if not passes:
                relation = "<" if at_least else ">"
                unit = " m" if name == "depth error" else ""
                return f"{name} {value:.3f}{unit} {relation} {bound:g}{unit} on held-out rays"
        if len(self.probes) < c.window:
            return f"held-out rays measured on {len(self.probes)}/{c.window} probes"
        for name, values, bound, at_least in checks:
            # Stable: a probe that dips under the bound while the field still swings (a burst
            # of new keyframes, a learning-rate spike) does not count.
            margin = (1.0 - bound) if at_least else bound
            low, high = min(values), max(values)
            if high - low > c.tolerance * margin:
                return f"{name} still changing ({low:.3f}-{high:.3f}) on held-out rays"
        return None

    def reason(self, step: int) -> str | None:
        """Why the field is not ready (``not ready: ...``), or None when it is."""
        if self.waived or self.converged_at is not None or not self.config.enabled:
            return None
        failing = self._failing()
        if failing is None:
            return None
        if self.config.max_steps and step >= self.config.max_steps:
            return None
        return f"not ready: {failing}"

    def summary(self, step: int) -> str:
        """How readiness was reached, for the status message ('' while not ready or when the
        test passed normally)."""
        converged = self.converged_at is not None or self.waived or not self.config.enabled
        if not converged and self.reason(step) is None:
            failing = self._failing()
            return f"ready after {self.config.max_steps} steps without convergence ({failing})"
        return ""
