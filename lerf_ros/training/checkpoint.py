"""Checkpoints: written atomically, loaded without unpickling arbitrary objects.

A checkpoint is one ``torch.save`` file holding only tensors, numbers, strings, lists and
dicts; it is read back with ``torch.load(weights_only=True)``, which refuses any other
object, so a checkpoint from an untrusted place cannot run code. Writes go to a temporary
file in the same directory, are fsynced, then renamed over the old file: a crash mid-write
leaves the previous checkpoint intact. A SHA-256 digest of the whole payload (every tensor's
bytes and every plain value) is stored with it and checked on load: ``torch.load`` checks no
checksum, so a flipped bit in a tensor would otherwise load as silently wrong weights.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from lerf_ros.errors import CheckpointError

FORMAT = "lerf_ros.checkpoint"
VERSION = 1


_PLAIN = (str, int, float, bool, type(None), torch.Tensor, torch.dtype, torch.Size)


def _check_plain(value: Any, where: str) -> None:
    """Refuse at save time what ``weights_only`` loading would refuse at load time."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str | int):
                raise CheckpointError(f"{where}: key {key!r} is not a string or integer")
            _check_plain(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_plain(item, f"{where}[{index}]")
    elif not isinstance(value, _PLAIN):
        raise CheckpointError(f"{where}: cannot store a {type(value).__name__} in a checkpoint")


_RESERVED = ("format", "version", "digest")


def _update_digest(hasher: Any, value: Any) -> None:
    """Feed ``value`` (the plain data ``_check_plain`` allows) into ``hasher``, with types."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous().reshape(-1)
        hasher.update(f"T{tensor.dtype}{tuple(value.shape)}|".encode())
        if tensor.numel():
            hasher.update(tensor.view(torch.uint8).numpy().tobytes())
    elif isinstance(value, dict):
        hasher.update(f"D{len(value)}|".encode())
        for key, item in value.items():
            _update_digest(hasher, key)
            _update_digest(hasher, item)
    elif isinstance(value, list | tuple):
        hasher.update(f"L{len(value)}|".encode())
        for item in value:
            _update_digest(hasher, item)
    else:
        text = repr(value).encode("utf-8", "surrogatepass")
        hasher.update(f"{type(value).__name__}{len(text)}|".encode() + text)


def payload_digest(payload: dict[str, Any]) -> str:
    """SHA-256 of a checkpoint payload (without the format, version and digest entries)."""
    hasher = hashlib.sha256()
    _update_digest(hasher, {k: v for k, v in payload.items() if k not in _RESERVED})
    return hasher.hexdigest()


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Atomically write ``payload`` (tensors and plain data only) to ``path``."""
    path = Path(path)
    _check_plain(payload, "checkpoint")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, "version": VERSION, **payload, "digest": payload_digest(payload)}
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _remove_stale_temporaries(path)
    return path


STALE_SECONDS = 600.0
"""A temporary file of a checkpoint untouched this long was left by a killed writer."""


def _remove_stale_temporaries(path: Path) -> None:
    """Delete what writers killed mid-write (``kill -9``, power loss) left next to ``path``:
    a robot restarted many times would otherwise fill its disk with partial checkpoints."""
    import time

    now = time.time()
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if now - leftover.stat().st_mtime > STALE_SECONDS:
                leftover.unlink()
        except OSError:
            continue  # another process removed it, or it is not ours to remove


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; raises :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # truncated, corrupt or holding forbidden objects
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise CheckpointError(f"checkpoint {path}: unreadable ({first_line})") from error
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path}: not a lerf_ros checkpoint")
    if data.get("version") != VERSION:
        raise CheckpointError(
            f"checkpoint {path}: format version {data.get('version')} (this build reads {VERSION})"
        )
    if "digest" in data:  # checkpoints written before the digest existed have none
        try:
            actual = payload_digest(data)
        except Exception as error:
            raise CheckpointError(f"checkpoint {path}: damaged ({error})") from error
        if actual != data["digest"]:
            raise CheckpointError(
                f"checkpoint {path}: damaged (contents do not match the digest saved with them)"
            )
    return data
