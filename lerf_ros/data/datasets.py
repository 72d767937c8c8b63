"""Posed-image datasets: containers and loaders (one import for callers).

Every loader returns a :class:`Dataset` whose poses follow the engine convention
(camera-to-world, OpenCV axes; see :mod:`lerf_ros.cameras`).
"""

from lerf_ros.data.frames import Dataset, Frame
from lerf_ros.data.image_io import DatasetError
from lerf_ros.data.loaders import load_dataset, load_llff, load_transforms_json

__all__ = [
    "Dataset",
    "DatasetError",
    "Frame",
    "load_dataset",
    "load_llff",
    "load_transforms_json",
]
