"""The launch file, the parameter files and the node's declared parameters agree."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import yaml

from lerf_ros.ros.parameter_files import parameters_for
from lerf_ros.ros.parameters import PARAMETERS, NodeParameters, launch_arguments

REPO = Path(__file__).resolve().parents[2]
RECIPES = ("realsense_rtabmap.yaml", "zed.yaml", "isaac_cuvslam.yaml")
"""The real-camera parameter files of the README's "Running on a robot"."""


def launch_tree():
    return ast.parse((REPO / "launch" / "lerf.launch.py").read_text())


def launch_argument_rows() -> list[tuple]:
    """ARGUMENTS of the launch file: (argument, default, description, parameter) literals."""
    arguments = next(
        node.value
        for node in ast.walk(launch_tree())
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ARGUMENTS"
    )
    return [tuple(ast.literal_eval(item)) for item in arguments.elts]


def same(a, b) -> bool:
    """Equal, NaN included."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def test_launch_arguments_set_only_declared_parameters():
    parameters = [row[3] for row in launch_argument_rows()]
    assert parameters, "launch file declares no arguments"
    assert set(parameters) <= set(PARAMETERS), set(parameters) - set(PARAMETERS)


def test_launch_runs_executables_that_exist():
    calls = [
        node
        for node in ast.walk(launch_tree())
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Node"
    ]
    executables = {
        kw.value.value for call in calls for kw in call.keywords if kw.arg == "executable"
    }
    assert "lerf_trainer" in executables
    # The colcon install exposes lerf_trainer from scripts/ (CMakeLists installs it).
    assert (REPO / "scripts" / "lerf_trainer").exists()
    assert "lerf_trainer" in (REPO / "CMakeLists.txt").read_text()
    # The pip install exposes the same entry point.
    assert "lerf_trainer = lerf_ros.ros.trainer_node:main" in (REPO / "setup.py").read_text()


def test_parameter_files_use_declared_parameters_with_matching_types():
    # Every shipped file: lerf.yaml, demo.yaml and the camera recipes.
    names = sorted(path.name for path in (REPO / "config").glob("*.yaml"))
    assert {"lerf.yaml", "demo.yaml", *RECIPES} <= set(names), names
    for name in names:
        params = parameters_for(REPO / "config" / name, "/lerf_trainer")
        assert params, f"{name} sets nothing for /lerf_trainer"
        assert set(params) <= set(PARAMETERS), (name, set(params) - set(PARAMETERS))
        for key, value in params.items():
            default = PARAMETERS[key].default
            assert type(value) is type(default) or (
                isinstance(default, float) and isinstance(value, int | float)
            ), (name, key, value, default)
    assert set(parameters_for(REPO / "config" / "lerf.yaml")) == set(PARAMETERS)
    # Keyed for any name: a renamed or namespaced node gets the same parameters.
    for fqn in ("/lerf_trainer_2", "/robot1/lerf_trainer"):
        assert parameters_for(REPO / "config" / "demo.yaml", fqn) == parameters_for(
            REPO / "config" / "demo.yaml"
        )


def test_lerf_yaml_and_readme_table_match_the_declared_parameters():
    from lerf_ros.ros.parameters import render_markdown_table, render_yaml

    assert (REPO / "config" / "lerf.yaml").read_text() == render_yaml(), (
        "regenerate: python -m lerf_ros.ros.parameters > config/lerf.yaml"
    )
    assert render_markdown_table() in (REPO / "README.md").read_text()


def test_launch_argument_defaults_and_descriptions_are_the_nodes():
    rows = launch_argument_rows()
    names = [row[3] for row in rows]
    assert rows == launch_arguments(names), (
        "regenerate: python -m lerf_ros.ros.parameters launch " + " ".join(names)
    )
    for _, default, _, parameter in rows:  # what the node receives, parsed as ROS does (YAML)
        assert same(yaml.safe_load(default), PARAMETERS[parameter].default), parameter


def test_lerf_yaml_values_and_readme_defaults_are_the_node_defaults():
    shipped = parameters_for(REPO / "config" / "lerf.yaml")
    readme = (REPO / "README.md").read_text()
    for name, parameter in PARAMETERS.items():
        assert same(shipped[name], parameter.default), name
        assert type(shipped[name]) is type(parameter.default), name
        assert f"| `{name}` |" in readme, name
        assert parameter.description, f"{name}: its field has no docstring"


def test_node_defaults_are_the_dataclass_defaults():
    from lerf_ros.ros.node_config import NodeConfig
    from lerf_ros.ros.parameters import engine_config, node_config, target_config
    from lerf_ros.targets.config import TargetConfig
    from lerf_ros.training.config import LerfConfig

    values = {name: parameter.default for name, parameter in PARAMETERS.items()}
    p = NodeParameters(values)
    assert engine_config(p) == LerfConfig.lerf()
    assert target_config(p) == TargetConfig.default()
    assert node_config(p) == NodeConfig()
    assert engine_config(NodeParameters({**values, "preset": "cpu"})) == LerfConfig.cpu()
