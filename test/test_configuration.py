"""Settings are defined once: docstrings read from the source, enumerations checked on the
dataclasses with one error text for the CLI and the node, one ground_height for every path."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Literal

import pytest

from lerf_ros.configuration import ConfigError, check_literals, field_doc
from lerf_ros.ros.node_config import NodeConfig
from lerf_ros.ros.parameters import PARAMETERS, NodeParameters, engine_config, target_config
from lerf_ros.targets.config import NavigationConfig, TargetConfig
from lerf_ros.training.config import LerfConfig


@dataclass
class Inner:
    mode: Literal["a", "b"] = "a"
    """Which mode.
    Second line."""
    count: int = 1


@dataclass
class Outer:
    inner: Inner
    items: list
    name: str = "x"
    """A name."""


def test_field_docstrings_are_read_from_the_source_on_one_line():
    assert field_doc(Inner, "mode") == "Which mode. Second line."
    assert field_doc(Inner, "count") == ""  # no docstring
    assert field_doc(Outer, "name") == "A name."
    assert field_doc(NavigationConfig, "robot_radius").startswith("Radius of the base")


def test_literals_are_checked_in_nested_dataclasses_and_lists():
    check_literals(Outer(Inner(), [Inner("b")]))
    with pytest.raises(ConfigError, match=r"^inner.mode must be a or b, not 'c'$"):
        check_literals(Outer(Inner("c"), []))
    with pytest.raises(ConfigError, match=r"items\[1\].mode must be a or b, not 'z'"):
        check_literals(Outer(Inner(), [Inner(), Inner("z")]))


def test_engine_enumerations_are_checked_by_the_composition_root():
    config = LerfConfig.cpu()
    config.nerf.grid.backend = "cuda-magic"
    with pytest.raises(ConfigError, match=r"nerf.grid.backend must be auto, torch or tcnn"):
        config.validate()
    config = LerfConfig.cpu()
    config.scene.contraction = "sphere"
    with pytest.raises(ConfigError, match=r"scene.contraction must be contract or aabb"):
        config.validate()
    config = LerfConfig.cpu()
    config.trainer.background = (1.0, 1.0)
    with pytest.raises(ConfigError, match=r"trainer.background"):
        config.validate()
    for device in ("auto", "cpu", "cuda", "cuda:1"):
        LerfConfig(device=device).validate()
    with pytest.raises(ConfigError, match="preset must be lerf or cpu, not 'big'"):
        LerfConfig.from_preset("big")


def defaults(**overrides) -> NodeParameters:
    values = {name: parameter.default for name, parameter in PARAMETERS.items()}
    return NodeParameters({**values, **overrides})


def test_the_cli_and_the_node_report_a_bad_device_alike():
    from lerf_ros.cli.engine_commands import _config

    with pytest.raises(ConfigError) as node:
        engine_config(defaults(device="gpu"))
    with pytest.raises(ConfigError) as cli:
        _config(argparse.Namespace(device="gpu", preset="auto"))
    assert (
        str(node.value) == str(cli.value) == "device must be auto, cpu, cuda or cuda:N, not 'gpu'"
    )
    with pytest.raises(ConfigError) as node:
        engine_config(defaults(preset="big"))
    with pytest.raises(ConfigError) as cli:
        _config(argparse.Namespace(device="cpu", preset="big"))
    assert str(node.value) == str(cli.value)


def test_node_enumerations_fail_with_the_dataclass_text():
    with pytest.raises(ConfigError, match=r"^pose_source must be pose, odometry or tf, not 'gps'$"):
        NodeConfig(pose_source="gps")
    with pytest.raises(ConfigError, match=r"grasp.approach must be auto, top or side, not 'x'"):
        target_config(defaults(grasp_approach="x"))
    config = TargetConfig.default()
    config.grasp.approach = "x"
    with pytest.raises(ConfigError, match=r"grasp.approach must be auto, top or side"):
        config.validate()


def test_one_ground_height_for_the_node_and_the_offline_tools():
    # lerf-ros snapshot and the demo's pictures use TargetConfig.default(); ~/get_targets the
    # node's parameter: both find the floor the same way (NaN: the base frame, else the field).
    node = target_config(defaults()).navigation
    library = TargetConfig.default().navigation
    assert math.isnan(node.ground_height) and math.isnan(library.ground_height)
    assert node.base_frame == library.base_frame == "base_footprint"
    # A number fixes the floor's height.
    assert target_config(defaults(ground_height=0.0)).navigation.ground_height == 0.0


def test_query_config_lives_beside_the_query_code():
    import lerf_ros.training.config as training_config
    from lerf_ros.query.config import QueryConfig

    assert LerfConfig().query == QueryConfig()
    assert training_config.QueryConfig is QueryConfig  # composed, not redefined
    assert QueryConfig.__module__ == "lerf_ros.query.config"
