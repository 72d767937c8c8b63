"""Pinhole camera intrinsics with optional OpenCV lens distortion (the three CameraInfo models)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

DISTORTION_MODELS = {
    "plumb_bob": (4, 5),
    "rational_polynomial": (4, 5, 8),
    "equidistant": (4,),
}
"""Distortion models (``sensor_msgs/CameraInfo`` names) and the coefficient counts each takes:
plumb_bob (k1, k2, p1, p2[, k3]) and rational_polynomial (k1, k2, p1, p2, k3, k4, k5, k6) are
OpenCV's radial-tangential model (``cv2.projectPoints``); equidistant (k1, k2, k3, k4) is
OpenCV's fisheye model (``cv2.fisheye.projectPoints``)."""


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of one camera, in pixels (pixel centres at +0.5)."""

    width: int
    """Image width in pixels."""
    height: int
    """Image height in pixels."""
    fx: float
    """Focal length along x (columns), in pixels."""
    fy: float
    """Focal length along y (rows), in pixels."""
    cx: float
    """Principal point x, in pixels from the left image edge."""
    cy: float
    """Principal point y, in pixels from the top image edge."""
    distortion: tuple[float, ...] = ()
    """Lens distortion coefficients in OpenCV's order for ``distortion_model``; empty for none."""
    distortion_model: str = "plumb_bob"
    """``plumb_bob`` | ``rational_polynomial`` | ``equidistant`` (see DISTORTION_MODELS)."""

    def __post_init__(self) -> None:
        # Plain Python numbers keep the dataclass hashable, comparable and JSON-friendly
        # whatever numpy scalars a loader passed in.
        for name in ("fx", "fy", "cx", "cy"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))
        object.__setattr__(self, "distortion", tuple(float(k) for k in self.distortion))

    def validate(self) -> Intrinsics:
        """Raise ValueError describing the first problem found; return self if valid."""
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")
        for name in ("fx", "fy", "cx", "cy"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"intrinsic {name} must be finite, got {getattr(self, name)}")
        if self.fx <= 0 or self.fy <= 0:
            raise ValueError(f"focal lengths must be positive, got fx={self.fx}, fy={self.fy}")
        # A principal point a whole image away from the sensor means a unit or axis mix-up.
        if not (-self.width <= self.cx <= 2 * self.width):
            raise ValueError(f"principal point cx={self.cx} is far outside width {self.width}")
        if not (-self.height <= self.cy <= 2 * self.height):
            raise ValueError(f"principal point cy={self.cy} is far outside height {self.height}")
        counts = DISTORTION_MODELS.get(self.distortion_model)
        if counts is None:
            raise ValueError(
                f"unknown distortion model {self.distortion_model!r} "
                f"(supported: {', '.join(DISTORTION_MODELS)})"
            )
        if self.distortion and len(self.distortion) not in counts:
            raise ValueError(
                f"{self.distortion_model} distortion takes {' or '.join(map(str, counts))} "
                f"coefficients, got {len(self.distortion)} values"
            )
        if not all(math.isfinite(k) for k in self.distortion):
            raise ValueError(f"distortion coefficients must be finite, got {self.distortion}")
        return self

    @property
    def has_distortion(self) -> bool:
        """True when any distortion coefficient is non-zero (all zero: a pinhole camera, as
        image_geometry reads CameraInfo, also for equidistant)."""
        return any(k != 0.0 for k in self.distortion)

    @property
    def opencv_distortion(self) -> np.ndarray:
        """The coefficients as OpenCV's functions take them (float64; plumb_bob padded to 5)."""
        values = list(self.distortion)
        if self.distortion_model == "plumb_bob":
            values += [0.0] * (5 - len(values))
        elif self.distortion_model == "rational_polynomial":
            values += [0.0] * (8 - len(values))
        return np.asarray(values, dtype=np.float64)

    @property
    def fov_x(self) -> float:
        """Horizontal field of view in radians (ignoring distortion)."""
        return 2.0 * math.atan(0.5 * self.width / self.fx)

    @property
    def fov_y(self) -> float:
        """Vertical field of view in radians (ignoring distortion)."""
        return 2.0 * math.atan(0.5 * self.height / self.fy)

    def resized(self, width: int, height: int) -> Intrinsics:
        """Intrinsics of the same camera with images resized to ``width`` x ``height``.

        Pixel edges scale with the image, so focal lengths and principal point scale by the
        per-axis size ratio; distortion acts on normalised coordinates and is unchanged.
        """
        sx = width / self.width
        sy = height / self.height
        return replace(
            self,
            width=int(width),
            height=int(height),
            fx=self.fx * sx,
            fy=self.fy * sy,
            cx=self.cx * sx,
            cy=self.cy * sy,
        )

    def scaled(self, factor: float) -> Intrinsics:
        """Intrinsics for images resized by ``factor`` (0.5 halves the resolution)."""
        if not factor > 0:
            raise ValueError(f"scale factor must be positive, got {factor}")
        width = max(1, round(self.width * factor))
        height = max(1, round(self.height * factor))
        return self.resized(width, height)

    def as_matrix(self) -> np.ndarray:
        """The 3x3 camera matrix K (float64)."""
        return np.array(
            [[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]], dtype=np.float64
        )

    @classmethod
    def from_fov(
        cls, width: int, height: int, fov_x_rad: float, fov_y_rad: float | None = None
    ) -> Intrinsics:
        """Centred pinhole intrinsics from a horizontal (and optional vertical) field of view.

        Without ``fov_y_rad`` the pixels are square (fy = fx).
        """
        fx = 0.5 * width / math.tan(0.5 * fov_x_rad)
        fy = fx if fov_y_rad is None else 0.5 * height / math.tan(0.5 * fov_y_rad)
        return cls(width, height, fx, fy, 0.5 * width, 0.5 * height).validate()
