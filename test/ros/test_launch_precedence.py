"""launch/lerf.launch.py evaluated: a user's parameter file wins over arguments left unset, and
an argument given on the command line wins over the file, on a real rclpy node.

The ROS ``launch`` and ``launch_ros`` packages are not on PyPI; when they are missing, minimal
stand-ins with their semantics (launch configurations from the command line first, then
argument defaults; substitutions performed in a context; a parameter dict written to a
parameter file given after the ones before it, as launch_ros does) evaluate the file.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path

import pytest
import rclpy  # test/ros/conftest.py skips this folder without it
import yaml
from rclpy.node import Node

from lerf_ros.launch_overrides import LaunchValueError
from lerf_ros.package_share import package_share
from lerf_ros.ros.parameters import declare

REPO = Path(__file__).resolve().parents[2]


class _Substitution:
    def perform(self, context) -> str:
        raise NotImplementedError


class LaunchConfiguration(_Substitution):
    def __init__(self, name):
        self.name = name

    def perform(self, context):
        return context.launch_configurations[self.name]


class PathJoinSubstitution(_Substitution):
    def __init__(self, parts):
        self.parts = parts

    def perform(self, context):
        return os.path.join(*(perform(part, context) for part in self.parts))


class FindPackageShare(_Substitution):
    def __init__(self, package):
        self.package = package

    def perform(self, context):
        return str(package_share())


def perform(value, context) -> str:
    return value.perform(context) if isinstance(value, _Substitution) else str(value)


class _Entity:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


def _stand_in_modules() -> dict[str, types.ModuleType]:
    def module(name, **members):
        mod = types.ModuleType(name)
        mod.__dict__.update(members)
        return mod

    entity = {
        name: type(name, (_Entity,), {})
        for name in ("LaunchDescription", "DeclareLaunchArgument", "OpaqueFunction")
    }
    return {
        "launch": module("launch", LaunchDescription=entity["LaunchDescription"]),
        "launch.actions": module(
            "launch.actions",
            DeclareLaunchArgument=entity["DeclareLaunchArgument"],
            OpaqueFunction=entity["OpaqueFunction"],
        ),
        "launch.conditions": module(
            "launch.conditions", IfCondition=type("IfCondition", (_Entity,), {})
        ),
        "launch.substitutions": module(
            "launch.substitutions",
            LaunchConfiguration=LaunchConfiguration,
            PathJoinSubstitution=PathJoinSubstitution,
        ),
        "launch_ros": module("launch_ros"),
        "launch_ros.actions": module("launch_ros.actions", Node=type("Node", (_Entity,), {})),
        "launch_ros.substitutions": module(
            "launch_ros.substitutions", FindPackageShare=FindPackageShare
        ),
    }


def _real_launch_available() -> bool:
    try:
        from launch import LaunchDescription  # noqa: F401
    except ImportError:
        return False
    return importlib.util.find_spec("launch_ros") is not None


@pytest.fixture(scope="module")
def launch_file():
    """The launch file's module, imported against the stand-ins."""
    if _real_launch_available():  # pragma: no cover - a ROS install
        pytest.skip("real launch_ros installed: use launch_testing there")
    saved = {name: sys.modules.get(name) for name in _stand_in_modules()}
    sys.modules.update(_stand_in_modules())
    try:
        spec = importlib.util.spec_from_file_location(
            "lerf_launch", REPO / "launch" / "lerf.launch.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old


def evaluate(module, given: dict[str, str]) -> tuple[dict[str, _Entity], object]:
    """``ros2 launch lerf_ros lerf.launch.py NAME:=VALUE ...``: the nodes it would start."""
    description = module.generate_launch_description()
    context = types.SimpleNamespace(launch_configurations=dict(given))
    nodes = []
    for entity in description.args[0]:
        kind = type(entity).__name__
        if kind == "DeclareLaunchArgument":
            name = entity.args[0]
            default = perform(entity.kwargs["default_value"], context)
            context.launch_configurations.setdefault(name, default)
        elif kind == "OpaqueFunction":
            nodes += entity.kwargs["function"](context)
    return {node.kwargs["name"]: node for node in nodes}, context


def node_command_line(node, context, tmp_path: Path) -> list[str]:
    """The ``--ros-args`` launch_ros gives a node: a file path stays a ``--params-file``; a dict
    is written to a parameter file for every node (``/**``) that follows it."""
    args = ["--ros-args"]
    for i, entry in enumerate(node.kwargs["parameters"]):
        if isinstance(entry, dict):
            path = tmp_path / f"launch_params_{i}.yaml"
            path.write_text(yaml.safe_dump({"/**": {"ros__parameters": entry}}))
            entry = path
        args += ["--params-file", perform(entry, context)]
    return args


@pytest.fixture(scope="module")
def context():
    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    rclpy.shutdown(context=context)


def node_parameters(context, cli_args: list[str]):
    """The parameters a node declared like lerf_trainer gets from ``cli_args`` (rcl's rules)."""
    node = Node("lerf_trainer", context=context, cli_args=cli_args)
    try:
        return declare(node)
    finally:
        node.destroy_node()


@pytest.fixture
def robot_file(tmp_path):
    path = tmp_path / "robot.yaml"
    path.write_text(
        "/**:\n  ros__parameters:\n"
        "    image_topics: ['/rs/color/image_raw']\n"
        "    fixed_frame: odom\n"
        "    encoder: colour-minilm\n"
        "    device: cpu\n"
    )
    return path


def test_a_users_parameter_file_wins_over_arguments_left_unset(
    launch_file, context, robot_file, tmp_path
):
    nodes, launch_context = evaluate(launch_file, {"params_file": str(robot_file)})
    trainer = nodes["lerf_trainer"]
    assert trainer.kwargs["parameters"] == [str(robot_file)]  # no override at all
    p = node_parameters(context, node_command_line(trainer, launch_context, tmp_path))
    assert p.image_topics == ["/rs/color/image_raw"]
    assert (p.fixed_frame, p.encoder, p.device) == ("odom", "colour-minilm", "cpu")
    assert p.pose_source == "pose"  # in neither: the node's default
    # rviz2 shows the frame the node uses: the file's.
    assert nodes["rviz2"].kwargs["arguments"][-2:] == ["-f", "odom"]


def test_a_given_argument_wins_over_the_file(launch_file, context, robot_file, tmp_path):
    given = {
        "params_file": str(robot_file),
        "device": "cuda:1",
        "fixed_frame": "map",
        "depth_topics": "['/rs/aligned_depth_to_color/image_raw']",
    }
    nodes, launch_context = evaluate(launch_file, given)
    trainer = nodes["lerf_trainer"]
    assert trainer.kwargs["parameters"][1] == {
        "device": "cuda:1",
        "fixed_frame": "map",
        "depth_topics": ["/rs/aligned_depth_to_color/image_raw"],
    }
    p = node_parameters(context, node_command_line(trainer, launch_context, tmp_path))
    assert (p.device, p.fixed_frame) == ("cuda:1", "map")
    assert p.depth_topics == ["/rs/aligned_depth_to_color/image_raw"]
    assert p.image_topics == ["/rs/color/image_raw"] and p.encoder == "colour-minilm"
    assert nodes["rviz2"].kwargs["arguments"][-2:] == ["-f", "map"]


def test_rcl_gives_a_p_override_precedence_over_the_file_too(context, robot_file):
    # lerf-ros bringup --params FILE -p NAME:=VALUE relies on the same rule.
    cli = ["--ros-args", "--params-file", str(robot_file), "-p", "encoder:=openclip"]
    p = node_parameters(context, cli)
    assert (p.encoder, p.fixed_frame) == ("openclip", "odom")


def test_the_shipped_file_is_the_default_and_a_bad_argument_is_named(launch_file, context):
    nodes, _ = evaluate(launch_file, {})
    (params_file,) = nodes["lerf_trainer"].kwargs["parameters"]
    assert Path(params_file) == package_share() / "config" / "lerf.yaml"
    assert nodes["rviz2"].kwargs["arguments"][-2:] == ["-f", "map"]
    with pytest.raises(LaunchValueError, match="launch argument image_topics"):
        evaluate(launch_file, {"image_topics": "{a: 1}"})
