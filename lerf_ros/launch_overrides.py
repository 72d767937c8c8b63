"""Which launch arguments override lerf_trainer's parameter file (``launch/lerf.launch.py``).

``ros2 launch`` hands a node its parameter sources in order, later ones winning. When every
argument had a default and was always passed after ``params_file``, a user's parameter file
could never set a topic, a frame, an encoder or the device: the argument defaults always won.
The launch file now declares those arguments with :data:`UNSET` as default and passes only the
ones the user gave, converted as launch_ros converts a substitution's text (YAML).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import yaml

UNSET = ""
"""Default of an override argument: not given, the parameter file (or the node's default)
decides. An empty value cannot be meant as a value: no overridable parameter takes ``''``."""

_SCALARS = (bool, int, float, str)


class LaunchValueError(ValueError):
    """A launch argument's text is not a value a ROS parameter can hold."""


def launch_value(text: str) -> object:
    """A launch argument's text as the node receives it: parsed as YAML, the way launch_ros
    evaluates a substitution given as a parameter value (``'5'`` -> 5, ``'true'`` -> True,
    ``"['/a', '/b']"`` -> ``['/a', '/b']``; quote a string that looks like a number).

    Raises :class:`LaunchValueError` for what a parameter cannot hold (a mapping, null, an
    empty or mixed-type list), as launch_ros does.
    """
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise LaunchValueError(f"{text!r} is not valid YAML: {error}") from error
    if type(value) in _SCALARS:
        return value
    if isinstance(value, list):
        if value and type(value[0]) in _SCALARS and all(type(v) is type(value[0]) for v in value):
            return value
        raise LaunchValueError(
            f"{text!r}: a list parameter needs items of one type (bool, int, float or str)"
        )
    raise LaunchValueError(f"{text!r} is a {type(value).__name__}, not a parameter value")


def parameter_overrides(
    configurations: Mapping[str, str], arguments: Iterable[tuple[str, str]]
) -> dict[str, object]:
    """``{parameter: value}`` for each ``(argument, parameter)`` the user gave (its launch
    configuration is set and not :data:`UNSET`), values converted by :func:`launch_value`.

    Raises :class:`LaunchValueError` naming the argument whose value is not valid.
    """
    overrides = {}
    for argument, parameter in arguments:
        text = configurations.get(argument, UNSET)
        if text == UNSET:
            continue
        try:
            overrides[parameter] = launch_value(text)
        except LaunchValueError as error:
            raise LaunchValueError(f"launch argument {argument}: {error}") from None
    return overrides


def argument_description(description: str, node_default: str) -> str:
    """An override argument's description: the parameter's, and what applies when unset."""
    return f"{description} Unset: the parameter file's value (node default: {node_default})."
