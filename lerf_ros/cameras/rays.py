"""Camera rays from pixels, with OpenCV lens distortion undone exactly.

Directions are unit length in the world frame; poses follow the engine convention
(camera-to-world, OpenCV axes). Pixel centres sit at +0.5 (see :mod:`lerf_ros.cameras`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from lerf_ros.cameras.intrinsics import Intrinsics

UNDISTORT_MAX_ITERATIONS = 20
"""Upper bound on Newton steps inverting the distortion model (real lenses need 3-6)."""
UNDISTORT_TOLERANCE = 1e-12
"""Stop once no normalised coordinate moves by more than this in a Newton step."""


@dataclass
class RayBundle:
    """A batch of N rays, each tied to the camera (image) it came from."""

    origins: Tensor
    """Ray origins in the world frame, float32 [N, 3]."""
    directions: Tensor
    """Unit ray directions in the world frame, float32 [N, 3]."""
    camera_index: Tensor
    """Index of the source camera / image of each ray, int64 [N]."""
    pixel_radius: Tensor
    """Angular size of the ray's pixel, float32 [N]: the width of one pixel at unit depth,
    1 / sqrt(fx * fy) (~1/f). Multiply by depth for the world size of a pixel (used to pick
    feature scales); mip-NeRF's cone radius is this times 2 / sqrt(12)."""
    nears: Tensor | None = None
    """Optional per-ray near bound along the ray, float32 [N]."""
    fars: Tensor | None = None
    """Optional per-ray far bound along the ray, float32 [N]."""

    def __len__(self) -> int:
        return self.origins.shape[0]

    def _map(self, fn) -> RayBundle:
        """Apply ``fn`` to every tensor field (None stays None)."""
        values = {
            f.name: None if getattr(self, f.name) is None else fn(getattr(self, f.name))
            for f in dataclasses.fields(self)
        }
        return RayBundle(**values)

    def __getitem__(self, index) -> RayBundle:
        """Select rays by slice, boolean mask or index tensor."""
        return self._map(lambda t: t[index])

    def to(self, device: torch.device | str) -> RayBundle:
        """Copy of the bundle on ``device``."""
        return self._map(lambda t: t.to(device))

    @staticmethod
    def cat(bundles: Sequence[RayBundle]) -> RayBundle:
        """Concatenate bundles (optional fields must be present in all or none)."""
        values = {}
        for f in dataclasses.fields(RayBundle):
            parts = [getattr(b, f.name) for b in bundles]
            values[f.name] = None if any(p is None for p in parts) else torch.cat(parts)
        return RayBundle(**values)


class PixelBatch(NamedTuple):
    """Integer pixel coordinates of a random training batch."""

    image_index: Tensor
    """Image of each sample, int64 [N]."""
    row: Tensor
    """Pixel row (v index), int64 [N]."""
    col: Tensor
    """Pixel column (u index), int64 [N]."""

    def centres(self) -> tuple[Tensor, Tensor]:
        """Continuous pixel-centre coordinates (u, v) = (col + 0.5, row + 0.5), float32."""
        return self.col.float() + 0.5, self.row.float() + 0.5


def undistort_normalized(x_distorted, y_distorted, coefficients):
    """Invert OpenCV's radial-tangential model on normalised image coordinates.

    ``coefficients`` is (k1, k2, p1, p2, k3), either [5] or per point [N, 5]. Newton's method
    from the distorted point converges quadratically for real lenses. Works on torch tensors
    (batched on any device) and on numpy arrays alike: only arithmetic is used.
    """
    k1, k2, p1, p2, k3 = (coefficients[..., i] for i in range(5))
    x, y = x_distorted + 0.0, y_distorted + 0.0
    for _ in range(UNDISTORT_MAX_ITERATIONS):
        r2 = x * x + y * y
        radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
        d_radial = k1 + r2 * (2 * k2 + 3 * k3 * r2)  # d(radial) / d(r2)
        fx = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x) - x_distorted
        fy = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y - y_distorted
        dfx_dx = radial + 2 * x * x * d_radial + 2 * p1 * y + 6 * p2 * x
        dfy_dy = radial + 2 * y * y * d_radial + 6 * p1 * y + 2 * p2 * x
        dfx_dy = 2 * x * y * d_radial + 2 * p1 * x + 2 * p2 * y
        dfy_dx = dfx_dy  # the Jacobian of this model is symmetric
        det = dfx_dx * dfy_dy - dfx_dy * dfy_dx
        det = det + (abs(det) < 1e-12) * 1e-12  # keep a singular Jacobian finite
        step_x = (fx * dfy_dy - fy * dfx_dy) / det
        step_y = (fy * dfx_dx - fx * dfy_dx) / det
        x, y = x - step_x, y - step_y
        # Early exit saves most of the cost on whole images; one sync per step is cheap.
        if float(max(abs(step_x).max(), abs(step_y).max())) < UNDISTORT_TOLERANCE:
            break
    return x, y


def camera_directions(intrinsics: Intrinsics, u, v):
    """Unit directions [N, 3] in the camera frame (OpenCV axes) through pixels (u, v).

    numpy in gives float64 numpy out, torch in gives torch out (in u's dtype); for callers
    that stay in numpy, like the synthetic renderer.
    """
    x = (u - intrinsics.cx) / intrinsics.fx
    y = (v - intrinsics.cy) / intrinsics.fy
    is_torch = isinstance(x, torch.Tensor)
    if intrinsics.has_distortion:
        values = _coefficients(intrinsics.distortion)
        coefficients = (
            torch.tensor(values, dtype=x.dtype, device=x.device) if is_torch else np.asarray(values)
        )
        x, y = undistort_normalized(x, y, coefficients)
    scale = 1.0 / (x * x + y * y + 1.0) ** 0.5
    if is_torch:
        return torch.stack([x * scale, y * scale, scale], dim=-1)
    return np.stack([x * scale, y * scale, scale], axis=-1)


def _coefficients(distortion: Sequence[float]) -> list[float]:
    """(k1, k2, p1, p2[, k3]) padded to five values."""
    values = list(distortion)
    return values + [0.0] * (5 - len(values))


def _to_tensor(values, device: torch.device | None, dtype=torch.float64) -> Tensor:
    if isinstance(values, torch.Tensor):
        return values.to(device=device if device is not None else values.device, dtype=dtype)
    return torch.as_tensor(np.asarray(values), dtype=dtype, device=device)


def _rays(
    params: Tensor, distortion: Tensor | None, c2w: Tensor, u: Tensor, v: Tensor
) -> tuple[Tensor, Tensor]:
    """Shared core: ``params`` is (fx, fy, cx, cy) as [4] or [N, 4], all float64."""
    fx, fy, cx, cy = params.unbind(-1)
    x = (u - cx) / fx
    y = (v - cy) / fy
    if distortion is not None:
        x, y = undistort_normalized(x, y, distortion)
    camera_dirs = torch.stack([x, y, torch.ones_like(x)], dim=-1)
    camera_dirs = camera_dirs / torch.linalg.norm(camera_dirs, dim=-1, keepdim=True)
    if c2w.dim() == 2:
        directions = camera_dirs @ c2w[:3, :3].T
        origins = c2w[:3, 3].expand_as(directions)
    else:
        directions = torch.einsum("nij,nj->ni", c2w[:, :3, :3], camera_dirs)
        origins = c2w[:, :3, 3]
    # Re-normalise: a pose that is orthonormal only to float precision would skew lengths.
    directions = directions / torch.linalg.norm(directions, dim=-1, keepdim=True)
    return origins.float().contiguous(), directions.float()


def pixel_rays(
    intrinsics: Intrinsics, c2w: Tensor | np.ndarray, u: Tensor, v: Tensor
) -> tuple[Tensor, Tensor]:
    """World-frame rays through continuous pixel coordinates (u, v) of one camera model.

    Args:
        intrinsics: the camera; its distortion is undone exactly.
        c2w: camera-to-world pose(s), OpenCV axes: [4, 4] shared, or [N, 4, 4] per ray.
        u, v: pixel coordinates [N] (column, row; pixel centres at +0.5).

    Returns:
        origins [N, 3] and unit directions [N, 3], float32 on u's device.
    """
    device = u.device if isinstance(u, torch.Tensor) else None
    u64, v64 = _to_tensor(u, device), _to_tensor(v, device)
    c2w64 = _to_tensor(c2w, u64.device)
    params = torch.tensor(
        [intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy],
        dtype=torch.float64,
        device=u64.device,
    )
    distortion = None
    if intrinsics.has_distortion:
        distortion = torch.tensor(
            _coefficients(intrinsics.distortion), dtype=torch.float64, device=u64.device
        )
    return _rays(params, distortion, c2w64, u64, v64)


def rays_for_pixels(
    intrinsics: Intrinsics | Sequence[Intrinsics],
    c2w: Tensor | np.ndarray,
    camera_index: Tensor,
    u: Tensor,
    v: Tensor,
) -> RayBundle:
    """Ray bundle for pixels drawn from several cameras (e.g. a random training batch).

    Args:
        intrinsics: one model shared by all cameras, or one per camera.
        c2w: camera-to-world poses of all cameras [C, 4, 4] (OpenCV axes).
        camera_index: camera of each pixel, int64 [N].
        u, v: pixel coordinates [N] (pixel centres at +0.5).
    """
    device = u.device
    camera_index = camera_index.to(device=device, dtype=torch.long)
    cameras = [intrinsics] if isinstance(intrinsics, Intrinsics) else list(intrinsics)
    table = torch.tensor(
        [[c.fx, c.fy, c.cx, c.cy] for c in cameras], dtype=torch.float64, device=device
    )
    # One shared model broadcasts as [4]; several are gathered per ray as [N, 4].
    params = table[0] if len(cameras) == 1 else table[camera_index]
    distortion = None
    if any(c.has_distortion for c in cameras):
        coefficients = torch.tensor(
            [_coefficients(c.distortion) for c in cameras], dtype=torch.float64, device=device
        )
        distortion = coefficients[0] if len(cameras) == 1 else coefficients[camera_index]
    poses = _to_tensor(c2w, device)
    origins, directions = _rays(params, distortion, poses[camera_index], u.double(), v.double())
    fx, fy = (params[..., 0], params[..., 1])
    radius = torch.rsqrt(fx * fy).float().expand(len(u)).contiguous()
    return RayBundle(origins, directions, camera_index, radius)


def image_rays(
    intrinsics: Intrinsics,
    c2w: Tensor | np.ndarray,
    stride: int = 1,
    camera_index: int = 0,
    device: torch.device | str | None = None,
) -> RayBundle:
    """Rays of a whole image, row-major: reshape fields to (height // stride, width // stride).

    With ``stride`` s the rays go through the centres of s x s pixel blocks, i.e. they are
    exactly the rays of ``intrinsics.scaled(1 / s)`` when the size divides evenly.
    """
    rows = intrinsics.height // stride
    cols = intrinsics.width // stride
    v_grid, u_grid = torch.meshgrid(
        (torch.arange(rows, dtype=torch.float64, device=device) + 0.5) * stride,
        (torch.arange(cols, dtype=torch.float64, device=device) + 0.5) * stride,
        indexing="ij",
    )
    u, v = u_grid.reshape(-1), v_grid.reshape(-1)
    origins, directions = pixel_rays(intrinsics, c2w, u, v)
    count = rows * cols
    radius = stride / (intrinsics.fx * intrinsics.fy) ** 0.5
    return RayBundle(
        origins,
        directions,
        torch.full((count,), camera_index, dtype=torch.long, device=origins.device),
        torch.full((count,), radius, dtype=torch.float32, device=origins.device),
    )


def sample_pixels(
    num_images: int,
    height: int,
    width: int,
    count: int,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> PixelBatch:
    """Draw ``count`` pixels uniformly (with replacement) from ``num_images`` equal-size images.

    Sampling happens on the generator's device (CPU by default) so results are reproducible
    for a seeded generator, then moves to ``device``.
    """
    gen_device = generator.device if generator is not None else torch.device("cpu")
    flat = torch.randint(
        0, num_images * height * width, (count,), generator=generator, device=gen_device
    )
    image_index = flat // (height * width)
    within = flat % (height * width)
    batch = PixelBatch(image_index, within // width, within % width)
    return PixelBatch(*(t.to(device) for t in batch)) if device is not None else batch
