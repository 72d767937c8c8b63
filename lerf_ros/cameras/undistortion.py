"""Lens distortion undone by OpenCV, once per camera model, as a per-pixel direction table.

OpenCV's iterative undistortion (``cv2.undistortPoints`` for plumb_bob and
rational_polynomial, ``cv2.fisheye.undistortPoints`` for equidistant) is exact but costs
~0.3 s per VGA image on a CPU: far too slow per training batch. So it runs once per
:class:`~lerf_ros.cameras.intrinsics.Intrinsics` (frozen, hence a cache key) on a grid of
pixel centres plus a one-pixel border ring, and rays look their unit direction up there:
exactly at pixel centres (every training ray), bilinearly in between (error below ~1e-6
rad); coordinates off the table (outside the image) go to OpenCV directly.

Limit: the equidistant table covers rays up to 90 degrees off the optical axis (OpenCV's
fisheye undistortion returns normalised coordinates, which cannot express more).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
import torch
from torch import Tensor

from lerf_ros.cameras.intrinsics import Intrinsics

UNDISTORT_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-14)
"""OpenCV's stopping rule: its default (5 or 10 steps) leaves ~1e-3 errors on strong lenses."""
TABLES_CACHED = 8
"""Camera models whose direction table is kept (per device): one per camera is typical."""


def undistort_points(intrinsics: Intrinsics, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Normalised undistorted coordinates [N, 2] (x/z, y/z) of pixels (u, v), by OpenCV."""
    pixels = np.stack([np.asarray(u, np.float64), np.asarray(v, np.float64)], -1)
    pixels = pixels.reshape(-1, 1, 2)
    k = intrinsics.as_matrix()
    d = intrinsics.opencv_distortion
    if not intrinsics.has_distortion or len(pixels) == 0:
        return ((pixels[:, 0] - k[:2, 2]) / np.diag(k)[:2]).reshape(-1, 2)
    if intrinsics.distortion_model == "equidistant":
        out = cv2.fisheye.undistortPoints(pixels, k, d, None, None, None, UNDISTORT_CRITERIA)
    else:
        eye = np.eye(3)
        out = cv2.undistortPoints(pixels, k, d, None, eye, eye, UNDISTORT_CRITERIA)
    return out.reshape(-1, 2)


@functools.lru_cache(maxsize=TABLES_CACHED)
def direction_table(intrinsics: Intrinsics) -> np.ndarray:
    """Unit camera-frame directions [H + 2, W + 2, 3] (float64): entry [r, c] is the ray of
    pixel coordinate (u, v) = (c - 0.5, r - 0.5), i.e. pixel centres and a border ring."""
    w, h = intrinsics.width, intrinsics.height
    v, u = np.meshgrid(np.arange(h + 2) - 0.5, np.arange(w + 2) - 0.5, indexing="ij")
    xy = undistort_points(intrinsics, u.reshape(-1), v.reshape(-1))
    rays = np.concatenate([xy, np.ones((len(xy), 1))], axis=1)
    rays /= np.linalg.norm(rays, axis=1, keepdims=True)
    return rays.reshape(h + 2, w + 2, 3)


@functools.lru_cache(maxsize=TABLES_CACHED)
def _table_on(intrinsics: Intrinsics, device: torch.device) -> Tensor:
    return torch.from_numpy(direction_table(intrinsics)).to(device)


def table_directions(intrinsics: Intrinsics, u: Tensor, v: Tensor) -> Tensor:
    """Unit camera-frame directions [N, 3] (float64, u's device) through pixels (u, v) of a
    distorted camera, interpolated bilinearly in its :func:`direction_table`."""
    table = _table_on(intrinsics, u.device)
    rows, cols = table.shape[0], table.shape[1]
    flat = table.view(-1, 3)
    # Table column c sits at u = c - 0.5; outside the ring the edge cell extrapolates linearly.
    gu, gv = u.double() + 0.5, v.double() + 0.5
    c0 = gu.floor().clamp_(0, cols - 2)
    r0 = gv.floor().clamp_(0, rows - 2)
    fu, fv = (gu - c0).unsqueeze(1), (gv - r0).unsqueeze(1)
    corner = r0.long() * cols + c0.long()  # flat gathers: ~1.5x faster than 2-D indexing
    top = torch.lerp(flat[corner], flat[corner + 1], fu)
    bottom = torch.lerp(flat[corner + cols], flat[corner + cols + 1], fu)
    directions = torch.lerp(top, bottom, fv)
    # Beyond the table (off the image: only queries and tests go there) OpenCV answers exactly.
    outside = (gu < 0) | (gu > cols - 1) | (gv < 0) | (gv > rows - 1)
    if bool(outside.any()):
        xy = undistort_points(intrinsics, u[outside].cpu().numpy(), v[outside].cpu().numpy())
        exact = torch.from_numpy(np.concatenate([xy, np.ones((len(xy), 1))], axis=1))
        directions[outside] = exact.to(directions)
    return directions / torch.linalg.norm(directions, dim=-1, keepdim=True)
