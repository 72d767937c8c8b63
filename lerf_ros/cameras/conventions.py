"""Conversions between camera pose conventions, pose checks and quaternion helpers.

Engine convention (see :mod:`lerf_ros.cameras`): camera-to-world, OpenCV optical camera
axes (x right, y down, z forward). Everything here works on float64 numpy arrays; the
axis flips also accept torch tensors and keep their type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import torch

PoseT = TypeVar("PoseT", np.ndarray, torch.Tensor)


def _as_pose_array(c2w) -> np.ndarray | torch.Tensor:
    """Return a private float copy (torch stays torch, anything else becomes float64 numpy)."""
    if isinstance(c2w, torch.Tensor):
        return c2w.clone()
    return np.array(c2w, dtype=np.float64, copy=True)


def opengl_to_opencv(c2w: PoseT) -> PoseT:
    """Convert camera-to-world poses with OpenGL camera axes (x right, y up, z back) to OpenCV.

    Used by nerfstudio, instant-ngp and Blender. Only the camera axes change (y and z flip);
    the world frame is kept. Accepts [..., 3, 4] or [..., 4, 4].
    """
    out = _as_pose_array(c2w)
    out[..., :3, 1:3] *= -1
    return out


def opencv_to_opengl(c2w: PoseT) -> PoseT:
    """Inverse of :func:`opengl_to_opencv` (the same axis flip, which is its own inverse)."""
    return opengl_to_opencv(c2w)


def llff_to_opencv(poses: np.ndarray) -> np.ndarray:
    """Convert LLFF poses [..., 3, 5] (or [..., 3, 4]) to OpenCV camera-to-world [..., 4, 4].

    LLFF rotation columns are [down, right, backwards]; OpenCV wants [right, down, forward].
    The fifth column (height, width, focal) is dropped; the world frame is kept.
    """
    poses = np.asarray(poses, dtype=np.float64)
    if poses.shape[-2:] not in ((3, 5), (3, 4)):
        raise ValueError(f"LLFF poses must be [..., 3, 5] or [..., 3, 4], got {poses.shape}")
    out = np.zeros((*poses.shape[:-2], 4, 4), dtype=np.float64)
    out[..., :3, 0] = poses[..., :3, 1]
    out[..., :3, 1] = poses[..., :3, 0]
    out[..., :3, 2] = -poses[..., :3, 2]
    out[..., :3, 3] = poses[..., :3, 3]
    out[..., 3, 3] = 1.0
    return out


def validate_pose(c2w, atol: float = 1e-3) -> np.ndarray:
    """Check one 4x4 rigid camera-to-world pose; return it as float64 or raise ValueError."""
    pose = np.asarray(c2w.detach().cpu() if isinstance(c2w, torch.Tensor) else c2w, np.float64)
    if pose.shape != (4, 4):
        raise ValueError(f"pose must be 4x4, got shape {pose.shape}")
    if not np.all(np.isfinite(pose)):
        raise ValueError("pose contains NaN or inf")
    if not np.allclose(pose[3], [0.0, 0.0, 0.0, 1.0], atol=1e-9):
        raise ValueError(f"pose last row must be [0, 0, 0, 1], got {pose[3].tolist()}")
    rotation = pose[:3, :3]
    error = np.abs(rotation.T @ rotation - np.eye(3)).max()
    if error > atol:
        raise ValueError(f"pose rotation is not orthonormal (max |RᵀR - I| = {error:.2e})")
    det = np.linalg.det(rotation)
    if abs(det - 1.0) > atol:
        raise ValueError(f"pose rotation must have determinant +1 (a reflection?), got {det:.4f}")
    return pose


def look_at(eye: Sequence[float], target: Sequence[float], up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """OpenCV camera-to-world pose at ``eye`` looking at ``target``, image 'up' towards ``up``."""
    eye = np.asarray(eye, dtype=np.float64)
    forward = np.asarray(target, dtype=np.float64) - eye
    norm = np.linalg.norm(forward)
    if norm < 1e-12:
        raise ValueError("look_at: eye and target coincide")
    forward /= norm
    up = np.asarray(up, dtype=np.float64)
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-9:
        # Looking straight along 'up': any perpendicular works; pick one deterministically.
        right = np.cross(forward, [1.0, 0.0, 0.0] if abs(forward[0]) < 0.9 else [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, down, forward, eye
    return pose


def quaternion_to_matrix(x: float, y: float, z: float, w: float) -> np.ndarray:
    """3x3 rotation matrix of the quaternion (x, y, z, w) (ROS order); normalises it first."""
    q = np.array([x, y, z, w], dtype=np.float64)
    norm = np.linalg.norm(q)
    if not np.isfinite(norm) or norm < 1e-12:
        raise ValueError(f"quaternion must be finite and non-zero, got {q.tolist()}")
    x, y, z, w = q / norm
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def matrix_to_quaternion(rotation: np.ndarray) -> np.ndarray:
    """Unit quaternion (x, y, z, w) of a 3x3 rotation matrix, with w >= 0."""
    m = np.asarray(rotation, dtype=np.float64)[:3, :3]
    trace = np.trace(m)
    # Shepperd's method: divide by the largest of the four candidates for stability.
    if trace > max(m[0, 0], m[1, 1], m[2, 2]):
        s = 2.0 * np.sqrt(1.0 + trace)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4]
    elif m[0, 0] >= m[1, 1] and m[0, 0] >= m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] >= m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4, (m[1, 0] - m[0, 1]) / s]
    q = np.asarray(q)
    q /= np.linalg.norm(q)
    return -q if q[3] < 0 else q


def pose_from_translation_quaternion(
    translation: Sequence[float], quaternion: Sequence[float]
) -> np.ndarray:
    """4x4 pose from a translation (x, y, z) and a quaternion (x, y, z, w), as in ROS messages."""
    pose = np.eye(4)
    pose[:3, :3] = quaternion_to_matrix(*quaternion)
    pose[:3, 3] = np.asarray(translation, dtype=np.float64)
    return pose


def slerp(q0: Sequence[float], q1: Sequence[float], alpha: float) -> np.ndarray:
    """Spherical linear interpolation of unit quaternions (x, y, z, w); alpha 0 gives q0.

    Takes the shorter arc. Alpha outside [0, 1] extrapolates along the same great circle.
    """
    q0 = np.asarray(q0, dtype=np.float64) / np.linalg.norm(q0)
    q1 = np.asarray(q1, dtype=np.float64) / np.linalg.norm(q1)
    dot = float(np.dot(q0, q1))
    if dot < 0.0:  # q and -q are the same rotation; flip for the short way round.
        q1, dot = -q1, -dot
    if dot > 0.9995:
        # Nearly parallel: sin(theta) ~ 0, linear interpolation is accurate and stable.
        q = q0 + alpha * (q1 - q0)
        return q / np.linalg.norm(q)
    theta = np.arccos(dot)
    q = (np.sin((1.0 - alpha) * theta) * q0 + np.sin(alpha * theta) * q1) / np.sin(theta)
    return q / np.linalg.norm(q)


def interpolate_pose(
    pose_a: np.ndarray, t_a: float, pose_b: np.ndarray, t_b: float, t: float
) -> np.ndarray:
    """Pose at time ``t`` between ``pose_a`` (time ``t_a``) and ``pose_b`` (time ``t_b``).

    Translation is interpolated linearly and rotation by slerp; times outside [t_a, t_b]
    extrapolate. Typical use: the odometry pose at an image's timestamp.
    """
    pose_a = np.asarray(pose_a, dtype=np.float64)
    pose_b = np.asarray(pose_b, dtype=np.float64)
    if t_b == t_a:
        return pose_a.copy()
    alpha = (t - t_a) / (t_b - t_a)
    pose = np.eye(4)
    pose[:3, 3] = (1.0 - alpha) * pose_a[:3, 3] + alpha * pose_b[:3, 3]
    q = slerp(matrix_to_quaternion(pose_a[:3, :3]), matrix_to_quaternion(pose_b[:3, :3]), alpha)
    pose[:3, :3] = quaternion_to_matrix(*q)
    return pose
