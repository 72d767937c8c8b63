import os

import pytest
import torch

from lerf_ros.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def test_roundtrip_keeps_tensors_and_plain_data(tmp_path):
    path = save_checkpoint(
        tmp_path / "a.ckpt", {"weights": {"w": torch.arange(6.0)}, "step": 7, "names": ["x"]}
    )
    data = load_checkpoint(path)
    assert torch.equal(data["weights"]["w"], torch.arange(6.0))
    assert data["step"] == 7 and data["names"] == ["x"]


def test_truncated_file_names_the_problem_and_previous_checkpoint_survives(tmp_path):
    path = save_checkpoint(tmp_path / "a.ckpt", {"step": 1})
    corrupt = tmp_path / "b.ckpt"
    corrupt.write_bytes(path.read_bytes()[:20])
    with pytest.raises(CheckpointError, match=r"b\.ckpt: unreadable"):
        load_checkpoint(corrupt)
    # A refused write leaves the old file and no temporary behind.
    with pytest.raises(CheckpointError, match="cannot store a function"):
        save_checkpoint(path, {"bad": lambda: None})
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_arbitrary_pickled_objects_are_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.ckpt"
    torch.save({"format": "lerf_ros.checkpoint", "version": 1, "x": Evil()}, path)
    with pytest.raises(CheckpointError, match="unreadable"):
        load_checkpoint(path)


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "nope.ckpt")
    torch.save({"weights": 1}, tmp_path / "other.ckpt")
    with pytest.raises(CheckpointError, match="not a lerf_ros checkpoint"):
        load_checkpoint(tmp_path / "other.ckpt")
