"""The node's parameters: declared with descriptions, mapped onto the engine's dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

from rcl_interfaces.msg import ParameterDescriptor

from lerf_ros.targets.config import TargetConfig
from lerf_ros.training.config import LerfConfig

# name -> (default, description). Defaults of 0 / "" mean "the preset's value".
PARAMETERS: dict[str, tuple[object, str]] = {
    "fixed_frame": ("map", "Frame the field, poses and every answer live in"),
    "image_topics": (
        ["/camera/image_raw"],
        "Image topics, one per camera (…/compressed: sensor_msgs/CompressedImage)",
    ),
    "camera_info_topics": (["/camera/camera_info"], "CameraInfo topics, one per camera"),
    "pose_source": ("pose", "Camera poses from: pose (PoseStamped) | odometry | tf"),
    "pose_topics": (["/camera/pose"], "PoseStamped or Odometry topics, one per camera"),
    "optical_frames": ([""], "Optical frame per camera for pose_source=tf ('' = image header)"),
    "extrinsic": (
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
        "Static pose x y z qx qy qz qw of the optical frame in the posed frame",
    ),
    "pose_slop": (0.05, "Largest image/pose stamp difference (s) used for matching"),
    "pose_wait": (
        0.5,
        "How long (s) an image waits for its pose while no pose arrives before it is dropped",
    ),
    "preset": ("lerf", "Model size: lerf (kerrj/lerf's, GPU) | cpu (small, two CPU cores)"),
    "encoder": ("openclip", "CLIP encoder: openclip | colour-minilm | package.module:Class"),
    "encoder_checkpoint": ("", "Local open_clip checkpoint file (no download)"),
    "dino": ("dino", "DINO encoder: dino | colour-patches | none | package.module:Class"),
    "device": ("auto", "Torch device: auto | cpu | cuda | cuda:N"),
    "torch_threads": (0, "CPU threads for torch (0: torch's default)"),
    "max_keyframes": (200, "Keyframe buffer capacity (most redundant evicted beyond it)"),
    "keyframe_min_translation": (0.05, "Metres moved for a new keyframe"),
    "keyframe_min_rotation_deg": (5.0, "Degrees turned for a new keyframe"),
    "keyframe_max_interval": (5.0, "Seconds after which a frame is a keyframe anyway"),
    "rays_per_batch": (0, "Rays per training step (0: preset)"),
    "max_steps": (0, "Stop training after this many steps (0: never)"),
    "ready_steps": (0, "Steps before ~/status reports ready (0: preset)"),
    "query_num_scales": (30, "Scales swept by automatic scale selection"),
    "query_max_scale": (2.0, "Largest swept scale (m)"),
    "query_min_views": (3, "Candidate points seen by fewer keyframes are dropped"),
    "query_min_relevancy": (0.55, "Default relevancy threshold of peaks"),
    "query_max_results": (5, "Default number of peaks"),
    "ground_height": (0.0, "z of the floor in fixed_frame (NaN: estimate from the field)"),
    "standoff_distance": (0.8, "Navigation goal distance from the target (m)"),
    "max_gripper_width": (0.12, "Widest gripper opening (m); wider grasps are rejected"),
    "pre_grasp_distance": (0.1, "Approach corridor length checked free before a grasp (m)"),
    "grasp_approach": ("auto", "Grasp approach: auto (top-down when resting) | top | side"),
    "robot_radius": (0.25, "Base footprint radius kept free at navigation goals (m)"),
    "occupied_density": (20.0, "Field density (1/m) above which space counts as solid"),
    "publish_nav2_goal": (False, "Also publish the best navigation goal on /goal_pose (Nav2)"),
    "checkpoint_path": ("", "Checkpoint file for ~/save, ~/load, autosave and resume"),
    "autosave_interval": (0.0, "Seconds between autosaves (0: off); also saved on shutdown"),
    "resume": (False, "Load checkpoint_path at start-up when it exists"),
    "feature_cache_dir": ("", "On-disk feature cache directory ('' = memory only)"),
    "feature_cache_mb": (4096, "Disk budget of the feature cache (MB)"),
    "relevancy_image_width": (160, "Width of ~/relevancy_image (pixels)"),
}


@dataclass
class NodeParameters:
    values: dict

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError as error:
            raise AttributeError(name) from error


def declare(node) -> NodeParameters:
    values = {}
    for name, (default, description) in PARAMETERS.items():
        values[name] = node.declare_parameter(
            name, default, ParameterDescriptor(description=description)
        ).value
    return NodeParameters(values)


def engine_config(p: NodeParameters) -> LerfConfig:
    """Map node parameters onto the engine's config (0 / '' keep the preset's value)."""
    config = LerfConfig.cpu() if p.preset == "cpu" else LerfConfig.lerf()
    config.device = p.device
    k = config.keyframes
    k.max_keyframes = int(p.max_keyframes)
    k.min_translation = float(p.keyframe_min_translation)
    k.min_rotation_deg = float(p.keyframe_min_rotation_deg)
    k.max_interval = float(p.keyframe_max_interval)
    t = config.trainer
    t.rays_per_batch = int(p.rays_per_batch) or t.rays_per_batch
    t.max_steps = int(p.max_steps)
    t.ready_steps = int(p.ready_steps) or t.ready_steps
    q = config.query
    q.num_scales = int(p.query_num_scales)
    q.max_scale = float(p.query_max_scale)
    q.min_views = int(p.query_min_views)
    q.min_relevancy = float(p.query_min_relevancy)
    q.max_results = int(p.query_max_results)
    config.feature_cache_dir = p.feature_cache_dir or None
    config.feature_cache_bytes = int(p.feature_cache_mb) << 20
    return config


def target_config(p: NodeParameters) -> TargetConfig:
    """Map node parameters onto the grasp / navigation planners' config."""
    config = TargetConfig.default()
    config.occupied_density = float(p.occupied_density)
    g = config.grasp
    g.max_gripper_width = float(p.max_gripper_width)
    g.pre_grasp_distance = float(p.pre_grasp_distance)
    if p.grasp_approach not in ("auto", "top", "side"):
        raise ValueError(f"grasp_approach must be auto, top or side, not {p.grasp_approach!r}")
    g.approach = p.grasp_approach
    n = config.navigation
    n.standoff_distance = float(p.standoff_distance)
    n.robot_radius = float(p.robot_radius)
    n.ground_height = float(p.ground_height)
    return config


def _yaml_value(value) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def render_yaml() -> str:
    """config/lerf.yaml: every parameter with its default and description."""
    lines = [
        "# Parameters of lerf_trainer (ros2 launch lerf_ros lerf.launch.py, or lerf-ros bringup).",
        "# Every parameter is declared with this description in lerf_ros/ros/parameters.py.",
        "# Keyed '/**' so it applies under any node name or namespace (__node:=, --name):",
        "# a file keyed 'lerf_trainer:' is silently ignored by a node renamed or namespaced.",
        "/**:",
        "  ros__parameters:",
    ]
    for name, (default, description) in PARAMETERS.items():
        lines += [f"    # {description}", f"    {name}: {_yaml_value(default)}"]
    return "\n".join(lines) + "\n"


def render_markdown_table() -> str:
    """The README's parameter table."""
    rows = ["| parameter | default | description |", "|---|---|---|"]
    for name, (default, description) in PARAMETERS.items():
        shown = _yaml_value(default).strip('"')
        escaped = description.replace("|", "\\|")  # a bare | would split the cell
        rows.append(f"| `{name}` | `{shown}` | {escaped} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # python -m lerf_ros.ros.parameters > config/lerf.yaml
    print(render_yaml(), end="")
