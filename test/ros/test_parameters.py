"""declare() on a real rclpy node: the table's defaults and docstring descriptions, read-only
start-up parameters and ranges, and the node settings' dataclass check before anything starts
(no process, no traffic); the ROS-free check of a run-time change (:func:`changed`)."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import pytest
import rclpy  # test/ros/conftest.py skips this folder without it
import yaml
from rclpy.node import Node
from rclpy.parameter import Parameter

from lerf_ros.configuration import ConfigError
from lerf_ros.ros.parameters import (
    LIVE,
    PARAMETERS,
    RANGES,
    NodeParameters,
    changed,
    check_value,
    declare,
    engine_config,
    target_config,
)

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"
TESTS = REPO / "test"
BAD_VALUES_ON_PURPOSE = {"test_parameters.py", "test_live_parameters.py"}
"""Tests whose parameter values are refused on purpose."""


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
            value, default = getattr(p, name), parameter.default
            assert value == default or (value != value and default != default), name  # NaN
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


def test_start_up_parameters_are_read_only_and_numbers_have_their_range(context):
    node = Node("lerf_parameters_probe", context=context)
    try:
        declare(node)
        for name in PARAMETERS:
            described = node.describe_parameter(name)
            assert described.read_only == (name not in LIVE), name
            if name in RANGES:
                low, high, step = RANGES[name]
                ranges = list(described.floating_point_range) + list(described.integer_range)
                assert len(ranges) == 1, name
                assert (ranges[0].from_value, ranges[0].to_value, ranges[0].step) == (
                    low,
                    high,
                    step,
                ), name
        assert list(node.describe_parameter("query_min_relevancy").floating_point_range)
        assert list(node.describe_parameter("query_max_results").integer_range)
        result = node.set_parameters([Parameter("max_keyframes", value=10)])[0]
        assert not result.successful and "read-only" in result.reason
        assert node.get_parameter("max_keyframes").value == PARAMETERS["max_keyframes"].default
    finally:
        node.destroy_node()


def shipped_and_test_values() -> list[tuple[str, str, object]]:
    """(where, parameter, value) of every parameter the repository's files set: the shipped
    parameter files, the launch file's defaults and the overrides the tests start nodes with."""
    import ast

    rows = []
    for path in sorted(CONFIG.glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        for name, value in document["/**"]["ros__parameters"].items():
            rows.append((path.name, name, value))
    for path in sorted(TESTS.rglob("test_*.py")):
        if path.name in BAD_VALUES_ON_PURPOSE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Dict):
                continue
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in PARAMETERS:
                    # A computed value (a path, a constant) is not a number: skipped.
                    with contextlib.suppress(ValueError):
                        rows.append((path.name, key.value, ast.literal_eval(value)))
    return rows


def test_no_shipped_or_test_value_is_outside_its_range():
    """A range that refused a value these files set would stop a node that starts today."""
    rows = shipped_and_test_values()
    assert any(name == "ready_steps" and value == 1_000_000 for _, name, value in rows)
    for where, name, value in rows:
        try:
            check_value(name, value)
        except ConfigError as error:
            raise AssertionError(f"{where}: {error}") from error


def defaults() -> NodeParameters:
    return NodeParameters({name: p.default for name, p in PARAMETERS.items()})


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"grasp_approach": "diagonal"}, r"^grasp\.approach must be auto, top or side"),
        ({"query_min_relevancy": math.nan}, r"^query_min_relevancy must be a finite number"),
        ({"query_min_relevancy": 1.5}, r"^query_min_relevancy must be between 0.0 and 1.0"),
        ({"standoff_distance": -0.5}, r"^standoff_distance must be between"),
        ({"query_max_results": 0}, r"^query_max_results must be between 1 and 100"),
        ({"ground_height": math.inf}, r"^ground_height must be a finite number"),
        ({"pose_source": "gps"}, r"^pose_source must be pose, odometry or tf"),
    ],
)
def test_a_bad_change_is_refused_with_the_dataclass_reason(changes, reason):
    p = defaults()
    with pytest.raises(ConfigError, match=reason):
        changed(p, changes)
    assert p.values == defaults().values  # the values it was checked against are untouched


def test_a_good_change_builds_settings_with_it_and_nan_floor_is_a_value():
    p = defaults()
    candidate = changed(p, {"query_min_relevancy": 0.7, "ground_height": math.nan})
    assert engine_config(candidate).query.min_relevancy == 0.7
    assert math.isnan(target_config(candidate).navigation.ground_height)
    assert p.query_min_relevancy == PARAMETERS["query_min_relevancy"].default
