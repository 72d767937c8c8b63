"""The errors a caller handles import without torch (the node catches them before its engine,
and torch, have loaded) and are the same classes the engine raises."""

from __future__ import annotations

import subprocess
import sys


def test_error_types_import_without_torch():
    code = (
        "import sys\n"
        "from lerf_ros.errors import CheckpointError, NotReadyError, QueryError\n"
        "assert 'torch' not in sys.modules, 'lerf_ros.errors pulled in torch'\n"
        "assert issubclass(QueryError, ValueError) and issubclass(NotReadyError, RuntimeError)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_the_engine_raises_the_same_classes():
    from lerf_ros import engine, errors
    from lerf_ros.query import request
    from lerf_ros.training import checkpoint

    assert engine.NotReadyError is errors.NotReadyError
    assert engine.QueryError is request.QueryError is errors.QueryError
    assert checkpoint.CheckpointError is errors.CheckpointError
