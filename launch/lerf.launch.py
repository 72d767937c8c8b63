"""Launch lerf_trainer (and optionally rviz2) on a ROS 2 system.

    ros2 launch lerf_ros lerf.launch.py image_topics:="['/camera/color/image_raw']" \
        camera_info_topics:="['/camera/color/camera_info']" pose_source:=tf fixed_frame:=map \
        depth_topics:="['/camera/aligned_depth_to_color/image_raw']"

    ros2 launch lerf_ros lerf.launch.py params_file:=/path/to/robot.yaml device:=cuda:1

The node reads ``params_file`` (default: the package's config/lerf.yaml) and then the
arguments given on the command line: an argument left unset does not override the file, so a
robot's parameter file can set every topic, frame, encoder and device
(:mod:`lerf_ros.launch_overrides`).

Without a ROS install (launch_ros is not on PyPI) the same node starts with the same
parameter file through ``lerf-ros bringup --params config/lerf.yaml``.
"""

from pathlib import Path

from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription
from lerf_ros.launch_overrides import UNSET, argument_description, parameter_overrides
from lerf_ros.ros.parameter_files import parameters_for

# (argument, node default, description, parameter it sets on lerf_trainer): defaults and
# descriptions are the node's (lerf_ros/ros/parameters.py); regenerate with
#   python -m lerf_ros.ros.parameters launch image_topics camera_info_topics ...
# (test/ros/test_launch_and_config.py fails when they disagree).
ARGUMENTS = [
    (
        "image_topics",
        "['/camera/image_raw']",
        "Image topics, one per camera (…/compressed: sensor_msgs/CompressedImage).",
        "image_topics",
    ),
    (
        "camera_info_topics",
        "['/camera/camera_info']",
        "CameraInfo topics, one per camera.",
        "camera_info_topics",
    ),
    (
        "pose_source",
        "pose",
        "Camera poses from: ``pose`` (PoseStamped on pose_topics) | ``odometry`` (Odometry on "
        "pose_topics) | ``tf`` (the optical frame looked up in fixed_frame).",
        "pose_source",
    ),
    (
        "pose_topics",
        "['/camera/pose']",
        "PoseStamped or Odometry topics, one per camera.",
        "pose_topics",
    ),
    (
        "depth_topics",
        "['']",
        "Depth topics registered to each camera's colour image, one per camera ('' = none; a "
        "RealSense: /camera/aligned_depth_to_color/image_raw): 16UC1/mono16 in depth_scale "
        "units or 32FC1 metres (…/compressedDepth: sensor_msgs/CompressedImage as "
        "compressed_depth_image_transport sends it).",
        "depth_topics",
    ),
    ("fixed_frame", "map", "Frame the field, poses and every answer live in.", "fixed_frame"),
    (
        "encoder",
        "openclip",
        "CLIP encoder: ``openclip`` | ``colour-minilm`` | ``package.module:Class``.",
        "encoder",
    ),
    (
        "dino",
        "dino",
        "DINO encoder: ``dino`` | ``colour-patches`` | ``none`` | ``package.module:Class``.",
        "dino",
    ),
    (
        "device",
        "auto",
        "Torch device: ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``.",
        "device",
    ),
]


def generate_launch_description():
    share = FindPackageShare("lerf_ros")
    declared = [
        DeclareLaunchArgument(
            name, default_value=UNSET, description=argument_description(description, default)
        )
        for name, default, description, _ in ARGUMENTS
    ]
    declared += [
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([share, "config", "lerf.yaml"]),
            description="Parameter file for lerf_trainer (arguments given here override it)",
        ),
        DeclareLaunchArgument("rviz", default_value="false", description="Start rviz2"),
    ]
    return LaunchDescription([*declared, OpaqueFunction(function=_nodes)])


def _nodes(context):
    """lerf_trainer with the parameter file, then only the arguments the user gave; rviz2."""
    configurations = context.launch_configurations
    overrides = parameter_overrides(
        configurations, [(name, parameter) for name, _, _, parameter in ARGUMENTS]
    )
    params_file = configurations["params_file"]
    trainer = Node(
        package="lerf_ros",
        executable="lerf_trainer",
        name="lerf_trainer",
        output="screen",
        parameters=[params_file, overrides] if overrides else [params_file],
    )
    # rviz2's fixed frame is the node's: the argument, else the file's, else the default.
    fixed_frame = overrides.get("fixed_frame") or parameters_for(Path(params_file)).get(
        "fixed_frame", "map"
    )
    rviz = Node(
        package="rviz2",
        executable="rviz2",
        name="rviz2",
        arguments=[
            "-d",
            PathJoinSubstitution([FindPackageShare("lerf_ros"), "config", "lerf.rviz"]),
            "-f",
            str(fixed_frame),
        ],
        condition=IfCondition(LaunchConfiguration("rviz")),
    )
    return [trainer, rviz]
