"""Bounded two-layer (memory, disk) cache of feature tensors.

kerrj/lerf keeps every pyramid of every image in host RAM and runs out of it at ~2000
images; here both layers are bounded and evict the least recently used entries.

Safety: entries are dicts of plain tensors written with ``torch.save`` and read back with
``torch.load(weights_only=True)``, which refuses arbitrary pickled objects; keys must be
hex digests, so they cannot name paths outside the cache directory. A file that fails to
load (truncated, corrupted, foreign) is a miss: it is deleted and the caller recomputes.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path

import torch
from torch import Tensor

_LOG = logging.getLogger(__name__)
_KEY = re.compile(r"^[0-9a-f]{16,128}$")
_SUFFIX = ".pt"
_STALE_TEMPORARY_SECONDS = 600.0  # older temporary files are leftovers of a crashed write

Entry = dict[str, Tensor]
"""What the cache stores: named plain tensors."""


def entry_bytes(tensors: Entry) -> int:
    """Memory taken by an entry's tensors."""
    return sum(tensor.numel() * tensor.element_size() for tensor in tensors.values())


class FeatureCache:
    """LRU cache of tensor dicts in memory (``memory_bytes``) and on disk (``max_bytes``)."""

    def __init__(
        self,
        directory: str | os.PathLike | None = None,
        max_bytes: int = 4 << 30,
        memory_bytes: int = 1 << 30,
    ) -> None:
        """Args:
        directory: where entries are stored; None keeps the memory layer only.
        max_bytes: bound on the total size of the entry files.
        memory_bytes: bound on the tensors held in memory.
        """
        self.directory = Path(directory) if directory is not None else None
        self.max_bytes = max_bytes
        self.memory_bytes = memory_bytes
        self._memory: OrderedDict[str, tuple[Entry, int]] = OrderedDict()
        self._memory_used = 0
        self._disk: OrderedDict[str, int] = OrderedDict()  # key → file size, oldest first
        self._disk_used = 0
        self._lock = threading.Lock()
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._scan()

    @property
    def disk_bytes(self) -> int:
        """Total size of the entry files."""
        return self._disk_used

    @property
    def memory_used(self) -> int:
        """Bytes of tensors held in memory."""
        return self._memory_used

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{key}{_SUFFIX}"

    def _scan(self) -> None:
        """Index existing entries, least recently used first (by their access stamp)."""
        entries = []
        now = time.time()
        for path in self.directory.iterdir():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # another process evicted it meanwhile
            if path.suffix == _SUFFIX and _KEY.match(path.stem):
                entries.append((stat.st_mtime, path.stem, stat.st_size))
            elif path.name.endswith(".tmp") and now - stat.st_mtime > _STALE_TEMPORARY_SECONDS:
                path.unlink(missing_ok=True)
        for _, key, size in sorted(entries):
            self._disk[key] = size
            self._disk_used += size
        self._evict_disk()

    def get(self, key: str) -> Entry | None:
        """The entry stored under ``key``, or None (also for an unreadable file)."""
        _check_key(key)
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key][0]
            if self.directory is None or key not in self._disk:
                return None
            tensors = self._load(key)
            if tensors is not None:
                self._remember(key, tensors)
            return tensors

    def put(self, key: str, tensors: Entry) -> None:
        """Store ``tensors`` (moved to the CPU) under ``key``, evicting old entries."""
        _check_key(key)
        tensors = {name: tensor.detach().cpu() for name, tensor in tensors.items()}
        with self._lock:
            self._remember(key, tensors)
            if self.directory is not None:
                self._write(key, tensors)
                self._evict_disk()

    def _load(self, key: str) -> Entry | None:
        path = self._path(key)
        try:
            tensors = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(tensors, dict) or not all(
                isinstance(name, str) and isinstance(value, Tensor)
                for name, value in tensors.items()
            ):
                raise ValueError("not a dict of tensors")
            # The file's modification time is the LRU stamp: access times are unreliable
            # (noatime/relatime mounts), and it keeps the order across restarts.
            os.utime(path)
        except Exception as error:  # any unreadable file is a miss, never a crash
            _LOG.warning("dropping unreadable feature cache file %s: %s", path, error)
            path.unlink(missing_ok=True)
            self._disk_used -= self._disk.pop(key, 0)
            return None
        self._disk.move_to_end(key)
        return tensors

    def _write(self, key: str, tensors: Entry) -> None:
        # Write to a temporary file, then rename: readers (other processes included) see
        # either no file or a complete one.
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{key}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                torch.save(tensors, stream)
            os.replace(temporary, self._path(key))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self._disk_used -= self._disk.pop(key, 0)
        self._disk[key] = self._path(key).stat().st_size
        self._disk_used += self._disk[key]

    def _evict_disk(self) -> None:
        while self._disk and self._disk_used > self.max_bytes:
            key, size = self._disk.popitem(last=False)
            self._disk_used -= size
            self._path(key).unlink(missing_ok=True)

    def _remember(self, key: str, tensors: Entry) -> None:
        size = entry_bytes(tensors)
        if key in self._memory:
            self._memory_used -= self._memory.pop(key)[1]
        if size > self.memory_bytes:
            return  # would evict everything else and still not fit
        self._memory[key] = (tensors, size)
        self._memory_used += size
        while self._memory_used > self.memory_bytes:
            _, (_, evicted) = self._memory.popitem(last=False)
            self._memory_used -= evicted


def _check_key(key: str) -> None:
    if not _KEY.match(key):
        raise ValueError(f"cache keys are lowercase hex digests, got {key!r}")
