"""Suite-wide settings: keep DDS on loopback with a domain id unique to this test session."""

from __future__ import annotations

import os
import random

# Set before anything imports rclpy, and inherited by the node processes the tests start.
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
