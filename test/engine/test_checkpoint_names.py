"""``~/save``/``~/load`` names stay inside the checkpoint directory, whatever a caller sends."""

from __future__ import annotations

import os

import pytest

from lerf_ros.engine.checkpoint_names import CheckpointNameError, resolve_checkpoint
from lerf_ros.errors import CheckpointError


@pytest.fixture
def folder(tmp_path):
    inside = tmp_path / "ckpt"
    inside.mkdir()
    (tmp_path / "elsewhere").mkdir()
    return inside


def test_empty_name_is_the_checkpoint_path_itself(folder):
    assert resolve_checkpoint("", folder / "field.pt") == folder / "field.pt"


def test_plain_names_land_in_the_directory_with_the_checkpoint_suffix(folder):
    real = folder.resolve()
    assert resolve_checkpoint("kitchen", folder / "field.pt") == real / "kitchen.pt"
    assert resolve_checkpoint("kitchen.ckpt", folder / "field.pt") == real / "kitchen.ckpt"
    assert resolve_checkpoint("runs/a", folder / "field.pt") == real / "runs" / "a.pt"
    assert resolve_checkpoint(str(real / "b.pt"), folder / "field.pt") == real / "b.pt"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../x", "'..'"),
        ("runs/../../x.pt", "'..'"),
        ("..", "'..'"),
        ("/etc/passwd", "outside"),
        (".", "directory"),
        ("a\x00b", "control"),
        ("a\nb", "control"),
        (" x", "white space"),
        ("x" * 300, "limit"),
    ],
)
def test_names_that_escape_or_are_odd_are_refused(folder, name, reason):
    with pytest.raises(CheckpointNameError, match=reason):
        resolve_checkpoint(name, folder / "field.pt")


def test_an_absolute_path_in_a_sibling_directory_is_refused(folder):
    with pytest.raises(CheckpointNameError, match="outside"):
        resolve_checkpoint(str(folder.parent / "elsewhere" / "x.pt"), folder / "field.pt")
    # a sibling whose name starts like the directory is not inside it
    with pytest.raises(CheckpointNameError, match="outside"):
        resolve_checkpoint(str(folder) + "2/x.pt", folder / "field.pt")


def test_symlinks_pointing_out_are_refused(folder):
    outside = folder.parent / "elsewhere"
    os.symlink(outside / "victim.pt", folder / "link.pt")  # a dangling link to a file outside
    os.symlink(outside, folder / "sub")  # a directory entry that leads out
    with pytest.raises(CheckpointNameError, match="symbolic link"):
        resolve_checkpoint("link.pt", folder / "field.pt")
    with pytest.raises(CheckpointNameError, match="symbolic link"):
        resolve_checkpoint("sub/x.pt", folder / "field.pt")
    # a link that stays inside is fine, and resolves to its real target
    os.symlink(folder / "real.pt", folder / "alias.pt")
    assert resolve_checkpoint("alias.pt", folder / "field.pt") == folder.resolve() / "real.pt"


def test_an_existing_directory_is_not_a_checkpoint_file(folder):
    (folder / "runs").mkdir()
    with pytest.raises(CheckpointNameError, match="directory"):
        resolve_checkpoint("runs", folder / "field")  # no suffix to add: the directory itself


def test_no_checkpoint_path_refuses_every_name(folder):
    for checkpoint_path in ("", None):
        with pytest.raises(CheckpointNameError, match="checkpoint_path is empty"):
            resolve_checkpoint("x", checkpoint_path)
    # the node refuses it like any other checkpoint problem
    assert issubclass(CheckpointNameError, CheckpointError)
