"""Which file a ``~/save`` or ``~/load`` call may touch (ROS-free).

Anyone on the DDS domain can call those services, so a requested name is confined to the
directory of the node's ``checkpoint_path``: a ``..`` component, an absolute path elsewhere or a
symbolic link whose target lies outside is refused, and the decision is made on real paths
(``os.path.realpath``), so a symlinked file *or* directory inside the folder is caught too.
"""

from __future__ import annotations

import os
from pathlib import Path

from lerf_ros.errors import CheckpointError

MAX_NAME_LENGTH = 255
"""Longest name accepted (a file name's limit on common file systems)."""


class CheckpointNameError(CheckpointError, ValueError):
    """A requested checkpoint name that is refused; the message says why."""


def resolve_checkpoint(name: str, checkpoint_path: str | os.PathLike | None) -> Path:
    """The file that ``name`` names next to ``checkpoint_path``.

    ``''`` is ``checkpoint_path`` itself (the operator's own setting, not restricted further).
    Any other name is relative to ``checkpoint_path``'s directory (subdirectories allowed) or
    an absolute path inside it; a name without a suffix gets ``checkpoint_path``'s
    (``kitchen`` -> ``kitchen.pt``). The returned path is the real one (links resolved), so what
    is opened is what was checked. Raises :class:`CheckpointNameError` with a one-line reason.
    """
    if not checkpoint_path:
        raise CheckpointNameError("parameter checkpoint_path is empty: no checkpoint directory")
    base = Path(os.fspath(checkpoint_path)).expanduser()
    if not isinstance(name, str):
        raise CheckpointNameError(f"checkpoint name must be a string, got {type(name).__name__}")
    if name == "":
        return base
    if len(name) > MAX_NAME_LENGTH:
        raise CheckpointNameError(
            f"checkpoint name is {len(name)} characters long (limit {MAX_NAME_LENGTH})"
        )
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        raise CheckpointNameError(f"checkpoint name {name!r} contains control characters")
    if name != name.strip():
        raise CheckpointNameError(f"checkpoint name {name!r} starts or ends with white space")
    directory = base.parent
    requested = Path(name)
    if ".." in requested.parts:
        raise CheckpointNameError(
            f"checkpoint name {name!r} refused: '..' may not leave {directory}"
        )
    target = requested if requested.is_absolute() else directory / requested
    if not target.suffix and base.suffix:
        target = target.with_name(target.name + base.suffix)
    real_directory = os.path.realpath(directory)
    real_target = os.path.realpath(target)
    if os.path.commonpath([real_directory, real_target]) != real_directory:
        why = "is outside" if requested.is_absolute() else "leads outside (a symbolic link)"
        raise CheckpointNameError(
            f"checkpoint name {name!r} refused: {real_target} {why} the checkpoint directory "
            f"{real_directory}"
        )
    if real_target == real_directory or os.path.isdir(real_target):
        raise CheckpointNameError(f"checkpoint name {name!r} names a directory, not a file")
    return Path(real_target)
