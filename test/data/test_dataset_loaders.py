"""Dataset loaders on the shared real scenes and on malformed inputs."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from lerf_ros.cameras import Intrinsics, opencv_to_opengl
from lerf_ros.data.datasets import (
    DatasetError,
    Frame,
    load_dataset,
    load_llff,
    load_transforms_json,
)

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"shared test data {path} is not available")
    return path


def facing_origin(poses: np.ndarray) -> np.ndarray:
    """Cosine between each camera's forward (OpenCV +z) axis and the direction to the origin."""
    to_origin = -poses[:, :3, 3] / np.linalg.norm(poses[:, :3, 3], axis=1, keepdims=True)
    return (poses[:, :3, 2] * to_origin).sum(axis=1)


def test_lego_train_at_downscale_8():
    dataset = load_transforms_json(shared("lego"), split="train", downscale=8)
    assert len(dataset) == 100 and dataset.source_convention == "opengl"
    radii = np.linalg.norm(dataset.camera_centers(), axis=1)
    np.testing.assert_allclose(radii, 4.031, atol=0.01)
    assert facing_origin(dataset.poses()).min() > 0.99  # OpenCV +z looks at the model
    frame = dataset[0]
    assert (frame.intrinsics.width, frame.intrinsics.height) == (100, 100)
    assert frame.intrinsics.fx == pytest.approx(0.5 * 100 / np.tan(0.5 * 0.6911112070083618))
    image = frame.image
    assert image.shape == (100, 100, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[0, 0], [255, 255, 255])  # alpha composited on white
    assert image[40:60, 40:60].mean() < 250  # the model itself is in the middle


def test_lego_test_split_and_max_images():
    assert len(load_transforms_json(shared("lego"), split="test", downscale=8)) == 25
    subset = load_transforms_json(shared("lego"), split="train", downscale=8, max_images=10)
    assert len(subset) == 10
    assert subset[0].name == "./train/r_0" and subset[-1].name == "./train/r_99"


def test_fern_loads_twenty_frames_with_rescaled_intrinsics():
    dataset = load_llff(shared("llff_fern"))
    assert len(dataset) == 20 and dataset.source_convention == "llff"
    camera = dataset[0].intrinsics
    assert (camera.width, camera.height) == (504, 378)
    assert camera.fx == pytest.approx(3260.5263 / 8, rel=1e-4)
    assert dataset[0].image.shape == (378, 504, 3)
    near, far = dataset[0].metadata["near_far"]
    assert 0 < near < far
    # Forward-facing capture: all cameras look the same way.
    forward = dataset.poses()[:, :3, 2]
    assert (forward @ forward.mean(axis=0)).min() > 0.95
    smaller = load_dataset(shared("llff_fern"), downscale=16)
    assert smaller[3].image.shape == (189, 252, 3)
    assert smaller[3].intrinsics.fx == pytest.approx(camera.fx / 2)


def test_fox_loads_with_distortion():
    dataset = load_dataset(shared("fox"), downscale=8)
    assert len(dataset) == 67
    camera = dataset[0].intrinsics
    assert camera.distortion == pytest.approx((0.0578421, -0.0805099, -0.000980296, 0.00015575))
    assert (camera.width, camera.height) == (135, 240)
    assert camera.fx == pytest.approx(1375.52 / 8)
    assert dataset[0].image.shape == (240, 135, 3)
    assert facing_origin(dataset.poses()).min() > 0.9
    assert dataset.scene_box is not None


# ---- malformed inputs (no shared data needed) ----


def write_scene(root: Path, frames=None, **shared_keys) -> Path:
    """A tiny valid nerfstudio dataset: two 8x6 images."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    for i in range(2):
        cv2.imwrite(str(root / "images" / f"{i}.png"), np.full((6, 8, 3), 40 * i, np.uint8))
    pose = opencv_to_opengl(np.eye(4)).tolist()
    data = {"fl_x": 10.0, "fl_y": 10.0, "cx": 4.0, "cy": 3.0, "w": 8, "h": 6, **shared_keys}
    data["frames"] = frames or [
        {"file_path": f"images/{i}.png", "transform_matrix": pose} for i in range(2)
    ]
    path = root / "transforms.json"
    path.write_text(json.dumps(data))
    return path


def test_minimal_dataset_loads(tmp_path):
    dataset = load_dataset(write_scene(tmp_path))
    assert len(dataset) == 2 and dataset.scene_box is None
    np.testing.assert_allclose(dataset[1].c2w, np.eye(4))
    assert dataset[1].image[0, 0].tolist() == [40, 40, 40]
    train, test = dataset.holdout(every=2)
    assert [f.name for f in test.frames] == ["images/0.png"]
    assert [f.name for f in train.frames] == ["images/1.png"]


def one_frame(file_path="images/0.png", matrix=None) -> list[dict]:
    matrix = np.eye(4) if matrix is None else matrix
    return [{"file_path": file_path, "transform_matrix": np.asarray(matrix).tolist()}]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p.write_text("{ not json"), "cannot parse JSON"),
        (lambda p: p.write_text(json.dumps({"fl_x": 1})), "'frames' list"),
        (lambda p: p.write_text(json.dumps({"frames": []})), "empty"),
        (lambda p: write_scene(p.parent, [{"transform_matrix": []}]), "no file_path"),
        (lambda p: write_scene(p.parent, one_frame("images/9.png")), "does not exist"),
        (lambda p: write_scene(p.parent, one_frame(matrix=np.eye(2))), "4x4"),
        (lambda p: write_scene(p.parent, one_frame(matrix=np.diag([2, 2, 2, 1]))), "orthonormal"),
        (lambda p: write_scene(p.parent, one_frame(matrix=np.diag([1, 1, -1, 1]))), "determinant"),
        (lambda p: write_scene(p.parent, fl_x=-5.0), "focal"),
        (lambda p: write_scene(p.parent, fl_x="wide"), "fl_x must be a number"),
        (lambda p: write_scene(p.parent, camera_model="OPENCV_FISHEYE"), "not supported"),
    ],
)
def test_malformed_transforms_raise_dataset_error_naming_the_file(tmp_path, edit, message):
    path = write_scene(tmp_path)
    edit(path)
    with pytest.raises(DatasetError, match=message) as error:
        load_transforms_json(tmp_path)
    assert str(path) in str(error.value)
    assert "\n" not in str(error.value)


def test_image_of_wrong_size_is_reported_on_access(tmp_path):
    write_scene(tmp_path)
    cv2.imwrite(str(tmp_path / "images" / "1.png"), np.zeros((5, 5, 3), np.uint8))
    dataset = load_transforms_json(tmp_path)
    assert dataset[0].image.shape == (6, 8, 3)
    with pytest.raises(DatasetError, match=r"1\.png: image is 5x5 but the camera expects 8x6"):
        _ = dataset[1].image


def test_frame_from_memory_needs_no_files():
    image = np.zeros((6, 8, 3), np.uint8)
    frame = Frame(Intrinsics(8, 6, 10.0, 10.0, 4.0, 3.0), np.eye(4), "memory", cached_image=image)
    assert frame.image is image and frame.depth is None


def test_unknown_folder_and_bad_llff(tmp_path):
    with pytest.raises(DatasetError, match="not a dataset"):
        load_dataset(tmp_path)
    np.save(tmp_path / "poses_bounds.npy", np.zeros((3, 15)))
    with pytest.raises(DatasetError, match=r"poses_bounds\.npy: expected shape \[N, 17\]"):
        load_dataset(tmp_path)
    np.save(tmp_path / "poses_bounds.npy", np.zeros((3, 17)))
    with pytest.raises(DatasetError, match="no images"):
        load_llff(tmp_path)
