"""declare() on a real rclpy node: the table's defaults and docstring descriptions, and the node
settings' dataclass check before anything starts (no process, no traffic)."""

from __future__ import annotations

import pytest
import rclpy  # test/ros/conftest.py skips this folder without it
from rclpy.node import Node
from rclpy.parameter import Parameter

from lerf_ros.configuration import ConfigError
from lerf_ros.ros.parameters import PARAMETERS, declare


@pytest.fixture
def context():
    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    rclpy.shutdown(context=context)


def test_declare_gives_every_parameter_its_default_and_docstring(context):
    node = Node("lerf_parameters_probe", context=context)
    try:
        p = declare(node)
        for name, parameter in PARAMETERS.items():
            assert getattr(p, name) == parameter.default, name
            assert node.describe_parameter(name).description == parameter.description, name
    finally:
        node.destroy_node()


def test_declare_refuses_an_unknown_pose_source_with_the_dataclass_text(context):
    overrides = [Parameter("pose_source", value="gps")]
    node = Node("lerf_parameters_probe", context=context, parameter_overrides=overrides)
    try:
        with pytest.raises(ConfigError, match=r"^pose_source must be pose, odometry or tf"):
            declare(node)
    finally:
        node.destroy_node()
