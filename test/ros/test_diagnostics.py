"""``/diagnostics`` from a real ``lerf_trainer`` over DDS: the entries diagnostic_aggregator
reads, with levels that follow the node's state. The node is the unmanaged default: it must
also have configured and activated itself (``~/get_state`` says ``active``)."""

from __future__ import annotations

import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from lifecycle_msgs.srv import GetState
from online_helpers import DEMO_PARAMS
from sensor_msgs.msg import Image

from lerf_ros.ros.bringup import start_trainer
from lerf_ros.ros.client import TrainerClient

NODE = "lerf_trainer_diagnostics"
ENTRIES = ["training", "frames", "feature queue", "memory", "last error"]


class DiagnosticsListener:
    def __init__(self, client: TrainerClient):
        self.arrays: list[DiagnosticArray] = []
        client.node.create_subscription(DiagnosticArray, "/diagnostics", self.arrays.append, 10)

    def latest(self) -> dict[str, DiagnosticStatus]:
        ours = [a for a in self.arrays if a.status and a.status[0].hardware_id == NODE]
        return {s.name.removeprefix(f"{NODE}: "): s for s in ours[-1].status} if ours else {}


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    log = tmp_path_factory.mktemp("diagnostics") / "node.log"
    trainer = start_trainer(DEMO_PARAMS, {"depth_topics": [""]}, node_name=NODE, log_path=log)
    client = TrainerClient(f"/{NODE}", "diagnostics_test")
    listener = DiagnosticsListener(client)
    try:
        assert client.wait_for_services(60), trainer.log()
        yield trainer, client, listener
    finally:
        client.close()
        trainer.stop()


def test_the_unmanaged_default_activates_itself(node):
    trainer, client, _ = node
    get_state = client.node.create_client(GetState, f"/{NODE}/get_state")
    assert get_state.wait_for_service(timeout_sec=30)

    def state() -> str:
        future = get_state.call_async(GetState.Request())
        assert client.wait_until(future.done, 30)
        return future.result().current_state.label

    assert client.wait_until(lambda: state() == "active", 60), trainer.log()
    assert client.wait_until(lambda: getattr(client.last_status, "state", "") == "waiting", 10)
    assert client.last_status.message == "not ready: no keyframes received yet"


def test_diagnostics_name_every_entry_with_its_numbers_and_ok_levels(node):
    trainer, client, listener = node

    def engine_built() -> bool:  # its numbers are there once the encoders have loaded
        training = listener.latest().get("training")
        return training is not None and any(kv.key == "step" for kv in training.values)

    assert client.wait_until(engine_built, 60), trainer.log()
    entries = listener.latest()
    assert list(entries) == ENTRIES
    for status in entries.values():
        assert status.hardware_id == NODE
        assert status.level == DiagnosticStatus.OK, (status.name, status.message)
    values = {name: {kv.key: kv.value for kv in s.values} for name, s in entries.items()}
    assert values["training"]["lifecycle"] == "active"
    assert values["training"]["state"] == "waiting" and values["training"]["keyframes"] == "0"
    assert {"depth", "capacity", "overflows"} <= set(values["feature queue"])
    assert int(values["feature queue"]["capacity"]) > 0
    assert int(values["memory"]["host_rss_mib"]) > 100  # torch and the encoders are loaded
    assert entries["last error"].message == "none"


def test_a_stream_of_bad_frames_turns_frames_to_warn_with_the_reason(node):
    trainer, client, listener = node
    publisher = client.node.create_publisher(Image, "/camera/image_raw", 10)
    assert client.wait_until(lambda: publisher.get_subscription_count() > 0, 10)
    for second in range(10):
        bad = Image(height=48, width=64, encoding="32FC1", step=64 * 4, data=bytes(64 * 48 * 4))
        bad.header.frame_id, bad.header.stamp.sec = "camera", 100 + second
        publisher.publish(bad)
        client.spin_for(0.1)

    def warned() -> bool:
        frames = listener.latest().get("frames")
        return frames is not None and frames.level == DiagnosticStatus.WARN

    assert client.wait_until(warned, 10), listener.latest().get("frames")
    frames = listener.latest()["frames"]
    assert "frames dropped" in frames.message
    reasons = {kv.key: int(kv.value) for kv in frames.values if kv.key.startswith("dropped: ")}
    assert sum(reasons.values()) >= 5, reasons
    assert client.last_status.frames_dropped >= sum(reasons.values())
    assert trainer.alive()
