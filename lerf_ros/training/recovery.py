"""Recovery from non-finite training steps: a step whose loss or gradients are not finite is
skipped, and a run of them rolls the model back to the last good state it kept, at a lower
learning rate. An online run must keep learning whatever one batch or one region of the
field does; only an offline run gives up, and only after repeated rollbacks fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

MAX_NONFINITE_IN_A_ROW = 20
"""Non-finite steps in a row after which the trainer rolls back to its last good state (skipped
before that: one bad batch must not cost the progress since the last good state)."""

GOOD_STATE_EVERY = 100
"""Finite steps between two copies of the good state (a copy of the weights and the Adam
moments; on the CPU preset a copy takes a few milliseconds)."""

ROLLBACK_LR_FACTOR = 0.5
"""The learning rate is multiplied by this at each rollback."""

MIN_LR_SCALE = 1.0 / 64.0
"""Rollbacks do not lower the learning rate below this share of the schedule."""

MAX_ROLLBACKS_IN_A_ROW = 8
"""Rollbacks with no good state kept in between, after which a step raises
``FloatingPointError`` (the rolled-back weights themselves fail: nothing left to try)."""


def cloned(value: Any) -> Any:
    """``value`` with every tensor cloned (dicts and lists walked), on its device."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {key: cloned(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(cloned(item) for item in value)
    return value


@dataclass
class NonFiniteStep:
    """What a non-finite step looked like (logged once per run of them)."""

    step: int
    """The optimiser step it would have been."""
    loss: float
    """The weighted total (may be finite when only the gradients were not)."""
    gradient_norm: float
    """Norm of all gradients (NaN/inf when some gradient was not finite)."""
    terms: dict[str, float] = field(default_factory=dict)
    """Each loss term's unweighted value."""

    def describe(self) -> str:
        bad = [name for name, value in self.terms.items() if not _finite(value)]
        terms = ", ".join(f"{name}={value:.4g}" for name, value in self.terms.items())
        culprit = f"non-finite terms: {', '.join(bad)}" if bad else "all terms finite"
        return (
            f"non-finite training step at step {self.step}: loss={self.loss:.4g}, "
            f"gradient norm={self.gradient_norm:.4g} ({culprit}; {terms})"
        )


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")


class GoodState:
    """The last known-good weights and optimiser state of a model, kept in memory."""

    def __init__(self, every: int = GOOD_STATE_EVERY):
        self.every = every
        self.model: dict[str, torch.Tensor] | None = None
        self.optimizer: dict | None = None
        self.step = -1
        """Step count when the state was kept (-1: none kept)."""
        self.rollbacks = 0
        """Rollbacks so far."""
        self.rollbacks_in_a_row = 0
        """Rollbacks since a good state was last kept."""
        self.lr_scale = 1.0
        """Multiplies the learning-rate schedule (lowered at each rollback)."""

    def keep_if_due(self, model: torch.nn.Module, optimizer, step: int) -> None:
        """Copy the state after a finite step, every ``every`` steps (and the first time)."""
        if self.step >= 0 and step - self.step < self.every:
            return
        self.model = cloned(model.state_dict())
        self.optimizer = cloned(optimizer.state_dict())
        self.step = step
        self.rollbacks_in_a_row = 0

    def roll_back(self, model: torch.nn.Module, optimizer) -> None:
        """Restore the kept state (a copy of it: the kept one serves the next rollback too)
        and lower the learning rate; raises FloatingPointError when rollbacks keep failing."""
        if self.model is None or self.rollbacks_in_a_row >= MAX_ROLLBACKS_IN_A_ROW:
            raise FloatingPointError(
                f"training diverged: {self.rollbacks_in_a_row} rollbacks to the state of step "
                f"{self.step} did not recover"
            )
        model.load_state_dict(cloned(self.model))
        optimizer.load_state_dict(cloned(self.optimizer))
        self.rollbacks += 1
        self.rollbacks_in_a_row += 1
        self.lr_scale = max(self.lr_scale * ROLLBACK_LR_FACTOR, MIN_LR_SCALE)
