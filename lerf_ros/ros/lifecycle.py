"""``lerf_trainer`` as a managed (lifecycle) node: what each transition does.

A mixin of :class:`~lerf_ros.ros.trainer_node.LerfTrainerNode` (a
:class:`rclpy.lifecycle.LifecycleNode`), so that a lifecycle manager (Nav2's
``lifecycle_manager``) can drive it through ``~/change_state`` and ``~/get_state``:

- configure: load the encoders and build the engine (FAILURE, with the reason logged and in
  ``~/status``, when they do not load);
- activate: subscribe the cameras and start (or resume) training;
- deactivate: stop taking frames and pause training (the field and its keyframes stay);
- cleanup: stop the engine and drop it, freeing its GPU memory (a final checkpoint first when
  autosave is on);
- shutdown: what SIGINT does (stop, final checkpoint).

With ``managed`` false (the default: ``lerf-ros bringup``, the demo) the node runs the same
configure and activate transitions by itself on a thread, so its services answer at once while
the encoders load, as before. While the node is not active its services answer
``success=false`` with the lifecycle state (``node is inactive: activate it (lifecycle)``), and
``~/status`` says the state.
"""

from __future__ import annotations

import gc
import threading
import traceback

from rclpy.lifecycle import LifecycleState, TransitionCallbackReturn
from rclpy.timer import Timer

from lerf_ros.ros.camera_inputs import CameraInputs
from lerf_ros.ros.service_calls import refuse

SUCCESS = TransitionCallbackReturn.SUCCESS
FAILURE = TransitionCallbackReturn.FAILURE

HINTS = {
    "unconfigured": "configure and activate it (lifecycle)",
    "inactive": "activate it (lifecycle)",
    "finalized": "it was shut down (lifecycle)",
}
"""What a caller is told to do, by lifecycle state; transition states say 'wait'."""

SERVED_WHILE_INACTIVE = frozenset({"save"})
"""Services that still work between deactivate and cleanup (the field is still there)."""


def free_accelerator_memory() -> None:
    """Give the memory of a dropped engine back (to the GPU driver when CUDA is in use)."""
    gc.collect()
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class ManagedLifecycle:
    """Lifecycle transitions of the trainer node; expects ``p``, ``engine``, ``engine_error``,
    ``ledger``, ``stopping``, ``autosaver``, ``_lifecycle_lock``, ``_input_group``,
    ``_pose_group``, ``_offer``, ``_log_drop``, ``_autosave`` and ``shutdown``."""

    def _start_lifecycle(self) -> None:
        """End of ``__init__``: wait for a manager, or configure and activate by itself."""
        self.cameras: CameraInputs | None = None
        self._frame_entities: list = []
        self._starting_by_itself = not self.p.managed
        """True until the unmanaged start-up has configured and activated (or failed to)."""
        if self.p.managed:
            self.get_logger().info(
                "managed: waiting in 'unconfigured' for a lifecycle manager (~/change_state)"
            )
            return
        # Cameras first, as before: frames that come while the encoders load are counted (and
        # dropped, 'loading encoders'), and a topic list that does not fit fails start-up.
        self._take_frames()
        threading.Thread(target=self._start_by_itself, name="lerf-engine-init", daemon=True).start()

    def _start_by_itself(self) -> None:
        try:
            if self.trigger_configure() == SUCCESS and not self.stopping:
                self.trigger_activate()
        except Exception as error:  # the context went away during start-up
            if not self.stopping:
                self.get_logger().error(f"start-up failed: {error}\n{traceback.format_exc()}")
        finally:
            self._starting_by_itself = False

    def lifecycle_state(self) -> str:
        """'unconfigured', 'inactive', 'active', 'finalized' or a transition ('configuring')."""
        return self._state_machine.current_state[1]

    # -------------------------------------------------------- transitions
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.engine_error = None
        try:
            engine = self._new_engine()
        except Exception as error:  # say why in ~/status and every answer; keep serving
            self.engine_error = f"engine failed to start: {error}"
            self.get_logger().error(f"{self.engine_error}\n{traceback.format_exc()}")
            return FAILURE
        with self._lifecycle_lock:
            if self.stopping:  # shut down while the encoders loaded: keep nothing
                return FAILURE
            self.engine = engine
        self.get_logger().info(
            f"engine ready on {engine.device} (encoder {self.p.encoder}, dino {self.p.dino})"
        )
        return SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        with self._lifecycle_lock:  # shutdown() stops the engine under this lock
            if self.stopping or self.engine is None:
                return FAILURE
            self.engine.pause(bool(self.p.pause))  # the pause parameter (and ~/pause) holds
            self.engine.start()
        if not self._frame_entities:
            try:
                self._take_frames()
            except ValueError as error:  # topic lists that do not fit: a clear refusal
                self.get_logger().error(f"cannot subscribe the cameras: {error}")
                self.engine.pause(True)
                return FAILURE
        self.get_logger().info("active: taking frames and training")
        return SUCCESS

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_frames()
        if self.engine is not None:
            self.engine.pause(True)
        self.get_logger().info("inactive: training paused, no frames taken")
        return SUCCESS

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._drop_engine()
        self.get_logger().info("unconfigured: engine stopped and its memory freed")
        return SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_frames()
        self.shutdown()
        return SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        # A transition raised: back to 'unconfigured' with nothing half-started.
        self.get_logger().error(f"lifecycle transition from {state.label!r} raised; cleaning up")
        self._drop_engine()
        return SUCCESS

    # ------------------------------------------------------------- helpers
    def _new_engine(self):
        """Load the encoders and build the engine (not started); resume from the checkpoint
        when asked and it exists."""
        from lerf_ros.engine.build import build_engine
        from lerf_ros.ros.parameters import engine_config

        checkpoint = self._checkpoint()
        resume = self.p.resume and checkpoint is not None and checkpoint.exists()
        engine = build_engine(
            engine_config(self.p),
            self.p.encoder,
            self.p.dino,
            encoder_checkpoint=self.p.encoder_checkpoint,
            frame_id=self.fixed_frame,
            threads=self.p.torch_threads,
            drops=self.ledger,
            resume_from=checkpoint if resume else None,
        )
        if resume:
            self.get_logger().info(f"resumed from {checkpoint} at step {engine.step}")
        return engine

    def _drop_engine(self) -> None:
        self._stop_frames()
        if self.engine is None:
            return
        if self.autosaver is not None:  # what cleanup throws away is on disk first
            try:
                self._autosave()
            except Exception as error:
                self.get_logger().error(f"save before cleanup failed: {error}")
        with self._lifecycle_lock:
            engine, self.engine = self.engine, None
        self._release_engine()
        engine.stop()
        del engine
        free_accelerator_memory()

    def _release_engine(self) -> None:
        """Cleanup: drop every other reference to the engine (else its memory stays)."""

    def _take_frames(self) -> None:
        """Subscribe every camera (and the 10 Hz matching timer); remembers what it created so
        that deactivate can remove exactly that."""
        subscriptions, timers = set(self.subscriptions), set(self.timers)

        def created() -> list:
            return [s for s in self.subscriptions if s not in subscriptions] + [
                t for t in self.timers if t not in timers
            ]

        try:
            self.cameras = CameraInputs(
                self,
                self.p,
                self.ledger,
                self._offer,
                input_group=self._input_group,
                pose_group=self._pose_group,
                on_drop=self._log_drop,
            )
            # Images wait for poses that arrive after them: match them again every 0.1 s.
            self.create_timer(0.1, self.cameras.match, callback_group=self._input_group)
        except Exception:  # no half-subscribed camera is left behind
            self._frame_entities = created()
            self._stop_frames()
            raise
        self._frame_entities = created()

    def _stop_frames(self) -> None:
        entities, self._frame_entities = self._frame_entities, []
        for entity in entities:
            if isinstance(entity, Timer):
                self.destroy_timer(entity)
            else:
                self.destroy_subscription(entity)

    # ------------------------------------------------- services and status
    def _lifecycle_refusal(self, service: str = "") -> str | None:
        """Why a service call is refused in this lifecycle state, or None to serve it."""
        if self._starting_by_itself:  # unmanaged start-up: 'loading encoders' as before
            return None
        state = self.lifecycle_state()
        if state == "active" or (state == "inactive" and service in SERVED_WHILE_INACTIVE):
            return None
        if state == "unconfigured" and self.engine_error:  # configure failed: say why
            return self.engine_error
        return f"node is {state}: {HINTS.get(state, 'wait for the transition to finish')}"

    def _serve(self, service: str, response, answer, **kwargs):
        refusal = self._lifecycle_refusal(service)
        if refusal is not None:  # GetTargets: NOT_READY, like a node still loading
            return refuse(response, refusal, "NOT_READY")
        return super()._serve(service, response, answer, **kwargs)

    def _lifecycle_status(self, msg) -> None:
        """``~/status`` while not active: the lifecycle state and what to do about it."""
        refusal = self._lifecycle_refusal()
        if refusal is None or refusal == self.engine_error:
            return
        msg.state, msg.ready, msg.message = self.lifecycle_state(), False, refusal
