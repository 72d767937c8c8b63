"""The service plumbing of ``lerf_trainer``: answering a call (not ready, refused, busy,
internal error; with GetTargets' ``error_code`` on every path), keeping reads and resets apart,
and ~/save, ~/load (names confined to checkpoint_path's directory), ~/reset, ~/pause.

A mixin of :class:`~lerf_ros.ros.trainer_node.LerfTrainerNode`, kept apart so that the node
module stays a readable list of what is wired to what.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable
from pathlib import Path

from lerf_ros.engine.checkpoint_names import resolve_checkpoint
from lerf_ros.errors import CheckpointError, NotReadyError, QueryError
from lerf_ros.ros.request_slots import RequestSlots

QUERY_REFUSALS = (NotReadyError, QueryError)
"""What a query refuses with: the caller's message, not an internal error."""

CHECKPOINT_PROBLEMS = (NotReadyError, CheckpointError, OSError)
"""What ~/save and ~/load refuse with (nothing to save, a bad file or name, a disk problem)."""


def refuse(response, message: str, code: str = "FAILED"):
    """``success=false`` with ``message``; responses with an ``error_code`` (GetTargets) get
    the named code (``NOT_READY``, ``BUSY``, ``INVALID_REQUEST``, ``FAILED``), so that a client
    can branch without parsing the message."""
    response.success, response.message = False, message
    if hasattr(response, "error_code"):
        response.error_code = getattr(response, code)
    return response


def refusal_code(error: Exception) -> str:
    """The error code of an exception a service refuses with."""
    if isinstance(error, NotReadyError):
        return "NOT_READY"
    if isinstance(error, QueryError):
        return "INVALID_REQUEST"
    return "FAILED"


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
                return refuse(response, message, "BUSY")

            def admitted():
                return self._serve(
                    service, response, answer, needs_ready=needs_ready, refusals=refusals
                )

            return slots.call(admitted, busy)
        try:
            if self._stopping():  # queued behind others when SIGINT came: do not start now
                return refuse(response, "shutting down")
            reason = self._not_ready() if needs_ready or self.engine is None else None
            if reason is not None:
                refuse(response, reason, "NOT_READY")
            else:
                answer()
        except refusals as error:
            refuse(response, str(error), refusal_code(error))
        except Exception as error:
            if self._stopping():  # the context went away under a queued call: no traceback
                return refuse(response, "shutting down")
            self.get_logger().error(f"{service} failed: {error}\n{traceback.format_exc()}")
            refuse(response, f"internal error: {error}")
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

    def _on_save(self, request, response):
        """``~/save`` (lerf_ros/srv/Checkpoint): ``request.name`` in checkpoint_path's folder."""
        return self._serve_checkpoint("save", request.name, response, self._save, "saved")

    def _on_load(self, request, response):
        """``~/load`` (lerf_ros/srv/Checkpoint): ``request.name`` in checkpoint_path's folder."""
        return self._serve_checkpoint(
            "load", request.name, response, lambda path: self.engine.load(path), "loaded"
        )

    def _serve_checkpoint(
        self, service: str, name: str, response, action: Callable[[Path], object], done: str
    ):
        def answer():
            # Names are checked before anything is read or written: callers anywhere on the
            # DDS domain must not reach files outside the checkpoint directory.
            path = resolve_checkpoint(name, self.p.checkpoint_path)
            action(path)
            response.success, response.message = True, f"{done} {path}"
            response.path = str(path)

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
