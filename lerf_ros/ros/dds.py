"""DDS settings for lerf_ros processes: a Fast DDS profile with a shared-memory segment large
enough for camera frames, and, where asked, loopback-only traffic.

Two profiles ship in ``config/``: ``fastdds.xml`` keeps Fast DDS's own transports (a robot's
camera driver or planner on another machine is seen) and ``fastdds_localhost.xml`` binds UDP to
loopback. ``lerf-ros bringup`` uses the first unless given ``--localhost-only``; the demo, the
``play``/``stream`` sources and the tests use the second, with loopback discovery.

Fast DDS reads the profile when a process creates its first participant, so the variables
must be in the environment before ``rclpy.init``: pass them to child processes, or apply
them to the current process early with :func:`apply_dds_environment`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from lerf_ros.package_share import share_file

PROFILES = {False: "fastdds.xml", True: "fastdds_localhost.xml"}
"""``config/`` file by ``localhost_only``: 16 MB SHM segment with Fast DDS's UDP on every
interface, or with UDP on loopback only."""

PROFILE_VARIABLE = "FASTDDS_DEFAULT_PROFILES_FILE"
RANGE_VARIABLE = "ROS_AUTOMATIC_DISCOVERY_RANGE"


def fastdds_profile(localhost_only: bool = True) -> Path:
    """The shipped profile (see :data:`PROFILES`); raises
    :class:`~lerf_ros.package_share.PackageShareNotFound` when it is missing."""
    return share_file("config", PROFILES[localhost_only])


def dds_environment(
    environ: Mapping[str, str] | None = None, localhost_only: bool = True
) -> dict[str, str]:
    """Environment variables to give a process that talks DDS.

    ``FASTDDS_DEFAULT_PROFILES_FILE`` points at :func:`fastdds_profile`. With
    ``localhost_only``, ``ROS_AUTOMATIC_DISCOVERY_RANGE`` is ``LOCALHOST`` unless ``environ``
    (default: ``os.environ``) already sets it; without, ROS's own default range holds.
    """
    environ = os.environ if environ is None else environ
    env = {PROFILE_VARIABLE: str(fastdds_profile(localhost_only))}
    if localhost_only and not environ.get(RANGE_VARIABLE):
        env[RANGE_VARIABLE] = "LOCALHOST"
    return env


def apply_dds_environment(localhost_only: bool = True) -> dict[str, str]:
    """Set :func:`dds_environment` in this process, keeping a profile or discovery range the
    user chose; returns what it set."""
    applied = {}
    for key, value in dds_environment(localhost_only=localhost_only).items():
        if not os.environ.get(key):
            os.environ[key] = applied[key] = value
    return applied


def describe_dds(environ: Mapping[str, str] | None = None) -> str:
    """One line saying which DDS settings a process started with ``environ`` gets."""
    environ = os.environ if environ is None else environ
    profile = environ.get(PROFILE_VARIABLE, "")
    kinds = {}
    for localhost_only in PROFILES:
        try:
            kinds[str(fastdds_profile(localhost_only))] = (
                "16 MB shared memory, UDP on loopback only"
                if localhost_only
                else "16 MB shared memory, Fast DDS's default UDP on every interface"
            )
        except FileNotFoundError:
            continue
    if not profile:
        fastdds = "Fast DDS defaults (no profile file)"
    else:
        fastdds = f"Fast DDS profile {profile} ({kinds.get(profile, 'chosen by the user')})"
    rmw = environ.get("RMW_IMPLEMENTATION") or "rmw_fastrtps_cpp (ROS default)"
    if "fastrtps" not in rmw:
        fastdds += " (ignored by this RMW)"
    discovery = environ.get(RANGE_VARIABLE) or "SUBNET (ROS default)"
    domain = environ.get("ROS_DOMAIN_ID") or "0 (ROS default)"
    return f"DDS: domain {domain}; discovery range {discovery}; RMW {rmw}; {fastdds}"
