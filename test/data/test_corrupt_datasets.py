"""Malformed transforms.json, missing and corrupt images: :func:`load_dataset` (and reading
the frames) raises :class:`DatasetError` with one line naming the file, never anything else;
``lerf-ros train`` turns it into a one-line error with exit status 2."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lerf_ros.data.datasets import DatasetError, load_dataset
from lerf_ros.data.synthetic.export import make_scene_dataset

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["../../etc/passwd", "images/0000", "", "images", "OPENCV"]),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
TOP_KEYS = ["frames", "w", "h", "fl_x", "fl_y", "cx", "cy", "k1", "k4", "camera_model",
            "camera_angle_x", "aabb_scale", "depth_unit_scale_factor", "scale",
            "offset"]  # fmt: skip
FRAME_KEYS = ["file_path", "transform_matrix", "w", "fl_x", "k1", "depth_file_path",
              "camera_angle_y", "instance_file_path"]  # fmt: skip


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A valid 3-view 16x12 synthetic dataset to damage."""
    return make_scene_dataset(
        tmp_path_factory.mktemp("valid") / "scene", views=3, width=16, height=12
    )


def load_all(root: Path):
    """What ``lerf-ros train`` does with a dataset before training: load it, read every frame."""
    dataset = load_dataset(root)
    for frame in dataset.frames:
        assert frame.image.shape == (frame.intrinsics.height, frame.intrinsics.width, 3)
        frame.intrinsics.validate()
    return dataset


def check_error(error: DatasetError) -> None:
    message = str(error)
    assert message and "\n" not in message, message
    assert ".json" in message or ".png" in message or "images" in message or "/" in message


@st.composite
def damage(draw):
    """One way to damage a dataset: (kind, details)."""
    kind = draw(
        st.sampled_from(
            [
                "top key",
                "frame key",
                "drop key",
                "json text",
                "image bytes",
                "image gone",
                "scene.json",
            ]
        )
    )
    if kind == "top key":
        return kind, (draw(st.sampled_from(TOP_KEYS)), draw(json_values))
    if kind == "frame key":
        return kind, (draw(st.integers(0, 2)), draw(st.sampled_from(FRAME_KEYS)), draw(json_values))
    if kind == "drop key":
        return kind, (draw(st.integers(0, 2)), draw(st.sampled_from([*FRAME_KEYS[:2], "*"])))
    if kind == "json text":
        return kind, (draw(st.integers(0, 4000)), draw(st.binary(max_size=6)))
    if kind == "image bytes":
        return kind, (
            draw(st.integers(0, 2)),
            draw(st.integers(0, 200)),
            draw(st.binary(max_size=40)),
        )
    if kind == "image gone":
        return kind, draw(st.integers(0, 2))
    return kind, draw(st.one_of(st.binary(max_size=30), json_values.map(json.dumps)))


def apply(root: Path, kind: str, details) -> None:
    path = root / "transforms.json"
    data = json.loads(path.read_text())
    images = sorted((root / "images").iterdir())
    if kind == "top key":
        key, value = details
        data[key] = value
    elif kind == "frame key":
        index, key, value = details
        data["frames"][index][key] = value
    elif kind == "drop key":
        index, key = details
        if key == "*":
            data["frames"][index] = {}
        else:
            data["frames"][index].pop(key, None)
    elif kind == "json text":
        cut, garbage = details
        text = json.dumps(data).encode()
        path.write_bytes(text[: cut % (len(text) + 1)] + garbage)
        return
    elif kind == "image bytes":
        index, cut, garbage = details
        raw = images[index].read_bytes()
        images[index].write_bytes(raw[: cut % (len(raw) + 1)] + garbage)
    elif kind == "image gone":
        images[details].unlink()
    elif kind == "scene.json":
        (root / "scene.json").write_bytes(
            details if isinstance(details, bytes) else details.encode()
        )
    path.write_text(json.dumps(data))


@SETTINGS
@given(change=damage())
@example(("top key", ("frames", [])))
@example(("top key", ("frames", None)))
@example(("frame key", (0, "file_path", 5)))
@example(("frame key", (0, "file_path", None)))
@example(("frame key", (1, "transform_matrix", [[1, 0], [0]])))
@example(("frame key", (1, "transform_matrix", [[float("nan")] * 4] * 4)))
@example(("top key", ("k4", "abc")))
@example(("top key", ("depth_unit_scale_factor", "mm")))
@example(("top key", ("aabb_scale", "big")))
@example(("top key", ("w", 1e300)))
@example(("top key", ("camera_model", ["OPENCV"])))
@example(("image bytes", (0, 30, b"")))
@example(("image bytes", (0, 0, b"not a png")))
@example(("image gone", 2))
@example(("json text", (10, b"")))
@example(("json text", (0, b"\xff\xfe")))
@example(("scene.json", b"{"))
@example(("scene.json", '{"bounds": 3}'))
def test_damaged_datasets_load_or_raise_one_line_dataset_error(template, change):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "scene"
        shutil.copytree(template, root)
        apply(root, *change)
        try:
            load_all(root)
        except DatasetError as error:
            check_error(error)


def test_a_missing_image_is_named(template, tmp_path):
    root = tmp_path / "scene"
    shutil.copytree(template, root)
    (root / "images" / "0001.png").unlink()
    with pytest.raises(DatasetError, match=r"transforms\.json: image 'images/0001\.png' does not"):
        load_dataset(root)


def test_a_corrupt_image_is_named_when_read(template, tmp_path):
    root = tmp_path / "scene"
    shutil.copytree(template, root)
    (root / "images" / "0002.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    dataset = load_dataset(root)
    with pytest.raises(DatasetError, match=r"0002\.png: missing or unreadable image"):
        _ = dataset.frames[2].image


@pytest.mark.parametrize(
    "text, words",
    [
        ('{"frames": [', "cannot parse JSON"),
        ("[]", "expected an object with a 'frames' list"),
        ('{"frames": [{"file_path": 7, "transform_matrix": []}]}', "file_path"),
        ('{"frames": [{"file_path": "images/0000.png"}]}', "missing transform_matrix"),
    ],
)
def test_cli_train_on_malformed_transforms_is_one_line(template, tmp_path, capsys, text, words):
    from lerf_ros.cli.main import main

    root = tmp_path / "scene"
    shutil.copytree(template, root)
    (root / "transforms.json").write_text(text)
    out = tmp_path / "model.ckpt"
    status = main(["train", "--data", str(root), "--out", str(out), "--encoder", "colour-minilm",
                   "--dino", "none", "--device", "cpu", "--steps", "1"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1, err
    assert err[0].startswith("lerf-ros train: error: ") and "transforms.json" in err[0], err
    assert words in err[0], err
    assert not out.exists()
