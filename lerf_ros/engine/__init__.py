"""The LERF engine: keyframes in, training in the background, answers out.

:class:`LerfEngine` is the facade; :func:`~lerf_ros.engine.build.build_engine` is the one way
to make one from settings (node, CLI, demo pictures and benchmarks all use it).
"""

from lerf_ros.data.frame_sync import MAX_STAMP_AHEAD
from lerf_ros.engine.facade import LerfEngine
from lerf_ros.engine.frames import MAX_POSITION, validate_frame
from lerf_ros.engine.status import EngineStatus
from lerf_ros.engine.workers import FEATURE_ATTEMPTS
from lerf_ros.errors import NotReadyError, QueryError

__all__ = [
    "FEATURE_ATTEMPTS",
    "MAX_POSITION",
    "MAX_STAMP_AHEAD",
    "EngineStatus",
    "LerfEngine",
    "NotReadyError",
    "QueryError",
    "validate_frame",
]
