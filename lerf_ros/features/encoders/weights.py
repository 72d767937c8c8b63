"""Loading rules for pretrained weights, shared by the CLIP and DINO encoders.

1. A local checkpoint file (constructor parameter, else an environment variable) wins.
2. Otherwise the weights come from the local Hugging Face / torch caches only: the Hub is
   put in offline mode during the load, so a robot (or a test) never stalls on a download.
   ``allow_download=True`` lifts that, for a deliberate pre-fetch on a networked machine.
3. ``random_weights=True`` builds the real architecture with seeded random weights
   (timing benchmarks, tests of the loading code).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import torch

from lerf_ros.features.encoders.base import EncoderError

_HASHED_PREFIX_BYTES = 1 << 20


@contextlib.contextmanager
def hub_offline(enabled: bool = True) -> Iterator[None]:
    """Forbid Hugging Face Hub network access inside the block (when ``enabled``).

    ``huggingface_hub`` reads ``HF_HUB_OFFLINE`` once, at import, so setting the variable is
    not enough when it is already imported: its module constant is patched too.
    """
    if not enabled:
        yield
        return
    import huggingface_hub.constants as hub_constants

    previous_env = os.environ.get("HF_HUB_OFFLINE")
    previous_constant = hub_constants.HF_HUB_OFFLINE
    os.environ["HF_HUB_OFFLINE"] = "1"
    hub_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        hub_constants.HF_HUB_OFFLINE = previous_constant
        if previous_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous_env


def hub_cache_dir() -> str:
    """Where the Hugging Face Hub keeps downloaded files on this machine."""
    import huggingface_hub.constants as hub_constants

    return str(hub_constants.HF_HUB_CACHE)


def resolve_checkpoint(checkpoint: str | os.PathLike | None, env_var: str) -> Path | None:
    """The local checkpoint to load: ``checkpoint`` if given, else ``$env_var``, else None."""
    source = f"parameter checkpoint={checkpoint!s}"
    if checkpoint is None or str(checkpoint) == "":
        checkpoint = os.environ.get(env_var) or None
        source = f"environment variable {env_var}={checkpoint}"
    if checkpoint is None:
        return None
    path = Path(checkpoint).expanduser()
    if not path.is_file():
        raise EncoderError(f"checkpoint file not found ({source}); give an existing local file")
    return path


def checkpoint_tag(path: Path) -> str:
    """A short stable id of a checkpoint file for cache keys (size + hash of its first MiB).

    Hashing the whole file (hundreds of MB) at every start-up would cost seconds; the size
    plus the leading MiB (headers and the first tensors) tells real checkpoints apart.
    """
    digest = hashlib.sha256(str(path.stat().st_size).encode())
    with path.open("rb") as stream:
        digest.update(stream.read(_HASHED_PREFIX_BYTES))
    return f"file-{path.name}-{digest.hexdigest()[:12]}"


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Make random weight initialisation reproducible without touching the global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
