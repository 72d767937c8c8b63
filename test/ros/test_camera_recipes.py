"""Each real-camera recipe in config/ (README "Running on a robot") starts the real node, which
then subscribes the driver's topics with the message types the recipe's pose source needs.

The three nodes start together (one module fixture, each under its own name: the recipes are
keyed ``/**``) with the cheapest encoders, so the check costs one node start-up."""

from __future__ import annotations

import pytest

from lerf_ros.ros.bringup import REPO_CONFIG, start_trainer
from lerf_ros.ros.client import TrainerClient
from lerf_ros.ros.parameter_files import parameters_for

RECIPES = ("realsense_rtabmap", "zed", "isaac_cuvslam")
LIGHT = {
    "encoder": "colour-minilm",
    "dino": "none",
    "device": "cpu",
    "preset": "cpu",
    "torch_threads": 1,
}
"""The topics do not depend on the encoders: the cheapest keep the CPU free."""
POSE_TYPES = {"pose": "geometry_msgs/msg/PoseStamped", "odometry": "nav_msgs/msg/Odometry"}


def recipe_path(name: str):
    return REPO_CONFIG.parent / f"{name}.yaml"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    logs = tmp_path_factory.mktemp("recipes")
    started = {
        name: start_trainer(
            recipe_path(name), LIGHT, f"lerf_recipe_{name}", log_path=logs / f"{name}.log"
        )
        for name in RECIPES
    }
    yield started
    for node in started.values():
        node.stop()


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_starts_the_node_on_the_driver_topics(nodes, recipe):
    node = nodes[recipe]
    params = parameters_for(recipe_path(recipe), f"/lerf_recipe_{recipe}")
    # The recipes run without tf2_ros (this environment has none): poses come from a topic.
    assert params["pose_source"] in POSE_TYPES, params["pose_source"]
    wanted = {
        params["image_topics"][0]: "sensor_msgs/msg/Image",
        params["camera_info_topics"][0]: "sensor_msgs/msg/CameraInfo",
        params["depth_topics"][0]: "sensor_msgs/msg/Image",
        params["pose_topics"][0]: POSE_TYPES[params["pose_source"]],
    }
    name = f"lerf_recipe_{recipe}"
    with TrainerClient(f"/{name}", f"recipe_check_{recipe}") as client:

        def subscriptions() -> dict:
            try:
                return dict(client.node.get_subscriber_names_and_types_by_node(name, "/"))
            except Exception:  # not discovered yet
                return {}

        assert client.wait_until(lambda: client.last_status is not None, timeout=90), node.log()
        client.wait_until(
            lambda: all(kind in subscriptions().get(t, []) for t, kind in wanted.items()),
            timeout=20,
        )
        found = subscriptions()
        for topic, kind in wanted.items():
            assert kind in found.get(topic, []), (recipe, topic, kind, sorted(found))
        assert client.last_status.state != "error", client.last_status.message
    assert node.alive(), node.log()[-3000:]
    assert "has no section for node" not in node.log()
    assert "Traceback" not in node.log(), node.log()[-3000:]
