"""Cameras: intrinsics, pose conventions, rays and scene bounds.

The one internal convention
---------------------------
Inside the engine a camera pose is a **camera-to-world** 4x4 matrix (float64 numpy, or a
torch tensor) in the **OpenCV / ROS optical convention**: camera x points right, y points
down and z points forward along the optical axis. The world frame is right-handed and in
metres; synthetic scenes use z up, like a robot's ``map`` frame.

Other conventions (OpenGL / nerfstudio / instant-ngp / Blender: x right, y up, z back;
LLFF: [down, right, backwards]) are converted only at the edges, by the loaders, with the
functions in :mod:`lerf_ros.cameras.conventions`.

Pixels: ``u`` is the column and ``v`` the row; pixel ``(row, col)`` covers
``[col, col + 1) x [row, row + 1)``, so its centre is at ``(col + 0.5, row + 0.5)``.
"""

from lerf_ros.cameras.bounds import SceneBox
from lerf_ros.cameras.conventions import (
    interpolate_pose,
    llff_to_opencv,
    look_at,
    matrix_to_quaternion,
    opencv_to_opengl,
    opengl_to_opencv,
    pose_from_translation_quaternion,
    quaternion_to_matrix,
    slerp,
    validate_pose,
)
from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.cameras.rays import (
    PixelBatch,
    RayBundle,
    camera_directions,
    image_rays,
    pixel_rays,
    rays_for_pixels,
    sample_pixels,
)

__all__ = [
    "Intrinsics",
    "PixelBatch",
    "RayBundle",
    "SceneBox",
    "camera_directions",
    "image_rays",
    "interpolate_pose",
    "llff_to_opencv",
    "look_at",
    "matrix_to_quaternion",
    "opencv_to_opengl",
    "opengl_to_opencv",
    "pixel_rays",
    "pose_from_translation_quaternion",
    "quaternion_to_matrix",
    "rays_for_pixels",
    "sample_pixels",
    "slerp",
    "validate_pose",
]
