"""The launch file, the parameter files and the node's declared parameters agree."""

from __future__ import annotations

import ast
from pathlib import Path

from lerf_ros.ros.parameter_files import parameters_for
from lerf_ros.ros.parameters import PARAMETERS

REPO = Path(__file__).resolve().parents[2]


def launch_tree():
    return ast.parse((REPO / "launch" / "lerf.launch.py").read_text())


def test_launch_arguments_set_only_declared_parameters():
    tree = launch_tree()
    arguments = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ARGUMENTS"
    )
    parameters = [ast.literal_eval(item)[3] for item in arguments.elts]
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
    for name in ("lerf.yaml", "demo.yaml"):
        params = parameters_for(REPO / "config" / name, "/lerf_trainer")
        assert set(params) <= set(PARAMETERS), (name, set(params) - set(PARAMETERS))
        for key, value in params.items():
            default = PARAMETERS[key][0]
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
