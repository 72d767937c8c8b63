"""Launch arguments -> lerf_trainer parameter overrides: only the given ones, typed as
launch_ros types a substitution's text (YAML)."""

from __future__ import annotations

import pytest

from lerf_ros.launch_overrides import (
    UNSET,
    LaunchValueError,
    argument_description,
    launch_value,
    parameter_overrides,
)

ARGUMENTS = [("image_topics", "image_topics"), ("device", "device"), ("fps", "max_fps")]


def test_only_given_arguments_override():
    assert parameter_overrides({"image_topics": UNSET, "device": UNSET}, ARGUMENTS) == {}
    assert parameter_overrides({}, ARGUMENTS) == {}  # not even declared
    given = {"image_topics": "['/a', '/b']", "device": "cuda:1", "fps": "2.5"}
    assert parameter_overrides(given, ARGUMENTS) == {
        "image_topics": ["/a", "/b"],
        "device": "cuda:1",
        "max_fps": 2.5,  # keyed by the parameter, not the argument
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("map", "map"),
        ("5", 5),
        ("0.5", 0.5),
        ("true", True),
        ("False", False),
        ("'5'", "5"),
        ("['']", [""]),
        ("[1, 2]", [1, 2]),
        ("[true, false]", [True, False]),
    ],
)
def test_values_are_typed_like_ros_launch(text, value):
    result = launch_value(text)
    assert result == value and type(result) is type(value)


@pytest.mark.parametrize("text", ["{a: 1}", "null", "[]", "[1, a]", "[[1]]", "[unclosed"])
def test_values_a_parameter_cannot_hold_are_refused_with_the_argument_named(text):
    with pytest.raises(LaunchValueError, match="launch argument device: "):
        parameter_overrides({"device": text}, ARGUMENTS)


def test_the_description_says_what_applies_when_unset():
    text = argument_description("Torch device.", "auto")
    assert text.startswith("Torch device.") and "node default: auto" in text
