"""The synthetic test scene and engines built on it, shared by several benchmarks."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Options
from lerf_ros.data.datasets import load_dataset
from lerf_ros.data.synthetic.export import make_scene_dataset
from lerf_ros.engine import LerfEngine, NotReadyError
from lerf_ros.engine.build import build_engine
from lerf_ros.training.config import LerfConfig

SCENE_DIR = Path(tempfile.gettempdir()) / "lerf_ros_bench" / "scene_default_30"
"""Where the 30-view 128x96 synthetic scene is rendered once (reused between runs)."""
BOX_MARGIN = 0.05
"""A peak counts as inside an object's box within this margin (metres)."""

_cache: dict[str, object] = {}


def synthetic_scene(views: int = 30):
    """The default synthetic scene (128x96, orbit): (dataset, scene annotations)."""
    path = SCENE_DIR.with_name(f"scene_default_{views}")
    if not (path / "scene.json").is_file():
        make_scene_dataset(path, "default", views=views)
    dataset = load_dataset(path)
    return dataset, json.loads((path / "scene.json").read_text())


def scene_dataset(name: str, views: int = 30):
    """Synthetic preset ``name`` (128x96, orbit), rendered once into the temp dir:
    (dataset with depth, scene annotations)."""
    path = SCENE_DIR.with_name(f"scene_{name}_{views}")
    if not (path / "scene.json").is_file():
        make_scene_dataset(path, name, views=views)
    return load_dataset(path), json.loads((path / "scene.json").read_text())


def preset(options: Options) -> tuple[str, LerfConfig]:
    """The engine preset of the device: ``cpu`` on a CPU, ``lerf`` on a GPU."""
    config = LerfConfig.lerf() if options.cuda else LerfConfig.cpu()
    config.device = str(options.device)
    return ("lerf" if options.cuda else "cpu"), config


def scene_engine(options: Options, config: LerfConfig | None = None) -> tuple[LerfEngine, float]:
    """An engine holding every view of the synthetic scene with its features (colour-minilm
    + colour-patches); returns it and the seconds its features took."""
    config = config or preset(options)[1]
    dataset, _ = synthetic_scene()
    engine = build_engine(config, "colour-minilm", "colour-patches")
    for index, frame in enumerate(dataset.frames):
        engine.add_frame(frame.image, frame.intrinsics, frame.c2w, float(index), force=True)
    start = time.perf_counter()
    engine.compute_pending_features()
    return engine, time.perf_counter() - start


def answers_correct(engine: LerfEngine, objects: list[dict]) -> tuple[bool, list[str]]:
    """Whether every object's best peak lies in its box; the names of the ones that miss."""
    missed = []
    for obj in objects:
        try:
            result = engine.query(obj["name"])
        except NotReadyError:
            return False, ["(not ready)"]
        lo = np.asarray(obj["box_min"]) - BOX_MARGIN
        hi = np.asarray(obj["box_max"]) + BOX_MARGIN
        best = result.peaks[0].position if result.peaks else None
        if best is None or not (np.all(best >= lo) and np.all(best <= hi)):
            missed.append(obj["name"])
    return not missed, missed


def remember_trained(engine: LerfEngine) -> None:
    """Keep a trained engine for later benchmarks (queries) in this process."""
    _cache["trained"] = engine


def trained_engine(options: Options, steps: int) -> tuple[LerfEngine, str]:
    """A trained engine: the first-answer benchmark's when it ran, else one trained here."""
    engine = _cache.get("trained")
    if isinstance(engine, LerfEngine):
        return engine, f"model from the first-answer run ({engine.step} steps)"
    engine, _ = scene_engine(options)
    while engine.step < steps:
        engine.train_step()
    remember_trained(engine)
    return engine, f"briefly trained model ({engine.step} steps)"
