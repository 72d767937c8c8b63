"""The Fast DDS profiles load cleanly and carry 640x480 frames to a best-effort subscriber
(with Fast DDS's default 512 KB shared-memory segment almost none arrive); loopback only where
asked (the demo, the tests, ``lerf-ros bringup --localhost-only``), ROS's own discovery on a
robot (``lerf-ros bringup``)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from camera_stream_helpers import start_lerf_ros

from lerf_ros.cameras import Intrinsics
from lerf_ros.data.bags import write_bag
from lerf_ros.data.frames import Dataset, Frame
from lerf_ros.ros.dds import (
    apply_dds_environment,
    dds_environment,
    describe_dds,
    fastdds_profile,
)

NS = {"dds": "http://www.eprosima.com"}

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


def test_the_demo_and_tests_stay_on_loopback():
    env = dds_environment({})
    assert env == {
        "FASTDDS_DEFAULT_PROFILES_FILE": str(fastdds_profile(localhost_only=True)),
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
    }
    assert fastdds_profile(localhost_only=True).name == "fastdds_localhost.xml"
    # An explicit discovery range is the user's choice and is kept.
    assert "ROS_AUTOMATIC_DISCOVERY_RANGE" not in dds_environment(
        {"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}
    )


def test_a_robot_keeps_ros_discovery_and_gets_the_large_segment():
    env = dds_environment({}, localhost_only=False)
    assert env == {"FASTDDS_DEFAULT_PROFILES_FILE": str(fastdds_profile(localhost_only=False))}
    assert fastdds_profile(localhost_only=False).name == "fastdds.xml"


def transports(profile: Path) -> dict[str, ET.Element]:
    root = ET.parse(profile).getroot()
    descriptors = root.findall(".//dds:transport_descriptor", NS)
    used = [t.text for t in root.findall(".//dds:userTransports/dds:transport_id", NS)]
    by_id = {d.find("dds:transport_id", NS).text: d for d in descriptors}
    assert set(used) == set(by_id), profile  # every descriptor is used, none is missing
    assert root.find(".//dds:useBuiltinTransports", NS).text == "false"
    return {by_id[i].find("dds:type", NS).text: by_id[i] for i in used}


@pytest.mark.parametrize("localhost_only", [True, False])
def test_both_profiles_have_the_16mb_segment_and_only_one_binds_to_loopback(localhost_only):
    kinds = transports(fastdds_profile(localhost_only))
    assert set(kinds) == {"SHM", "UDPv4"}
    assert kinds["SHM"].find("dds:segment_size", NS).text == str(16 * 1024 * 1024)
    allowed = [i.get("name") for i in kinds["UDPv4"].findall(".//dds:interface", NS)]
    assert allowed == (["127.0.0.1"] if localhost_only else [])


def test_apply_keeps_what_the_user_chose(monkeypatch, tmp_path):
    own = tmp_path / "own.xml"
    monkeypatch.setenv("FASTDDS_DEFAULT_PROFILES_FILE", str(own))
    monkeypatch.delenv("ROS_AUTOMATIC_DISCOVERY_RANGE", raising=False)
    assert apply_dds_environment(localhost_only=False) == {}  # nothing to set
    assert os.environ["FASTDDS_DEFAULT_PROFILES_FILE"] == str(own)
    assert "ROS_AUTOMATIC_DISCOVERY_RANGE" not in os.environ
    assert apply_dds_environment() == {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    assert f"Fast DDS profile {own} (chosen by the user)" in describe_dds()


def test_describe_says_which_settings_apply():
    robot = describe_dds({**dds_environment({}, localhost_only=False), "ROS_DOMAIN_ID": "7"})
    assert robot.startswith("DDS: domain 7; discovery range SUBNET (ROS default);")
    assert "fastdds.xml (16 MB shared memory, Fast DDS's default UDP on every interface)" in robot
    local = describe_dds(dds_environment({}))
    assert "discovery range LOCALHOST;" in local and "UDP on loopback only" in local
    other = describe_dds({"RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp"})
    assert "RMW rmw_cyclonedds_cpp; Fast DDS defaults (no profile file) (ignored" in other


def bringup_says(extra: list[str], env: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    """``lerf-ros bringup`` with a parameter file that does not exist: it reports its DDS
    settings, then refuses before a node (and any DDS traffic) starts."""
    missing = tmp_path / "missing.yaml"
    return subprocess.run(
        [sys.executable, "-m", "lerf_ros.cli.main", "bringup", "--params", str(missing), *extra],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_bringup_uses_ros_discovery_unless_asked_for_loopback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FASTDDS_", "ROS_AUTO"))}
    robot = bringup_says([], env, tmp_path)
    assert robot.returncode == 2 and "missing.yaml not found" in robot.stderr, robot.stderr
    assert "discovery range SUBNET (ROS default)" in robot.stdout
    assert str(fastdds_profile(localhost_only=False)) in robot.stdout
    local = bringup_says(["--localhost-only"], env, tmp_path)
    assert local.returncode == 2, local.stderr
    assert "discovery range LOCALHOST;" in local.stdout
    assert str(fastdds_profile(localhost_only=True)) in local.stdout


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
