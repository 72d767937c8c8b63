"""Export to a nerfstudio dataset and read it back through the dataset loader."""

import json
import math

import cv2
import numpy as np
import pytest

from lerf_ros.cameras import Intrinsics
from lerf_ros.data.datasets import load_dataset, load_transforms_json
from lerf_ros.data.synthetic import (
    default_scene,
    export_transforms,
    make_scene_dataset,
    orbit,
    render_view,
)


def test_export_round_trip_keeps_poses_images_and_depth(tmp_path):
    scene = default_scene()
    # A distorted lens checks that the coefficients survive the round trip too.
    pinhole = Intrinsics.from_fov(48, 36, math.radians(60))
    camera = Intrinsics(48, 36, pinhole.fx, pinhole.fy, 23.7, 18.2, (-0.1, 0.02, 1e-3, -1e-3))
    poses = orbit(scene.view.target, 1.4, 1.45, 4)
    views = [render_view(scene, camera, pose) for pose in poses]
    export_transforms(scene, views, camera, tmp_path)

    dataset = load_transforms_json(tmp_path)
    assert len(dataset) == 4 and dataset.frame_id == "map"
    assert dataset.source_convention == "opengl"
    np.testing.assert_allclose(dataset.poses(), np.stack(poses), atol=1e-6)
    for frame, view in zip(dataset.frames, views, strict=True):
        assert frame.intrinsics == camera
        expected = (view.rgb * 255).round().astype(np.uint8)
        np.testing.assert_array_equal(frame.image, expected)
        finite = np.isfinite(view.depth)
        np.testing.assert_allclose(frame.depth[finite], view.depth[finite], atol=5e-4)
        assert frame.metadata["instance_path"].is_file()
    np.testing.assert_allclose(dataset.scene_box.minimum, scene.bounds().minimum)


def test_exported_files_follow_nerfstudio_layout(tmp_path):
    out = make_scene_dataset(tmp_path / "scene", views=3, width=32, height=24, supersample=1)
    transforms = json.loads((out / "transforms.json").read_text())
    assert {"fl_x", "fl_y", "cx", "cy", "w", "h"} <= transforms.keys()
    assert transforms["frames"][0]["file_path"] == "images/0000.png"
    assert transforms["frames"][2]["depth_file_path"] == "depth/0002.png"
    assert (out / "images" / "0002.png").is_file() and (out / "depth" / "0002.png").is_file()
    scene = json.loads((out / "scene.json").read_text())
    assert scene["world_frame"] == "map" and scene["up"] == "z"
    first = scene["objects"][0]
    assert {"name", "description", "shape", "center", "size", "box_min", "box_max"} <= first.keys()


@pytest.mark.parametrize("trajectory", ["robot", "walk"])
def test_make_scene_dataset_other_scenes_and_paths(tmp_path, trajectory):
    out = make_scene_dataset(
        tmp_path, scene="mug", views=3, width=32, height=24, trajectory=trajectory, supersample=1
    )
    dataset = load_dataset(out)
    assert len(dataset) == 3
    names = [obj["name"] for obj in dataset.annotations["objects"]]
    assert names[:2] == ["orange mug", "cyan handle"]
    assert dataset.scene_box.contains(dataset.camera_centers()).all()
    # Every camera looks at the mug: it appears in each exported instance mask (id + 1).
    for frame in dataset.frames:
        instances = cv2.imread(str(frame.metadata["instance_path"]), cv2.IMREAD_UNCHANGED)
        assert instances.shape == (24, 32) and (instances == 1).sum() > 0


def test_make_scene_dataset_rejects_unknown_names(tmp_path):
    with pytest.raises(ValueError, match="scene"):
        make_scene_dataset(tmp_path, scene="castle")
    with pytest.raises(ValueError, match="trajectory"):
        make_scene_dataset(tmp_path, trajectory="spiral", views=2, width=8, height=6)
