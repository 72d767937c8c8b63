"""The one way to build an engine from settings: the node, the CLI, the demo's pictures and the
benchmarks all come through here, so encoders, threads and checkpoints are handled alike."""

from __future__ import annotations

import logging
from pathlib import Path

from lerf_ros.data.drops import DropLedger
from lerf_ros.engine.facade import LerfEngine
from lerf_ros.training.config import LerfConfig

LOG = logging.getLogger("lerf_ros.engine")


def build_engine(
    config: LerfConfig,
    encoder: str = "openclip",
    dino: str = "dino",
    *,
    encoder_checkpoint: str = "",
    frame_id: str = "map",
    threads: int = 0,
    drops: DropLedger | None = None,
    resume_from: str | Path | None = None,
) -> LerfEngine:
    """Load the encoders (by registry name or ``package.module:Class``; ``dino='none'`` for no
    DINO head) and make an engine; ``threads`` > 0 sets torch's CPU threads; ``resume_from``
    loads that checkpoint when the file exists (a robot restarting after a crash)."""
    import torch

    from lerf_ros.features.encoders.registry import load_dense_encoder, load_encoder

    if threads > 0:
        torch.set_num_threads(int(threads))
    options = {"checkpoint": encoder_checkpoint} if encoder_checkpoint else {}
    engine = LerfEngine(
        config, load_encoder(encoder, **options), load_dense_encoder(dino), frame_id, drops
    )
    if resume_from and Path(resume_from).exists():
        engine.load(resume_from)
        LOG.info("resumed from %s at step %d", resume_from, engine.step)
    return engine


def open_checkpoint(
    config: LerfConfig,
    checkpoint: str | Path,
    encoder: str = "openclip",
    dino: str = "dino",
    *,
    encoder_checkpoint: str = "",
    threads: int = 0,
) -> LerfEngine:
    """An engine holding a saved field, to read answers and pictures from (not to train on):
    it answers whatever the checkpoint's step count (raises CheckpointError for a bad file)."""
    engine = build_engine(
        config, encoder, dino, encoder_checkpoint=encoder_checkpoint, threads=threads
    )
    engine.load(checkpoint)
    engine.waive_ready_steps()
    return engine
