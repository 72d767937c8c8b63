"""``lerf-ros status | ask | save | load`` with no node to answer, and their output formats.

The same commands against a real trained node run in ``test/ros/test_online_training.py``
(it shares that module's node rather than training another).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from lerf_ros.cli.main import build_parser
from lerf_ros.cli.node_commands import NO_NODE, answer_tables, status_dict, status_line


def lerf_ros(*args, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lerf_ros.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"},
    )


@pytest.mark.parametrize(
    "args",
    [("status",), ("ask", "red mug", "--targets"), ("save", "x")],
    ids=["status", "ask", "save"],  # load shares save's code
)
def test_no_node_is_a_clear_error_naming_the_node_and_the_domain(args):
    pytest.importorskip("rclpy", reason="rclpy is not installed (run scripts/setup.sh)")
    result = lerf_ros(*args, "--node", "/nobody_answers_here", "--timeout", 1.5)
    assert result.returncode == NO_NODE, result
    assert "no node answers at /nobody_answers_here" in result.stderr
    assert "ROS_DOMAIN_ID=" in result.stderr and "ROS_AUTOMATIC_DISCOVERY_RANGE=" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_the_commands_parse_their_options():
    parser = build_parser()
    ask = parser.parse_args(["ask", "red mug", "--targets", "--json", "--node", "/robot/lerf"])
    assert (ask.text, ask.targets, ask.json, ask.node) == ("red mug", True, True, "/robot/lerf")
    assert parser.parse_args(["save"]).name == ""
    load = parser.parse_args(["load", "kitchen", "--timeout", "5"])
    assert (load.service, load.name, load.timeout) == ("load", "kitchen", 5.0)
    assert parser.parse_args(["status", "--once"]).once


def status_msg(**fields):
    values = dict(
        state="training",
        ready=True,
        step=120,
        keyframes=12,
        rays_per_second=5012.4,
        frames_received=300,
        frames_dropped=2,
        loss_names=["rgb"],
        loss_values=[0.01],
        message="ok",
    )
    return SimpleNamespace(**{**values, **fields})


def test_status_line_and_json_carry_what_the_message_says():
    line = status_line(status_msg())
    assert line.startswith("state=training ready=yes step=120 keyframes=12 rays/s=5012")
    assert line.endswith("| ok")
    assert "ready=no" in status_line(status_msg(ready=False))
    document = json.loads(json.dumps(status_dict(status_msg())))
    assert document["losses"] == {"rgb": 0.01} and document["step"] == 120


def test_answer_tables_list_peaks_grasps_and_goals():
    pose = {"position": [1.0, 2.0, 0.0], "orientation": [0, 0, 0, 1], "frame_id": "map"}
    document = {
        "message": "1 grasp(s)",
        "frame_id": "map",
        "peaks": [
            {
                "position": [1.0, 2.0, 0.5],
                "relevancy": 0.93,
                "scale": 0.2,
                "extent": [0.1, 0.1, 0.2],
                "support": 40,
            }
        ],
        "grasps": [
            {
                "pose": pose,
                "pre_grasp_pose": pose,
                "approach": [0.0, 0.0, -1.0],
                "width": 0.061,
                "kind": "top",
                "score": 0.8,
                "peak": 0,
            }
        ],
        "goals": [],
    }
    text = answer_tables(document)
    assert "peaks:" in text and "0.93" in text and "0.10x0.10x0.20" in text
    assert "grasps:" in text and "top" in text and "0.061" in text
    assert "navigation goals: none" in text
    del document["grasps"], document["goals"]
    assert "grasps" not in answer_tables(document)
