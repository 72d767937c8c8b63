"""The Fast DDS profile loads cleanly and carries 640x480 frames to a best-effort subscriber
(with Fast DDS's default 512 KB shared-memory segment almost none arrive)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from camera_stream_helpers import start_lerf_ros

from lerf_ros.cameras import Intrinsics
from lerf_ros.data.bags import write_bag
from lerf_ros.data.frames import Dataset, Frame
from lerf_ros.ros.dds import FASTDDS_PROFILE, dds_environment

FRAMES = 20
RECEIVER = """
import sys
sys.path.insert(0, {helpers!r})
from camera_stream_helpers import CameraListener
listener = CameraListener()
listener.spin_until(lambda: len(listener.images) >= {frames}, 25)
print("received", len(listener.images), flush=True)
listener.close()
"""


def test_environment_points_at_the_profile():
    env = dds_environment({})
    assert env == {
        "FASTDDS_DEFAULT_PROFILES_FILE": str(FASTDDS_PROFILE),
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
    }
    # An explicit discovery range is the user's choice and is kept.
    assert "ROS_AUTOMATIC_DISCOVERY_RANGE" not in dds_environment(
        {"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}
    )


def test_vga_frames_reach_a_best_effort_subscriber(tmp_path):
    rng = np.random.default_rng(0)
    camera = Intrinsics(640, 480, 500.0, 500.0, 320.0, 240.0)
    frames = [
        Frame(camera, np.eye(4), cached_image=rng.integers(0, 256, (480, 640, 3), np.uint8))
        for _ in range(FRAMES)
    ]
    bag = write_bag(Dataset(frames), tmp_path / "vga", rate_hz=30.0, with_tf=False)
    helpers = str(Path(__file__).parent)
    receiver = subprocess.Popen(
        [sys.executable, "-c", RECEIVER.format(helpers=helpers, frames=FRAMES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **dds_environment()},
    )
    player = start_lerf_ros(["play", str(bag), "--wait-timeout", "20"], tmp_path / "play.log")
    try:
        out, err = receiver.communicate(timeout=35)
        assert player.process.wait(timeout=10) == 0, player.log()
    finally:
        player.stop()
        receiver.kill()
    # Fast DDS prints XML problems ([XMLPARSER Error]) on stderr and then ignores the profile.
    assert "XMLPARSER" not in err + player.log() and "Error" not in err, err
    received = int(out.split()[-1])
    assert received >= 0.9 * FRAMES, (out, err, player.log())
