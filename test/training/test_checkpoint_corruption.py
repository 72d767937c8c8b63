"""Corrupt, truncated and malformed checkpoints: ``LerfEngine.load`` raises one
:class:`CheckpointError` line naming the file and leaves the running field untouched; a
process killed mid-write leaves the previous checkpoint loadable; the CLI says it in one line."""

from __future__ import annotations

import copy
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from small_engine import minilm_encoder, tiny_config

from lerf_ros.cameras.conventions import look_at
from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.engine import LerfEngine
from lerf_ros.features.encoders.registry import load_encoder
from lerf_ros.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
INTRINSICS = Intrinsics(16, 12, 14.0, 14.0, 8.0, 6.0)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_engine(frames: int = 3, steps: int = 2, seed: int = 0) -> LerfEngine:
    torch.manual_seed(seed)
    engine = LerfEngine(tiny_config(), minilm_encoder(), None)
    rng = np.random.default_rng(seed)
    for index in range(frames):
        angle = 2 * np.pi * index / frames
        eye = (np.cos(angle), np.sin(angle), 0.5)
        image = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
        engine.add_frame(image, INTRINSICS, look_at(eye, (0, 0, 0.3)), index, force=True)
    engine.compute_pending_features()
    for _ in range(steps):
        engine.train_step()
    return engine


def fingerprint(engine: LerfEngine) -> tuple:
    """Step, keyframe ids and a hash of every weight: equal before and after a failed load."""
    hasher = hashlib.sha256()
    for name, value in engine.trainer.model.state_dict().items():
        hasher.update(name.encode())
        hasher.update(value.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    ids = tuple(f.id for f in engine.keyframes.snapshot())
    return engine.step, ids, engine.frame_id, hasher.hexdigest()


class Saved(bytes):
    """A checkpoint's bytes with a short repr (hypothesis prints its arguments on failure)."""

    def __repr__(self) -> str:
        return f"<checkpoint of {len(self)} bytes>"


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Saved:
    """A valid checkpoint's bytes (3 keyframes with features, 2 steps)."""
    path = make_engine().save(tmp_path_factory.mktemp("ckpt") / "valid.ckpt")
    return Saved(path.read_bytes())


@pytest.fixture(scope="module")
def payload(saved, tmp_path_factory) -> dict:
    """The valid checkpoint's payload (without format, version and digest)."""
    path = _write(tmp_path_factory.mktemp("payload") / "valid.ckpt", saved)
    reserved = ("format", "version", "digest")
    return {k: v for k, v in load_checkpoint(path).items() if k not in reserved}


@pytest.fixture(scope="module")
def running(tmp_path_factory) -> LerfEngine:
    """The 'running node': a different field (4 keyframes, 3 steps) that loads must not harm.
    ``running.restore_path`` holds its own checkpoint, to undo a load a test accepted."""
    engine = make_engine(frames=4, steps=3, seed=1)
    engine.restore_path = engine.save(tmp_path_factory.mktemp("running") / "running.ckpt")
    return engine


def check_refused(running: LerfEngine, path: Path, before: tuple) -> str:
    with pytest.raises(CheckpointError) as caught:
        running.load(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message, message
    assert fingerprint(running) == before
    return message


def test_a_valid_checkpoint_round_trips(saved, tmp_path):
    path = tmp_path / "ok.ckpt"
    path.write_bytes(saved)
    engine = LerfEngine(tiny_config(), minilm_encoder(), None)
    engine.load(path)
    assert engine.step == 2 and len(engine.keyframes.snapshot()) == 3
    assert all(f.has_features for f in engine.keyframes.snapshot())
    assert engine.train_step() is not None and engine.step == 3


@SETTINGS
@given(fraction=st.floats(0.0, 1.0, exclude_max=True))
@example(0.0)
@example(0.5)
@example(0.999)
def test_truncated_checkpoints_are_refused_and_the_field_is_kept(
    saved, running, tmp_path, fraction
):
    path = tmp_path / "truncated.ckpt"
    path.write_bytes(saved[: int(fraction * len(saved))])
    message = check_refused(running, path, fingerprint(running))
    assert "unreadable" in message or "damaged" in message or "not a lerf_ros" in message


@SETTINGS
@given(
    flips=st.lists(
        st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(1, 255)),
        min_size=1,
        max_size=4,
    )
)
def test_flipped_bytes_are_refused_or_load_the_same_field(saved, running, tmp_path, flips):
    """torch.load checks no checksum: before the digest, a flipped bit in a tensor loaded as
    silently wrong weights (206 of 300 single-byte flips in a measurement)."""
    data = bytearray(saved)
    for where, mask in flips:
        data[int(where * len(data))] ^= mask
    path = tmp_path / "flipped.ckpt"
    path.write_bytes(bytes(data))
    before = fingerprint(running)
    try:
        running.load(path)
    except CheckpointError as error:
        assert str(path) in str(error) and "\n" not in str(error)
        assert fingerprint(running) == before
        return
    # The flips hit bytes nothing reads (zip metadata): the very same field loaded.
    reference = LerfEngine(tiny_config(), minilm_encoder(), None)
    reference.load(_write(tmp_path / "reference.ckpt", saved))
    assert fingerprint(running)[::2] == fingerprint(reference)[::2]
    running.load(running.restore_path)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


plain_values = st.one_of(
    st.none(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.lists(st.integers(0, 3), max_size=3),
    st.sampled_from([torch.zeros(0), torch.full((2, 2), float("nan")), torch.ones(3, 4)]),
)
TOP = ["frame_id", "step", "aabb", "clip_dim", "dino_dim", "encoder", "model", "optimizer",
       "keyframes"]  # fmt: skip
KEYFRAME = ["id", "image", "intrinsics", "c2w", "stamp", "camera", "pyramid", "dense"]


@settings(SETTINGS, max_examples=30)
@given(
    where=st.sampled_from(["top", "keyframe", "model"]),
    key_index=st.integers(0, 100),
    action=st.sampled_from(["delete", "replace"]),
    value=plain_values,
)
@example("top", TOP.index("aabb"), "replace", torch.ones(3, 4))
@example("top", TOP.index("keyframes"), "replace", "abc")
@example("keyframe", KEYFRAME.index("c2w"), "replace", torch.full((2, 2), float("nan")))
@example("keyframe", KEYFRAME.index("intrinsics"), "replace", [0, 1, 2])
@example("model", 0, "replace", torch.ones(3, 4))
@example("top", TOP.index("step"), "replace", -616510)  # learning rate overflowed
@example("top", TOP.index("encoder"), "replace", torch.full((2, 2), float("nan")))
def test_malformed_payloads_are_refused_and_the_field_is_kept(
    payload, running, tmp_path, where, key_index, action, value
):
    """Well-formed files with damaged content (written with a valid digest, as a buggy or
    hostile writer would): every problem is one CheckpointError, nothing half-loaded."""
    payload = copy.deepcopy(payload)
    if where == "top":
        container, key = payload, TOP[key_index % len(TOP)]
    elif where == "keyframe":
        container, key = payload["keyframes"][0], KEYFRAME[key_index % len(KEYFRAME)]
    else:
        container = payload["model"]
        key = sorted(container)[key_index % len(container)]
    if action == "delete":
        del container[key]
    else:
        container[key] = value
    path = save_checkpoint(tmp_path / "malformed.ckpt", payload)
    before = fingerprint(running)
    try:
        running.load(path)
    except CheckpointError as error:
        assert str(path) in str(error) and "\n" not in str(error), str(error)
        assert fingerprint(running) == before
        return
    # Accepted: only harmless changes (e.g. another camera name or frame id, or no keyframes
    # at all: a node saved before its first keyframe); it trains once it has frames.
    if running.keyframes.snapshot():
        assert running.train_step() is not None
    else:
        assert running.train_step() is None and running.status().keyframes == 0
    for parameter in running.trainer.model.parameters():
        assert torch.isfinite(parameter).all()
    running.load(running.restore_path)


def test_a_checkpoint_of_another_model_size_keeps_the_running_field(running, tmp_path):
    """Before load() built the new field aside, a size mismatch (another preset) failed half
    way, after the running model had been replaced by an untrained one."""
    other = LerfEngine(tiny_config(), minilm_encoder(), None)
    other.config.nerf.grid.num_levels = 6
    for index in range(2):
        eye = (1.0, index * 0.5, 0.5)
        image = np.full((12, 16, 3), 100 + index, np.uint8)
        other.add_frame(image, INTRINSICS, look_at(eye, (0, 0, 0.3)), index, force=True)
    path = other.save(tmp_path / "other.ckpt")
    before = fingerprint(running)
    message = check_refused(running, path, before)
    assert "malformed" in message and "size mismatch" in message


def test_a_checkpoint_of_another_encoder_is_named(saved, tmp_path):
    path = _write(tmp_path / "minilm.ckpt", saved)
    encoder = load_encoder("colour-minilm")  # a fresh one: the shared encoder stays as it is
    encoder.name = "other"
    engine = LerfEngine(tiny_config(), encoder, None)
    with pytest.raises(CheckpointError, match="trained with encoder 'colour-minilm"):
        engine.load(path)


WRITER = """
import sys, torch
from lerf_ros.training.checkpoint import save_checkpoint
path, size = sys.argv[1], int(sys.argv[2])
step = 0
while True:
    step += 1
    save_checkpoint(path, {"step": step, "weights": torch.full((size,), float(step))})
    print(step, flush=True)
"""


def test_a_writer_killed_mid_write_leaves_a_loadable_checkpoint(tmp_path):
    """SIGKILL a process that saves a 16 MB checkpoint in a loop, at two moments: the file
    always loads whole (one of the saves), only temporary files may be left over."""
    path = tmp_path / "loop.ckpt"
    size = 4 << 20  # float32 elements: 16 MB per save
    seen_steps = []
    for delay in (0.05, 0.3):
        process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(size)],
            stdout=subprocess.PIPE,
            text=True,
        )
        first = process.stdout.readline()  # at least one save completed
        assert first.strip(), "the writer died before its first save"
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()
        data = load_checkpoint(path)
        step = data["step"]
        assert torch.equal(data["weights"], torch.full((size,), float(step)))
        seen_steps.append(step)
    assert all(step >= 1 for step in seen_steps)
    leftovers = [p for p in tmp_path.iterdir() if p.name != "loop.ckpt"]
    assert all(p.name.startswith(".loop.ckpt.") and p.name.endswith(".tmp") for p in leftovers)
    # The next save removes partial files a killed writer left behind (once they are stale).
    stale = tmp_path / ".loop.ckpt.killed.tmp"
    stale.write_bytes(b"partial")
    for leftover in [*leftovers, stale]:
        os.utime(leftover, (time.time() - 3600, time.time() - 3600))
    fresh = tmp_path / ".loop.ckpt.writing.tmp"  # another writer's, still being written
    fresh.write_bytes(b"partial")
    save_checkpoint(path, {"step": 0})
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, "loop.ckpt"]


@pytest.mark.parametrize("damage", ["truncated", "not a checkpoint", "malformed"])
def test_cli_query_of_a_damaged_checkpoint_is_one_line(saved, tmp_path, capsys, damage):
    from lerf_ros.cli.main import main

    path = tmp_path / f"{damage.replace(' ', '_')}.ckpt"
    if damage == "truncated":
        path.write_bytes(saved[: len(saved) // 2])
    elif damage == "not a checkpoint":
        torch.save({"weights": torch.ones(2)}, path)
    else:
        source = _write(tmp_path / "source.ckpt", saved)
        payload = {k: v for k, v in load_checkpoint(source).items() if k != "digest"}
        del payload["model"]
        payload.pop("format"), payload.pop("version")
        save_checkpoint(path, payload)
    status = main(["query", str(path), "red ball", "--encoder", "colour-minilm",
                   "--dino", "none", "--device", "cpu"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1, err
    assert err[0].startswith("lerf-ros query: error: checkpoint ") and str(path) in err[0]
