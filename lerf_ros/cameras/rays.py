"""Camera rays from pixels, with lens distortion undone by OpenCV (exact at pixel centres).

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
from lerf_ros.cameras.undistortion import table_directions


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


def camera_directions(intrinsics: Intrinsics, u, v):
    """Unit directions [N, 3] in the camera frame (OpenCV axes) through pixels (u, v).

    numpy in gives float64 numpy out, torch in gives torch out (in u's dtype); for callers
    that stay in numpy, like the synthetic renderer.
    """
    is_torch = isinstance(u, torch.Tensor)
    if intrinsics.has_distortion:
        u64, v64 = _to_tensor(u, None), _to_tensor(v, None)
        directions = table_directions(intrinsics, u64.reshape(-1), v64.reshape(-1))
        directions = directions.reshape(*u64.shape, 3)
        return directions.to(u.dtype) if is_torch else directions.cpu().numpy()
    x = (u - intrinsics.cx) / intrinsics.fx
    y = (v - intrinsics.cy) / intrinsics.fy
    scale = 1.0 / (x * x + y * y + 1.0) ** 0.5
    if is_torch:
        return torch.stack([x * scale, y * scale, scale], dim=-1)
    return np.stack([x * scale, y * scale, scale], axis=-1)


def _to_tensor(values, device: torch.device | None, dtype=torch.float64) -> Tensor:
    if isinstance(values, torch.Tensor):
        return values.to(device=device if device is not None else values.device, dtype=dtype)
    return torch.as_tensor(np.asarray(values), dtype=dtype, device=device)


def _pinhole_directions(params: Tensor, u: Tensor, v: Tensor) -> Tensor:
    """Unit camera-frame directions; ``params`` is (fx, fy, cx, cy) as [4] or [N, 4]."""
    fx, fy, cx, cy = params.unbind(-1)
    x = (u - cx) / fx
    y = (v - cy) / fy
    camera_dirs = torch.stack([x, y, torch.ones_like(x)], dim=-1)
    return camera_dirs / torch.linalg.norm(camera_dirs, dim=-1, keepdim=True)


def _to_world(camera_dirs: Tensor, c2w: Tensor) -> tuple[Tensor, Tensor]:
    """Camera-frame unit directions [N, 3] and pose(s) [4, 4] or [N, 4, 4] -> world rays."""
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
        intrinsics: the camera; its distortion is undone by OpenCV (see
            :mod:`lerf_ros.cameras.undistortion`).
        c2w: camera-to-world pose(s), OpenCV axes: [4, 4] shared, or [N, 4, 4] per ray.
        u, v: pixel coordinates [N] (column, row; pixel centres at +0.5).

    Returns:
        origins [N, 3] and unit directions [N, 3], float32 on u's device.
    """
    device = u.device if isinstance(u, torch.Tensor) else None
    u64, v64 = _to_tensor(u, device), _to_tensor(v, device)
    c2w64 = _to_tensor(c2w, u64.device)
    if intrinsics.has_distortion:
        camera_dirs = table_directions(intrinsics, u64, v64)
    else:
        params = torch.tensor(
            [intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy],
            dtype=torch.float64,
            device=u64.device,
        )
        camera_dirs = _pinhole_directions(params, u64, v64)
    return _to_world(camera_dirs, c2w64)


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
    u64, v64 = u.double(), v.double()
    # Distorted models (usually one per physical camera) take their rays from their
    # precomputed direction table; a pinhole-only batch computes as it always did.
    models: dict[Intrinsics, list[int]] = {}
    for index, camera in enumerate(cameras):
        if camera.has_distortion:
            models.setdefault(camera, []).append(index)
    if len(models) == 1 and len(next(iter(models.values()))) == len(cameras):
        camera_dirs = table_directions(next(iter(models)), u64, v64)
    else:
        camera_dirs = _pinhole_directions(params, u64, v64)
        for model, indices in models.items():
            mask = torch.isin(camera_index, torch.tensor(indices, device=device))
            camera_dirs[mask] = table_directions(model, u64[mask], v64[mask])
    poses = _to_tensor(c2w, device)
    origins, directions = _to_world(camera_dirs, poses[camera_index])
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
