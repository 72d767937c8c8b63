"""Parameters that change the running node: ``ros2 param set`` and rqt_reconfigure act at once.

Which parameters are live, and what each updates, is :data:`~lerf_ros.ros.parameters.LIVE`;
every other parameter is declared ``read_only`` (rclpy refuses a change with the reason). A
change is checked first, as the start-up values are (ranges, then the validation of each
settings dataclass it touches: :func:`~lerf_ros.ros.parameters.changed`), and refused with the
dataclass's reason; the old value then stays. An accepted change is applied after rclpy stored
it, by swapping whole settings objects (a query, a frame, a target request reads either the old
settings or the new ones, never half of each).
"""

from __future__ import annotations

import threading

from rcl_interfaces.msg import SetParametersResult
from rclpy.parameter import Parameter

from lerf_ros.configuration import ConfigError
from lerf_ros.ros.parameters import (
    LIVE,
    NodeParameters,
    changed,
    engine_config,
    target_config,
)

ENGINE_KINDS = frozenset({"query", "keyframes", "pause"})
"""What a newly built engine takes from the parameters' current values (see :meth:`attach`)."""


def live_changes(parameters) -> dict[str, object]:
    """``{name: value}`` of the live parameters among ``parameters`` (rclpy ``Parameter``s)."""
    return {p.name: p.value for p in parameters if p.name in LIVE}


class LiveParameters:
    """Checks and applies live parameter changes of ``node`` (a ``LerfTrainerNode``).

    ``p``: the node's parameter values, kept current here so that settings built from them
    later (the engine, while the encoders still load) see every change."""

    def __init__(self, node, p: NodeParameters):
        self.node = node
        self.p = p
        self._lock = threading.Lock()
        """One change at a time, checked against and applied to the values before it."""
        self._engine = None
        node.add_on_set_parameters_callback(self._check)
        node.add_post_set_parameters_callback(self._apply)

    def attach(self, engine) -> None:
        """Give ``engine`` (built from the start-up values, not started yet) the live values
        of now: a change accepted while the encoders loaded is not lost."""
        with self._lock:
            self._engine = engine
            self._update(ENGINE_KINDS)

    def set_pause(self, paused: bool) -> None:
        """~/pause: set the ``pause`` parameter, which pauses or resumes training (service and
        parameter always agree)."""
        (result,) = self.node.set_parameters([Parameter("pause", value=bool(paused))])
        if not result.successful:
            raise RuntimeError(result.reason)

    def _check(self, parameters) -> SetParametersResult:
        changes = live_changes(parameters)
        if changes:
            try:
                with self._lock:
                    changed(self.p, changes)
            except (ConfigError, ValueError, TypeError) as error:
                return SetParametersResult(successful=False, reason=str(error))
        return SetParametersResult(successful=True)

    def _apply(self, parameters) -> None:
        changes = live_changes(parameters)
        if not changes:
            return
        with self._lock:
            self.p.values.update(changes)
            self._update({LIVE[name] for name in changes})
        listed = ", ".join(f"{name}={value!r}" for name, value in changes.items())
        self.node.get_logger().info(f"applied {listed}")

    def _active(self) -> bool:
        """Whether the node trains at all: an inactive (lifecycle) node stays paused whatever
        ``pause`` says, and activation applies ``pause`` (``p`` is kept current here)."""
        state = getattr(self.node, "lifecycle_state", None)
        return state is None or state() == "active"

    def _update(self, kinds: set[str] | frozenset[str]) -> None:
        """Apply the current values of the parameters of ``kinds`` (under ``_lock``)."""
        p, node, engine = self.p, self.node, self._engine
        if engine is not None and kinds & {"query", "keyframes"}:
            config = engine_config(p)
            if "query" in kinds:
                engine.set_query_config(config.query)
            if "keyframes" in kinds:
                engine.set_keyframe_config(config.keyframes)
        if engine is not None and "pause" in kinds and self._active():
            engine.pause(bool(p.pause))
        outputs = getattr(node, "outputs", None)
        if "targets" in kinds:
            node.target_config = target_config(p)
            if outputs is not None:
                outputs.robot_radius = node.target_config.navigation.robot_radius
        if "outputs" in kinds and outputs is not None:
            outputs.heatmap_width = int(p.relevancy_image_width)
        cameras = getattr(node, "cameras", None)
        if "sync" in kinds and cameras is not None:
            cameras.sync.set_timing(float(p.pose_slop), float(p.pose_wait))
