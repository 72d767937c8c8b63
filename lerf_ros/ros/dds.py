"""DDS settings for lerf_ros processes: loopback discovery and a Fast DDS profile with a
shared-memory segment large enough for camera frames (see ``config/fastdds.xml``).

Fast DDS reads the profile when a process creates its first participant, so the variables
must be in the environment before ``rclpy.init``: pass them to child processes, or apply
them to the current process early with :func:`apply_dds_environment`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

FASTDDS_PROFILE = Path(__file__).resolve().parents[2] / "config" / "fastdds.xml"
"""The profile: 16 MB SHM segment, UDP on loopback only, default participant profile."""


def dds_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables to give a process that talks DDS.

    ``FASTDDS_DEFAULT_PROFILES_FILE`` always points at :data:`FASTDDS_PROFILE`;
    ``ROS_AUTOMATIC_DISCOVERY_RANGE`` is ``LOCALHOST`` unless ``environ`` (default:
    ``os.environ``) already sets it.
    """
    if not FASTDDS_PROFILE.is_file():
        raise FileNotFoundError(f"Fast DDS profile {FASTDDS_PROFILE} is missing")
    environ = os.environ if environ is None else environ
    env = {"FASTDDS_DEFAULT_PROFILES_FILE": str(FASTDDS_PROFILE)}
    if not environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE"):
        env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    return env


def apply_dds_environment() -> None:
    """Set :func:`dds_environment` in this process, keeping a profile the user chose."""
    for key, value in dds_environment().items():
        os.environ.setdefault(key, value)
