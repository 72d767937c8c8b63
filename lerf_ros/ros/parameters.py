"""The node's parameters: a table ``parameter name -> dataclass field``.

Every default and description comes from the settings dataclasses: the node's own
(:class:`~lerf_ros.ros.node_config.NodeConfig`), the engine's composition root
(:class:`~lerf_ros.training.config.LerfConfig`, its default preset) and the target planners'
(:class:`~lerf_ros.targets.config.TargetConfig`); a description is the field's docstring.
config/lerf.yaml, the README's parameter table and the launch file's arguments are rendered
from this table (``python -m lerf_ros.ros.parameters [yaml|readme|launch]``) and a test checks
that they still agree with it.
"""

from __future__ import annotations

import json
import math
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from lerf_ros.configuration import field_doc, field_type, get_path, owner_and_field, set_path
from lerf_ros.ros.node_config import NodeConfig
from lerf_ros.ros.parameter_rules import LIVE, RANGES, check_value
from lerf_ros.targets.config import TargetConfig
from lerf_ros.training.config import PRESETS, LerfConfig


@dataclass(frozen=True)
class Conversion:
    """A parameter whose value is not the field's own (ROS has no None; MB reads better)."""

    to_field: Callable[[object], object]
    to_parameter: Callable[[object], object]
    note: str
    """Appended to the field's docstring in the parameter's description."""


NONE_AS_EMPTY = Conversion(lambda v: v or None, lambda v: v or "", "'' is None.")
MEGABYTES = Conversion(lambda v: int(v) << 20, lambda v: int(v) >> 20, "In MB.")

# parameter name -> "part.field.path" (part: node | engine | targets), in the order
# config/lerf.yaml and the README list them.
FIELDS: dict[str, str | tuple[str, Conversion]] = {
    "fixed_frame": "node.fixed_frame",
    "image_topics": "node.image_topics",
    "camera_info_topics": "node.camera_info_topics",
    "pose_source": "node.pose_source",
    "pose_topics": "node.pose_topics",
    "depth_topics": "node.depth_topics",
    "depth_scale": "node.depth_scale",
    "depth_max": "node.depth_max",
    "optical_frames": "node.optical_frames",
    "extrinsic": "node.extrinsic",
    "pose_slop": "node.pose_slop",
    "pose_wait": "node.pose_wait",
    "preset": "node.preset",
    "encoder": "node.encoder",
    "encoder_checkpoint": "node.encoder_checkpoint",
    "dino": "node.dino",
    "device": "engine.device",
    "torch_threads": "node.torch_threads",
    "max_keyframes": "engine.keyframes.max_keyframes",
    "keyframe_min_translation": "engine.keyframes.min_translation",
    "keyframe_min_rotation_deg": "engine.keyframes.min_rotation_deg",
    "keyframe_max_interval": "engine.keyframes.max_interval",
    "rays_per_batch": "engine.trainer.rays_per_batch",
    "max_steps": "engine.trainer.max_steps",
    "pause": "node.pause",
    "ready_steps": "engine.trainer.ready_steps",
    "ready_check": "engine.readiness.enabled",
    "ready_max_rgb_error": "engine.readiness.max_rgb_error",
    "ready_min_clip_cosine": "engine.readiness.min_clip_cosine",
    "ready_max_depth_error": "engine.readiness.max_depth_error",
    "ready_max_steps": "engine.readiness.max_steps",
    "depth_loss_weight": "engine.trainer.depth_loss_weight",
    "free_space_loss_weight": "engine.trainer.free_space_loss_weight",
    "query_num_scales": "engine.query.num_scales",
    "query_max_scale": "engine.query.max_scale",
    "query_min_views": "engine.query.min_views",
    "query_min_relevancy": "engine.query.min_relevancy",
    "query_max_results": "engine.query.max_results",
    "ground_height": "targets.navigation.ground_height",
    "base_frame": "targets.navigation.base_frame",
    "standoff_distance": "targets.navigation.standoff_distance",
    "max_gripper_width": "targets.grasp.max_gripper_width",
    "pre_grasp_distance": "targets.grasp.pre_grasp_distance",
    "grasp_approach": "targets.grasp.approach",
    "robot_radius": "targets.navigation.robot_radius",
    "occupied_density": "targets.occupied_density",
    "publish_nav2_goal": "node.publish_nav2_goal",
    "checkpoint_path": "node.checkpoint_path",
    "autosave_interval": "node.autosave_interval",
    "resume": "node.resume",
    "managed": "node.managed",
    "feature_cache_dir": ("engine.feature_cache_dir", NONE_AS_EMPTY),
    "feature_cache_mb": ("engine.feature_cache_bytes", MEGABYTES),
    "relevancy_image_width": "node.relevancy_image_width",
}

PRESET_NOTE = "0: the preset's value."


@dataclass(frozen=True)
class Parameter:
    """One node parameter: the field it sets, its default and its description."""

    part: str
    """``node``, ``engine`` or ``targets``: the settings object the field belongs to."""
    path: str
    """Dotted field path inside that object (``keyframes.max_keyframes``)."""
    default: object
    description: str
    preset_dependent: bool = False
    """The presets disagree on the field: the default is 0 and 0 keeps the preset's value."""
    conversion: Conversion | None = None

    def field_value(self, value):
        """The field's value for parameter value ``value`` (typed like the default)."""
        value = _like(self.default, value)
        return self.conversion.to_field(value) if self.conversion else value


def _like(default, value):
    """``value`` cast like the old hand-written mapping did (int() / float() of numbers)."""
    if isinstance(default, bool) or isinstance(value, bool):
        return value
    if isinstance(default, float):
        return float(value)
    if isinstance(default, int):
        return int(value)
    if isinstance(default, list):
        return list(value)
    return value


def _defaults() -> dict[str, object]:
    """The settings objects holding every parameter's default (the engine's default preset)."""
    node = NodeConfig()
    return {
        "node": node,
        "engine": LerfConfig.from_preset(node.preset),
        "targets": TargetConfig.default(),
    }


def _parameter(spec: str | tuple[str, Conversion], defaults: dict) -> Parameter:
    field, conversion = spec if isinstance(spec, tuple) else (spec, None)
    part, path = field.split(".", 1)
    owner, name = owner_and_field(defaults[part], path)
    value = get_path(defaults[part], path)
    if field_type(owner, name) is float:
        value = float(value)  # a float field written with an int literal stays a ROS double
    description = field_doc(owner, name)
    preset_dependent = part == "engine" and any(
        get_path(LerfConfig.from_preset(preset), path) != value for preset in PRESETS
    )
    if preset_dependent:
        value = type(value)(0)
        description += " " + PRESET_NOTE
    if conversion is not None:
        value = conversion.to_parameter(value)
        description += " " + conversion.note
    return Parameter(part, path, value, description, preset_dependent, conversion)


def _table() -> dict[str, Parameter]:
    defaults = _defaults()
    return {name: _parameter(spec, defaults) for name, spec in FIELDS.items()}


PARAMETERS: dict[str, Parameter] = _table()


@dataclass
class NodeParameters:
    values: dict

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError as error:
            raise AttributeError(name) from error


def descriptor(name: str):
    """The ``ParameterDescriptor`` of parameter ``name``: its description, ``read_only``
    unless it is :data:`LIVE`, and its :data:`RANGES` entry as a floating-point or integer
    range."""
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

    parameter = PARAMETERS[name]
    result = ParameterDescriptor(description=parameter.description, read_only=name not in LIVE)
    if name in RANGES:
        low, high, step = RANGES[name]
        if isinstance(parameter.default, float):
            result.floating_point_range = [
                FloatingPointRange(from_value=float(low), to_value=float(high), step=float(step))
            ]
        else:
            result.integer_range = [
                IntegerRange(from_value=int(low), to_value=int(high), step=int(step))
            ]
    return result


def declare(node) -> NodeParameters:
    """Declare every parameter with its default and descriptor (:func:`descriptor`); check
    the values (rclpy refuses one outside its range; NaN and infinity are refused here) and
    the node's own settings."""
    values = {}
    for name, parameter in PARAMETERS.items():
        values[name] = node.declare_parameter(name, parameter.default, descriptor(name)).value
        check_value(name, values[name])
    p = NodeParameters(values)
    node_config(p)  # pose_source, preset: the dataclass's error text, before anything starts
    return p


def changed(p: NodeParameters, changes: dict[str, object]) -> NodeParameters:
    """``p`` with ``changes`` (parameter name -> value) applied, checked as the node checks
    its start-up values: ranges, then the validation of every settings dataclass a change
    touches (``grasp.approach must be auto, top or side, not 'x'``). Raises
    :class:`ConfigError` naming the field; ``p`` itself is never modified."""
    for name, value in changes.items():
        check_value(name, value)
    candidate = NodeParameters({**p.values, **changes})
    builders = {"node": node_config, "engine": engine_config, "targets": target_config}
    for part in {PARAMETERS[name].part for name in changes}:
        builders[part](candidate)
    return candidate


def _fields(p: NodeParameters, part: str):
    for name, parameter in PARAMETERS.items():
        if parameter.part == part:
            yield parameter, parameter.field_value(getattr(p, name))


def node_config(p: NodeParameters) -> NodeConfig:
    """The node's own settings (validated: ``pose_source must be pose, odometry or tf``)."""
    return NodeConfig(**{parameter.path: value for parameter, value in _fields(p, "node")})


def engine_config(p: NodeParameters) -> LerfConfig:
    """Map node parameters onto the engine's config (0 keeps the preset's value where the
    presets disagree, see :attr:`Parameter.preset_dependent`)."""
    config = LerfConfig.from_preset(p.preset)
    for parameter, value in _fields(p, "engine"):
        if not (parameter.preset_dependent and not value):
            set_path(config, parameter.path, value)
    return config.validate()


def target_config(p: NodeParameters) -> TargetConfig:
    """Map node parameters onto the grasp / navigation planners' config."""
    config = TargetConfig.default()
    for parameter, value in _fields(p, "targets"):
        set_path(config, parameter.path, value)
    return config.validate()


def _yaml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    return json.dumps(value, ensure_ascii=False)


def render_yaml() -> str:
    """config/lerf.yaml: every parameter with its default and description."""
    lines = [
        "# Parameters of lerf_trainer (ros2 launch lerf_ros lerf.launch.py, or lerf-ros bringup).",
        "# Generated by python -m lerf_ros.ros.parameters from the settings dataclasses: each",
        "# description is its field's docstring, each default its field's default.",
        "# Keyed '/**' so it applies under any node name or namespace (__node:=, --name):",
        "# a file keyed 'lerf_trainer:' is silently ignored by a node renamed or namespaced.",
        "/**:",
        "  ros__parameters:",
    ]
    for name, parameter in PARAMETERS.items():
        lines += [f"    # {line}" for line in textwrap.wrap(parameter.description, 94)]
        lines.append(f"    {name}: {_yaml_value(parameter.default)}")
    return "\n".join(lines) + "\n"


def render_markdown_table() -> str:
    """The README's parameter table (``live``: ``ros2 param set`` applies it at once; the
    others are read at start-up and refuse run-time changes)."""
    rows = ["| parameter | default | live | description |", "|---|---|---|---|"]
    for name, parameter in PARAMETERS.items():
        shown = _yaml_value(parameter.default).strip('"')
        escaped = parameter.description.replace("|", "\\|")  # a bare | would split the cell
        live = "live" if name in LIVE else ""
        rows.append(f"| `{name}` | `{shown}` | {live} | {escaped} |")
    return "\n".join(rows) + "\n"


def launch_default(value) -> str:
    """A launch argument's default string for a parameter default (lists as Python lists,
    which the launch system hands to the node as YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, list) else str(value)


def launch_arguments(names) -> list[tuple[str, str, str, str]]:
    """``(argument, default, description, parameter)`` rows of launch/lerf.launch.py's
    ARGUMENTS for the parameters ``names``."""
    return [
        (name, launch_default(PARAMETERS[name].default), PARAMETERS[name].description, name)
        for name in names
    ]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_launch_arguments(names) -> str:
    """Python source of launch/lerf.launch.py's ARGUMENTS for the parameters ``names``, laid
    out as ruff formats it (a row on one line when it fits in 100 columns)."""
    lines = ["ARGUMENTS = ["]
    for row in launch_arguments(names):
        line = f"    ({', '.join(_quoted(item) for item in row)}),"
        if len(line) <= 100:
            lines.append(line)
            continue
        lines.append("    (")
        for item in row:
            fits = len(_quoted(item)) + 9 <= 100
            chunks = [item] if fits else textwrap.wrap(item, 86, drop_whitespace=False)
            lines += [f"        {_quoted(chunk)}" for chunk in chunks[:-1]]
            lines.append(f"        {_quoted(chunks[-1])},")
        lines.append("    ),")
    return "\n".join([*lines, "]"]) + "\n"


if __name__ == "__main__":  # python -m lerf_ros.ros.parameters [yaml|readme|launch NAME...]
    what = sys.argv[1] if len(sys.argv) > 1 else "yaml"
    if what == "readme":
        print(render_markdown_table(), end="")
    elif what == "launch":
        print(render_launch_arguments(sys.argv[2:]), end="")
    else:
        print(render_yaml(), end="")
