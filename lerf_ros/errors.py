"""The errors a caller of lerf_ros handles, importable without torch (the node imports them
before its engine, and torch, have loaded)."""

from __future__ import annotations


class NotReadyError(RuntimeError):
    """The field cannot answer yet; the message says what it is waiting for."""


class QueryError(ValueError):
    """A malformed query (empty text, a scale out of range, ...); the message says which part."""


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read or does not fit this engine; the message names the
    file and the problem in one line."""


__all__ = ["CheckpointError", "NotReadyError", "QueryError"]
