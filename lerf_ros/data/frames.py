"""Posed images in the engine convention: the Frame and Dataset containers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from lerf_ros.cameras.bounds import SceneBox
from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.image_io import DatasetError, read_depth, read_rgb, resize


@dataclass(eq=False)
class Frame:
    """One posed image. Pixels load lazily from ``image_path`` on first access and stay cached."""

    intrinsics: Intrinsics
    """Camera at the resolution ``image`` is delivered in (after any downscaling)."""
    c2w: np.ndarray
    """Camera-to-world pose, OpenCV axes, float64 [4, 4]."""
    name: str = ""
    """Identifier, usually the image path relative to the dataset root."""
    image_path: Path | None = None
    """File the colour image is read from (None when ``cached_image`` is given)."""
    source_size: tuple[int, int] | None = None
    """Expected (width, height) of the file; it is resized to the intrinsics' size.
    None means the file must already have that size."""
    depth_path: Path | None = None
    """Optional 16-bit depth PNG."""
    depth_unit: float = 1e-3
    """Metres per step of the depth PNG."""
    cached_image: np.ndarray | None = field(default=None, repr=False)
    """uint8 RGB [H, W, 3]; pass it to build a frame from memory."""
    cached_depth: np.ndarray | None = field(default=None, repr=False)
    """float32 metres [H, W], 0 where unknown; pass it to build a frame from memory."""
    metadata: dict = field(default_factory=dict)
    """Loader-specific extras, e.g. ``near_far`` (LLFF) or ``instance_path`` (synthetic)."""

    @property
    def image(self) -> np.ndarray:
        """uint8 RGB [H, W, 3] at the intrinsics' resolution."""
        if self.cached_image is None:
            if self.image_path is None:
                raise DatasetError(f"frame {self.name!r} has neither pixels nor an image path")
            image = read_rgb(self.image_path)
            self._check_size(self.image_path, image)
            self.cached_image = resize(image, self.intrinsics.width, self.intrinsics.height)
        return self.cached_image

    @property
    def depth(self) -> np.ndarray | None:
        """float32 depth in metres [H, W] (0 = unknown), or None without depth."""
        if self.cached_depth is None and self.depth_path is not None:
            depth = read_depth(self.depth_path, self.depth_unit)
            self._check_size(self.depth_path, depth)
            size = (self.intrinsics.width, self.intrinsics.height)
            self.cached_depth = resize(depth, *size, nearest=True)
        return self.cached_depth

    @property
    def camera_center(self) -> np.ndarray:
        """Camera position in the world frame [3]."""
        return self.c2w[:3, 3]

    def _check_size(self, path: Path, pixels: np.ndarray) -> None:
        expected = self.source_size or (self.intrinsics.width, self.intrinsics.height)
        actual = (pixels.shape[1], pixels.shape[0])
        if actual != tuple(expected):
            raise DatasetError(
                f"{path}: image is {actual[0]}x{actual[1]} but the camera expects "
                f"{expected[0]}x{expected[1]}"
            )


@dataclass
class Dataset:
    """Posed images sharing one world frame."""

    frames: list[Frame]
    """The images, in capture / file order."""
    scene_box: SceneBox | None = None
    """Region of interest in world coordinates, if the source defines one."""
    frame_id: str = "world"
    """Name of the world frame (``"map"`` for synthetic scenes and robot captures)."""
    source_convention: str = "opencv"
    """Camera convention of the source files before conversion: ``"opengl"``,
    ``"llff"`` or ``"opencv"``."""
    root: Path | None = None
    """Folder the dataset was loaded from."""
    annotations: dict | None = None
    """Ground-truth scene description (synthetic scene.json), if present."""

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> Frame:
        return self.frames[index]

    def poses(self) -> np.ndarray:
        """Camera-to-world poses [N, 4, 4], OpenCV axes."""
        return np.stack([frame.c2w for frame in self.frames])

    def camera_centers(self) -> np.ndarray:
        """Camera positions [N, 3]."""
        return self.poses()[:, :3, 3]

    def subset(self, indices) -> Dataset:
        """Dataset with the frames at ``indices`` (frames are shared, not copied)."""
        return replace(self, frames=[self.frames[i] for i in indices])

    def holdout(self, every: int = 8) -> tuple[Dataset, Dataset]:
        """(train, test) split holding out every ``every``-th frame, as in the LLFF protocol."""
        test = list(range(0, len(self.frames), every))
        train = [i for i in range(len(self.frames)) if i % every != 0]
        return self.subset(train), self.subset(test)
