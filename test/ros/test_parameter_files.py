"""Which parameter-file sections reach a node: rcl's key matching, without a process."""

from __future__ import annotations

import pytest

from lerf_ros.ros.parameter_files import (
    key_matches,
    parameters_for,
    params_files,
    unmatched_params_files,
)


@pytest.mark.parametrize(
    ("key", "fqn", "expected"),
    [
        ("lerf_trainer", "/lerf_trainer", True),
        ("/lerf_trainer", "/lerf_trainer", True),
        ("lerf_trainer", "/lerf_trainer_empty", False),
        ("lerf_trainer", "/robot1/lerf_trainer", False),
        ("/**", "/lerf_trainer", True),
        ("/**", "/robot1/arm/lerf_trainer", True),
        ("/**/lerf_trainer", "/robot1/lerf_trainer", True),
        ("/**/lerf_trainer", "/lerf_trainer", True),
        ("/**/lerf_trainer", "/robot1/other", False),
        ("/robot1/*", "/robot1/lerf_trainer", True),
        ("/robot1/*", "/robot2/lerf_trainer", False),
        ("/robot1/*", "/robot1/arm/lerf_trainer", False),
        ("lerf.trainer", "/lerfXtrainer", False),  # a dot is a dot, not a regex
    ],
)
def test_key_matches_like_rcl(key, fqn, expected):
    assert key_matches(key, fqn) is expected


def test_parameters_for_merges_matching_sections_in_order(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "/**:\n  ros__parameters:\n    a: 1\n    b: 1\n"
        "other:\n  ros__parameters:\n    a: 5\n"
        "/robot1/lerf_trainer:\n  ros__parameters:\n    b: 2\n"
    )
    assert parameters_for(path, "/lerf_trainer") == {"a": 1, "b": 1}
    assert parameters_for(path, "/robot1/lerf_trainer") == {"a": 1, "b": 2}
    assert parameters_for(path, "/other") == {"a": 5, "b": 1}


def test_parameters_for_refuses_a_file_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="not a ROS 2 parameter file"):
        parameters_for(path)


def test_a_file_keyed_for_another_name_is_named_in_a_warning(tmp_path):
    keyed = tmp_path / "keyed.yaml"
    keyed.write_text("lerf_trainer:\n  ros__parameters:\n    device: cpu\n")
    wild = tmp_path / "wild.yaml"
    wild.write_text("/**:\n  ros__parameters:\n    device: cpu\n")
    argv = ["node", "--ros-args", "--params-file", str(keyed), "--params-file", str(wild)]
    assert params_files(argv) == [str(keyed), str(wild)]
    assert unmatched_params_files(argv, "/lerf_trainer") == []
    (warning,) = unmatched_params_files(argv, "/lerf_trainer_empty")
    assert str(keyed) in warning and "/lerf_trainer_empty" in warning
    assert "its sections: lerf_trainer" in warning
    # An unreadable file is rcl's to refuse, not a second error here.
    assert unmatched_params_files(["--params-file", str(tmp_path / "missing.yaml")], "/x") == []
