"""Loaders for posed-image datasets on disk, converting poses to the engine convention.

Supported: nerfstudio / instant-ngp / Blender ``transforms*.json`` and LLFF
``poses_bounds.npy``. Problems with the files raise :class:`DatasetError` naming the file.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from lerf_ros.cameras.bounds import SceneBox
from lerf_ros.cameras.conventions import llff_to_opencv, opengl_to_opencv, validate_pose
from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.frames import Dataset, Frame
from lerf_ros.data.image_io import DatasetError, image_size

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG")
"""Extensions tried for image paths given without one (Blender) and listed for LLFF."""

INSTANT_NGP_SCALE = 0.33
"""instant-ngp maps transforms.json positions p to p * 0.33 + 0.5 unless told otherwise."""

_DISTORTION_KEYS = ("k1", "k2", "p1", "p2", "k3")


def _resolve_image(root: Path, file_path: str, json_path: Path) -> Path:
    path = root / file_path
    if path.suffix:
        if not path.is_file():
            raise DatasetError(f"{json_path}: image {file_path!r} does not exist")
        return path
    for suffix in IMAGE_SUFFIXES:  # Blender stores paths without an extension
        if path.with_suffix(suffix).is_file():
            return path.with_suffix(suffix)
    raise DatasetError(f"{json_path}: image {file_path!r} does not exist (tried .png, .jpg)")


def _number(value, key: str, json_path: Path) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DatasetError(f"{json_path}: {key} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise DatasetError(f"{json_path}: {key} must be finite, got {value!r}")
    return number


def _intrinsics(camera: dict, image_path: Path, json_path: Path) -> Intrinsics:
    """Intrinsics from nerfstudio keys (frame keys already merged over the shared ones)."""
    model = camera.get("camera_model", "OPENCV")
    if model not in ("OPENCV", "PINHOLE", "SIMPLE_PINHOLE", "RADIAL", "SIMPLE_RADIAL"):
        raise DatasetError(f"{json_path}: camera_model {model!r} is not supported")
    if "w" in camera and "h" in camera:
        width = int(_number(camera["w"], "w", json_path))
        height = int(_number(camera["h"], "h", json_path))
    else:
        width, height = image_size(image_path)
    if "fl_x" in camera:
        fx = _number(camera["fl_x"], "fl_x", json_path)
    elif "camera_angle_x" in camera:
        angle = _number(camera["camera_angle_x"], "camera_angle_x", json_path)
        fx = 0.5 * width / math.tan(0.5 * angle)
    else:
        raise DatasetError(f"{json_path}: no focal length (need fl_x or camera_angle_x)")
    if "fl_y" in camera:
        fy = _number(camera["fl_y"], "fl_y", json_path)
    elif "camera_angle_y" in camera and "fl_x" not in camera:
        angle = _number(camera["camera_angle_y"], "camera_angle_y", json_path)
        fy = 0.5 * height / math.tan(0.5 * angle)
    else:
        fy = fx
    cx = _number(camera.get("cx", 0.5 * width), "cx", json_path)
    cy = _number(camera.get("cy", 0.5 * height), "cy", json_path)
    coefficients = [_number(camera.get(k, 0.0), k, json_path) for k in _DISTORTION_KEYS]
    if "k4" in camera and _number(camera["k4"], "k4", json_path) != 0.0:
        raise DatasetError(f"{json_path}: fisheye / k4 distortion is not supported")
    distortion = () if not any(coefficients) else tuple(coefficients[: 5 if coefficients[4] else 4])
    try:
        return Intrinsics(width, height, fx, fy, cx, cy, distortion).validate()
    except ValueError as error:
        raise DatasetError(f"{json_path}: {error}") from None


def _pose(matrix, json_path: Path, label: str) -> np.ndarray:
    try:
        pose = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise DatasetError(f"{json_path}: {label}: transform_matrix is not numeric") from None
    if pose.shape == (3, 4):
        pose = np.vstack([pose, [0.0, 0.0, 0.0, 1.0]])
    if pose.shape != (4, 4):
        raise DatasetError(f"{json_path}: {label}: transform_matrix must be 4x4, got {pose.shape}")
    try:
        return validate_pose(opengl_to_opencv(pose))
    except ValueError as error:
        raise DatasetError(f"{json_path}: {label}: {error}") from None


def _transforms_file(path: Path, split: str | None) -> Path:
    if path.is_file():
        return path
    if not path.is_dir():
        raise DatasetError(f"{path}: no such file or folder")
    names = [f"transforms_{split}.json"] if split else ["transforms.json", "transforms_train.json"]
    for name in names:
        if (path / name).is_file():
            return path / name
    raise DatasetError(f"{path}: no {' or '.join(names)} found")


def _evenly_spaced(count: int, limit: int | None) -> list[int]:
    if limit is None or limit >= count:
        return list(range(count))
    return sorted(set(np.linspace(0, count - 1, limit).round().astype(int).tolist()))


def _instant_ngp_box(data: dict, json_path: Path) -> SceneBox | None:
    """instant-ngp's bounding box in the file's own world (default scale and offset only)."""
    if "aabb_scale" not in data or "offset" in data:
        return None
    aabb_scale = _number(data["aabb_scale"], "aabb_scale", json_path)
    scale = _number(data.get("scale", INSTANT_NGP_SCALE), "scale", json_path)
    if aabb_scale <= 0 or scale <= 0:
        raise DatasetError(f"{json_path}: aabb_scale and scale must be positive")
    half = 0.5 * aabb_scale / scale
    return SceneBox([-half] * 3, [half] * 3)


def load_transforms_json(
    path: str | Path,
    split: str | None = None,
    downscale: float = 1,
    max_images: int | None = None,
) -> Dataset:
    """Load a nerfstudio / instant-ngp / Blender dataset.

    Args:
        path: folder holding transforms.json (or transforms_{split}.json), or the json file.
        split: ``"train"``, ``"val"`` or ``"test"`` picks transforms_{split}.json; None picks
            transforms.json, else transforms_train.json.
        downscale: images (and intrinsics) are reduced by this factor (sizes rounded down).
        max_images: keep at most this many frames, evenly spaced over the sequence.

    Camera axes are converted from OpenGL to OpenCV; the world frame is kept as given
    (instant-ngp's fox is in instant-ngp's own transformed world). A ``scene.json`` next to
    the file (synthetic scenes) provides the scene box, world frame name and annotations.
    """
    json_path = _transforms_file(Path(path), split)
    root = json_path.parent
    try:
        data = json.loads(json_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DatasetError(f"{json_path}: cannot parse JSON ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("frames"), list):
        raise DatasetError(f"{json_path}: expected an object with a 'frames' list")
    if not data["frames"]:
        raise DatasetError(f"{json_path}: 'frames' is empty")
    if not downscale >= 1:
        raise DatasetError(f"{json_path}: downscale must be >= 1, got {downscale}")

    shared = {k: v for k, v in data.items() if k != "frames"}
    depth_unit = _number(
        data.get("depth_unit_scale_factor", 1e-3), "depth_unit_scale_factor", json_path
    )
    frames = []
    for index in _evenly_spaced(len(data["frames"]), max_images):
        entry = data["frames"][index]
        if not isinstance(entry, dict) or "file_path" not in entry:
            raise DatasetError(f"{json_path}: frame {index} has no file_path")
        for key in ("file_path", "depth_file_path", "instance_file_path"):
            if key in entry and (not isinstance(entry[key], str) or not entry[key]):
                raise DatasetError(f"{json_path}: frame {index}: {key} must be a non-empty string")
        label = f"frame {index} ({entry['file_path']})"
        if "transform_matrix" not in entry:
            raise DatasetError(f"{json_path}: {label}: missing transform_matrix")
        image_path = _resolve_image(root, entry["file_path"], json_path)
        full = _intrinsics({**shared, **entry}, image_path, json_path)
        camera = full.resized(int(full.width / downscale), int(full.height / downscale))
        depth_path = None
        if "depth_file_path" in entry:
            depth_path = root / entry["depth_file_path"]
            if not depth_path.is_file():
                raise DatasetError(f"{json_path}: {label}: depth image does not exist")
        metadata = {}
        if "instance_file_path" in entry:
            metadata["instance_path"] = root / entry["instance_file_path"]
        frames.append(
            Frame(
                intrinsics=camera,
                c2w=_pose(entry["transform_matrix"], json_path, label),
                name=str(entry["file_path"]),
                image_path=image_path,
                source_size=(full.width, full.height),
                depth_path=depth_path,
                depth_unit=depth_unit,
                metadata=metadata,
            )
        )

    dataset = Dataset(frames, _instant_ngp_box(data, json_path), "world", "opengl", root)
    scene_json = root / "scene.json"
    if scene_json.is_file():
        try:
            annotations = json.loads(scene_json.read_text())
            if not isinstance(annotations, dict):
                raise TypeError("expected a JSON object")
            dataset.annotations = annotations
            dataset.frame_id = str(annotations.get("world_frame", dataset.frame_id))
            if "bounds" in annotations:
                dataset.scene_box = SceneBox.from_dict(annotations["bounds"])
        except (OSError, KeyError, TypeError, ValueError, AttributeError) as error:
            raise DatasetError(f"{scene_json}: malformed scene description ({error})") from None
    return dataset


def _image_folder(root: Path, downscale: int | None) -> tuple[Path, int]:
    """The LLFF image folder to read and its downsampling factor."""
    folders = {}
    for folder in root.iterdir():
        match = re.fullmatch(r"images(?:_(\d+))?", folder.name)
        if folder.is_dir() and match:
            folders[int(match.group(1) or 1)] = folder
    if not folders:
        raise DatasetError(f"{root}: no images/ or images_N/ folder next to poses_bounds.npy")
    if downscale is None:
        factor = min(folders)
    else:
        # The largest stored factor that divides the request needs the least resizing.
        usable = [f for f in folders if downscale % f == 0]
        if not usable:
            raise DatasetError(
                f"{root}: cannot make 1/{downscale} images from folders "
                f"{sorted(p.name for p in folders.values())}"
            )
        factor = max(usable)
    return folders[factor], factor


def load_llff(path: str | Path, downscale: int | None = None) -> Dataset:
    """Load an LLFF scene (``poses_bounds.npy`` plus ``images/`` or ``images_N/``).

    Args:
        path: the scene folder.
        downscale: resolution relative to the full-size poses (8 reads images_8/, or images/
            reduced 8x); None uses the largest images stored, as they are.

    The hwf column is at full resolution; intrinsics are rescaled to the images actually
    delivered. Poses become OpenCV camera-to-world in the LLFF world frame; each frame's
    near / far scene bounds go to ``frame.metadata["near_far"]``.
    """
    root = Path(path)
    npy = root / "poses_bounds.npy"
    try:
        array = np.load(npy)
    except (OSError, ValueError) as error:
        raise DatasetError(f"{npy}: cannot load ({error})") from None
    if array.ndim != 2 or array.shape[1] != 17:
        raise DatasetError(f"{npy}: expected shape [N, 17], got {array.shape}")
    poses = array[:, :15].reshape(-1, 3, 5)
    bounds = array[:, 15:]
    folder, factor = _image_folder(root, downscale)
    images = sorted(p for p in folder.iterdir() if p.suffix in IMAGE_SUFFIXES)
    if len(images) != len(poses):
        raise DatasetError(f"{folder}: {len(images)} images but {npy.name} has {len(poses)} poses")
    stored_width, stored_height = image_size(images[0])
    extra = 1 if downscale is None else downscale // factor
    c2ws = llff_to_opencv(poses)
    frames = []
    for index, image_path in enumerate(images):
        full_height, full_width, focal = poses[index, :, 4]
        # Intrinsics of the stored images: hwf scaled by the actual size ratio per axis.
        stored = Intrinsics(
            stored_width,
            stored_height,
            focal * stored_width / full_width,
            focal * stored_height / full_height,
            0.5 * stored_width,
            0.5 * stored_height,
        )
        try:
            camera = stored.resized(stored_width // extra, stored_height // extra).validate()
            c2w = validate_pose(c2ws[index])
        except ValueError as error:
            raise DatasetError(f"{npy}: pose {index}: {error}") from None
        frames.append(
            Frame(
                intrinsics=camera,
                c2w=c2w,
                name=image_path.name,
                image_path=image_path,
                source_size=(stored_width, stored_height),
                metadata={"near_far": (float(bounds[index, 0]), float(bounds[index, 1]))},
            )
        )
    return Dataset(frames, None, "world", "llff", root)


def load_dataset(path: str | Path, **options) -> Dataset:
    """Load whatever dataset ``path`` holds: a transforms*.json file or folder, or an LLFF
    folder. ``options`` go to the specific loader (split, downscale, max_images).

    Raises :class:`DatasetError` (one line naming the file) for anything malformed."""
    path = Path(path)
    try:
        return _load_dataset(path, **options)
    except DatasetError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError) as error:
        # A value of the wrong type somewhere the checks above do not look: still one line.
        detail = " ".join(str(error).split())[:200] or type(error).__name__
        raise DatasetError(f"{path}: malformed dataset ({detail})") from error


def _load_dataset(path: Path, **options) -> Dataset:
    if path.is_file() and path.suffix == ".json":
        return load_transforms_json(path, **options)
    if path.is_file() and path.name == "poses_bounds.npy":
        return load_llff(path.parent, **options)
    if path.is_dir():
        if any((path / n).is_file() for n in ("transforms.json", "transforms_train.json")):
            return load_transforms_json(path, **options)
        if (path / "poses_bounds.npy").is_file():
            return load_llff(path, **options)
    raise DatasetError(
        f"{path}: not a dataset (expected transforms.json, transforms_train.json "
        "or poses_bounds.npy)"
    )
