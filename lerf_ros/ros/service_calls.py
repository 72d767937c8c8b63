"""The service plumbing of ``lerf_trainer``: answering a call (not ready, refused, busy,
internal error), keeping reads and resets apart, and ~/save, ~/load, ~/reset, ~/pause.

A mixin of :class:`~lerf_ros.ros.trainer_node.LerfTrainerNode`, kept apart so that the node
module stays a readable list of what is wired to what.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable
from pathlib import Path

from lerf_ros.errors import CheckpointError, NotReadyError, QueryError
from lerf_ros.ros.request_slots import RequestSlots

QUERY_REFUSALS = (NotReadyError, QueryError)
"""What a query refuses with: the caller's message, not an internal error."""

CHECKPOINT_PROBLEMS = (NotReadyError, CheckpointError, OSError)
"""What ~/save and ~/load refuse with (nothing to save, a bad file, a disk problem)."""


class ServiceCalls:
    """Service handlers shared by the node; expects ``engine``, ``engine_error``, ``p``,
    ``_reset_gate``, ``_save_lock``, ``_checkpoint_slots`` and ``_stopping()``."""

    def _not_ready(self) -> str | None:
        if self.engine is None:
            return self.engine_error or "not ready: loading encoders"
        return self.engine.not_ready_reason()

    # ----------------------------------------------------------- services
    def _serve(
        self,
        service: str,
        response,
        answer: Callable[[], None],
        *,
        needs_ready: bool = False,
        refusals: tuple[type[Exception], ...] = QUERY_REFUSALS,
        slots: RequestSlots | None = None,
    ):
        """Answer one service call: ``success=false`` with the reason while there is no engine
        (or, ``needs_ready``, while it cannot answer yet); ``answer`` fills the response, and
        one of ``refusals`` becomes its message. Any other exception is logged with its
        traceback and answered as an internal error: none may escape a service callback.
        With ``slots``, a call beyond their bound is answered ``busy:`` at once."""
        if slots is not None:

            def busy(message: str):
                response.success, response.message = False, message
                return response

            def admitted():
                return self._serve(
                    service, response, answer, needs_ready=needs_ready, refusals=refusals
                )

            return slots.call(admitted, busy)
        try:
            if self._stopping():  # queued behind others when SIGINT came: do not start now
                response.success, response.message = False, "shutting down"
                return response
            reason = self._not_ready() if needs_ready or self.engine is None else None
            if reason is not None:
                response.success, response.message = False, reason
            else:
                answer()
        except refusals as error:
            response.success, response.message = False, str(error)
        except Exception as error:
            if self._stopping():  # the context went away under a queued call: no traceback
                response.success, response.message = False, "shutting down"
                return response
            self.get_logger().error(f"{service} failed: {error}\n{traceback.format_exc()}")
            response.success, response.message = False, f"internal error: {error}"
        return response

    def _read(self, read: Callable[[], None]) -> Callable[[], None]:
        """``read`` while no reset runs (a reset waits for it to finish)."""

        def gated() -> None:
            with self._reset_gate.shared():
                read()

        return gated

    def _relevancy_view(self, *args, **kwargs):
        with self._reset_gate.shared():
            return self.engine.relevancy_view(*args, **kwargs)

    def _checkpoint(self) -> Path | None:
        return Path(self.p.checkpoint_path) if self.p.checkpoint_path else None

    def _serve_checkpoint(
        self, service: str, response, action: Callable[[Path], object], done: str
    ):
        def answer():
            path = self._checkpoint()
            if path is None:
                response.success, response.message = False, "parameter checkpoint_path is empty"
                return
            action(path)
            response.success, response.message = True, f"{done} {path}"

        return self._serve(
            service, response, answer, refusals=CHECKPOINT_PROBLEMS, slots=self._checkpoint_slots
        )

    def _save(self, path: Path) -> Path:
        with self._save_lock:
            return self.engine.save(path)

    def _autosave(self) -> None:
        path = self._checkpoint()
        if self.engine is None or path is None:
            return
        with contextlib.suppress(NotReadyError):  # no keyframes yet: nothing to save
            self._save(path)
