"""The ROS 2 adapter layer: the only part of lerf_ros that imports rclpy.

Nodes here stay thin: they convert messages to the ROS-free core's types
(``lerf_ros.ros.conversions``), call the core, and convert the answers back.
"""
