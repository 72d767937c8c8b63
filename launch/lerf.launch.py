"""Launch lerf_trainer (and optionally rviz2) on a ROS 2 system.

    ros2 launch lerf_ros lerf.launch.py image_topic:=/camera/color/image_raw \
        camera_info_topic:=/camera/color/camera_info pose_source:=tf fixed_frame:=map \
        depth_topics:="['/camera/aligned_depth_to_color/image_raw']"

Without a ROS install (launch_ros is not on PyPI) the same node starts with the same
parameter file through ``lerf-ros bringup --params config/lerf.yaml``.
"""

from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription

# (argument, default, description, parameter it sets on lerf_trainer): defaults and
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
        DeclareLaunchArgument(name, default_value=default, description=description)
        for name, default, description, _ in ARGUMENTS
    ]
    declared += [
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([share, "config", "lerf.yaml"]),
            description="Parameter file for lerf_trainer",
        ),
        DeclareLaunchArgument("rviz", default_value="false", description="Start rviz2"),
    ]
    overrides = {parameter: LaunchConfiguration(name) for name, _, _, parameter in ARGUMENTS}
    trainer = Node(
        package="lerf_ros",
        executable="lerf_trainer",
        name="lerf_trainer",
        output="screen",
        parameters=[LaunchConfiguration("params_file"), overrides],
    )
    rviz = Node(
        package="rviz2",
        executable="rviz2",
        name="rviz2",
        # -f: rviz2's fixed frame follows the launch argument (the config's is only a default).
        arguments=[
            "-d",
            PathJoinSubstitution([share, "config", "lerf.rviz"]),
            "-f",
            LaunchConfiguration("fixed_frame"),
        ],
        condition=IfCondition(LaunchConfiguration("rviz")),
    )
    return LaunchDescription([*declared, trainer, rviz])
