"""``config/lerf.rviz`` displays the topics a real ``lerf_trainer`` has (names, types, QoS), and the
launch file starts rviz2 with that file and the launch's fixed frame."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

from lerf_ros.ros.bringup import REPO_CONFIG, start_trainer
from lerf_ros.ros.client import TrainerClient
from lerf_ros.ros.parameter_files import parameters_for

REPO = Path(__file__).resolve().parents[2]
RVIZ_CONFIG = REPO / "config" / "lerf.rviz"
NODE = "lerf_trainer"

DISPLAY_TYPES = {
    "rviz_default_plugins/PointCloud2": "sensor_msgs/msg/PointCloud2",
    "rviz_default_plugins/PointCloud": "sensor_msgs/msg/PointCloud",
    "rviz_default_plugins/Image": "sensor_msgs/msg/Image",
    "rviz_default_plugins/Camera": "sensor_msgs/msg/Image",
    "rviz_default_plugins/MarkerArray": "visualization_msgs/msg/MarkerArray",
    "rviz_default_plugins/Marker": "visualization_msgs/msg/Marker",
    "rviz_default_plugins/Pose": "geometry_msgs/msg/PoseStamped",
    "rviz_default_plugins/PoseArray": "geometry_msgs/msg/PoseArray",
    "rviz_default_plugins/Odometry": "nav_msgs/msg/Odometry",
    "rviz_default_plugins/Path": "nav_msgs/msg/Path",
}
"""Message type each rviz2 display class subscribes to (its Topic)."""

RVIZ_RELIABILITY = ("Reliable", "Best Effort")
RVIZ_DURABILITY = ("Volatile", "Transient Local")


def rviz_displays(displays: list[dict] | None = None) -> list[dict]:
    """Every display of the config, groups flattened."""
    if displays is None:
        config = yaml.safe_load(RVIZ_CONFIG.read_text())
        displays = config["Visualization Manager"]["Displays"]
    flat = []
    for display in displays:
        flat.append(display)
        flat += rviz_displays(display.get("Displays", []))  # rviz_common/Group
    return flat


def topic_displays() -> list[tuple[str, str, dict]]:
    """(topic, message type, topic settings) of every display that subscribes to a topic."""
    found = []
    for display in rviz_displays():
        if "Topic" not in display:
            continue
        cls = display["Class"]
        assert cls in DISPLAY_TYPES, f"display {display['Name']!r}: unknown class {cls}"
        found.append((display["Topic"]["Value"], DISPLAY_TYPES[cls], display["Topic"]))
    return found


def test_rviz_config_is_an_rviz2_config_with_the_expected_displays():
    config = yaml.safe_load(RVIZ_CONFIG.read_text())
    manager = config["Visualization Manager"]
    assert manager["Global Options"]["Fixed Frame"] == "map"
    classes = {d["Class"] for d in rviz_displays()}
    assert all(c.startswith(("rviz_default_plugins/", "rviz_common/")) for c in classes), classes
    assert "rviz_default_plugins/TF" in classes
    topics = {topic: kind for topic, kind, _ in topic_displays()}
    assert topics["/lerf_trainer/relevancy_cloud"] == "sensor_msgs/msg/PointCloud2"
    assert topics["/lerf_trainer/markers"] == "visualization_msgs/msg/MarkerArray"
    assert topics["/lerf_trainer/relevancy_image"] == "sensor_msgs/msg/Image"
    assert topics["/lerf_trainer/nav_goal"] == "geometry_msgs/msg/PoseStamped"
    assert topics["/camera/image_raw"] == "sensor_msgs/msg/Image"
    assert topics["/camera/depth/image_raw"] == "sensor_msgs/msg/Image"
    for _, _, qos in topic_displays():
        assert qos["Reliability Policy"] in RVIZ_RELIABILITY, qos
        assert qos["Durability Policy"] in RVIZ_DURABILITY, qos
        assert qos["History Policy"] == "Keep Last" and qos["Depth"] >= 1, qos
    # RViz started after a query still shows its answer: the node latches these outputs.
    durability = {topic: qos["Durability Policy"] for topic, _, qos in topic_displays()}
    for name in ("relevancy_cloud", "markers", "nav_goal"):
        assert durability[f"/lerf_trainer/{name}"] == "Transient Local", name
    # The cloud is coloured by relevancy on the fixed 0.5-1.0 range of the PNG heat maps.
    cloud = next(d for d in rviz_displays() if d["Class"].endswith("/PointCloud2"))
    assert cloud["Color Transformer"] == "Intensity"
    assert cloud["Channel Name"] == "relevancy"
    assert cloud["Autocompute Intensity Bounds"] is False
    assert (cloud["Min Intensity"], cloud["Max Intensity"]) == (0.5, 1.0)
    assert cloud["Use rainbow"] is False
    # Its two-colour ramp ends on viridis's ends (lerf_ros.query.heatmap.colormap).
    from lerf_ros.query.heatmap import colormap

    for key, value in (("Min Color", 0.5), ("Max Color", 1.0)):
        rgb = [int(v) for v in cloud[key].split(";")]
        expected = (colormap(np.array([value]))[0] * 255).round().astype(int).tolist()
        assert max(abs(a - b) for a, b in zip(rgb, expected, strict=True)) <= 1, (key, rgb)


def _launch_rviz_node() -> ast.Call:
    tree = ast.parse((REPO / "launch" / "lerf.launch.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Node":
            keywords = {kw.arg: kw.value for kw in node.keywords}
            if getattr(keywords.get("executable"), "value", None) == "rviz2":
                return node
    raise AssertionError("launch/lerf.launch.py starts no rviz2 Node")


def test_launch_starts_rviz_with_the_config_and_the_launch_fixed_frame():
    rviz = _launch_rviz_node()
    keywords = {kw.arg: kw.value for kw in rviz.keywords}
    condition = ast.unparse(keywords["condition"])
    assert condition == "IfCondition(LaunchConfiguration('rviz'))", condition
    arguments = keywords["arguments"]
    assert isinstance(arguments, ast.List)
    items = arguments.elts
    flags = [getattr(item, "value", None) for item in items]
    # -d <share>/config/lerf.rviz: the file exists and colcon installs config/ into share/.
    path = items[flags.index("-d") + 1]
    assert isinstance(path, ast.Call) and path.func.id == "PathJoinSubstitution", ast.dump(path)
    parts = [ast.literal_eval(p) for p in path.args[0].elts[1:]]
    assert (REPO.joinpath(*parts)).is_file(), parts
    assert parts[0] == "config"
    assert (
        "install(DIRECTORY launch config DESTINATION share/${PROJECT_NAME})"
        in (REPO / "CMakeLists.txt").read_text()
    )
    # -f: rviz2's fixed frame is the node's (the argument, else the parameter file's);
    # test_launch_precedence.py evaluates which value it takes.
    frame = ast.unparse(items[flags.index("-f") + 1])
    assert frame == "str(fixed_frame)", frame
    source = (REPO / "launch" / "lerf.launch.py").read_text()
    assert '("fixed_frame", "map",' in source  # a declared argument, default as in the config
    assert (
        yaml.safe_load(RVIZ_CONFIG.read_text())["Visualization Manager"]["Global Options"][
            "Fixed Frame"
        ]
        == parameters_for(REPO_CONFIG)["fixed_frame"]
    )


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    """The node as the launch file runs it (config/lerf.yaml), named lerf_trainer. The topics
    do not depend on the encoders: the cheapest ones keep the CPU free."""
    log = tmp_path_factory.mktemp("rviz") / "node.log"
    light = {"encoder": "colour-minilm", "dino": "none", "device": "cpu", "preset": "cpu"}
    # An RGB-D camera, as the config's depth display expects (lerf.yaml's default is none).
    depth = {"depth_topics": ["/camera/depth/image_raw"]}
    node = start_trainer(
        REPO_CONFIG,
        {**light, **depth, "torch_threads": 1},
        NODE,
        log_path=log,
        env={"ROS_DOMAIN_ID": OWN_DOMAIN},
    )
    yield node
    node.stop()


OWN_DOMAIN = str((int(os.environ.get("ROS_DOMAIN_ID", "0")) + 101) % 230)
"""A domain of this module's own: the graph is asked for the endpoints of the node *named*
lerf_trainer, and another test's lerf_trainer still shutting down would answer too."""


def test_every_rviz_topic_is_published_or_subscribed_by_the_node(trainer, monkeypatch):
    wanted = topic_displays()
    monkeypatch.setenv("ROS_DOMAIN_ID", OWN_DOMAIN)  # read by rclpy.init in the client
    with TrainerClient(f"/{NODE}", "rviz_config_check") as client:
        graph = client.node

        def endpoints():
            try:
                pubs = graph.get_publisher_names_and_types_by_node(NODE, "/")
                subs = graph.get_subscriber_names_and_types_by_node(NODE, "/")
            except Exception:  # the node is not discovered yet
                return {}, {}
            return dict(pubs), dict(subs)

        def complete() -> bool:
            pubs, subs = endpoints()
            return all(kind in pubs.get(t, []) + subs.get(t, []) for t, kind, _ in wanted)

        # Start-up (imports torch) takes a few seconds; discovery of every endpoint a little more.
        assert client.wait_for_services(timeout=60), trainer.log()[-3000:]
        client.wait_until(complete, timeout=20)
        pubs, subs = endpoints()
        assert pubs, f"no publishers of /{NODE} discovered\n{trainer.log()[-3000:]}"
        for topic, kind, qos in wanted:
            assert topic in pubs or topic in subs, (topic, sorted(pubs), sorted(subs))
            types = pubs.get(topic, []) + subs.get(topic, [])
            assert kind in types, (topic, kind, types)
            if topic in pubs:
                # rviz2 connects: it asks no more than the node's publisher offers.
                (info,) = [
                    i
                    for i in graph.get_publishers_info_by_topic(topic)
                    if i.node_name == NODE and i.node_namespace == "/"
                ]
                if qos["Reliability Policy"] == "Reliable":
                    assert info.qos_profile.reliability == ReliabilityPolicy.RELIABLE, topic
                if qos["Durability Policy"] == "Transient Local":
                    assert info.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL, topic
            else:
                # Cameras publish reliable or best effort (the node takes both): so must rviz.
                assert qos["Reliability Policy"] == "Best Effort", topic
                assert qos["Durability Policy"] == "Volatile", topic
        # And the outputs a person watches are all there.
        shown = {topic for topic, _, _ in wanted}
        for name in ("relevancy_cloud", "markers", "relevancy_image", "nav_goal"):
            assert f"/{NODE}/{name}" in pubs and f"/{NODE}/{name}" in shown, name
    assert trainer.alive(), trainer.log()[-3000:]
