"""A bag made from a synthetic scene, replayed with ``lerf-ros play``, trains the real node."""

from __future__ import annotations

import pytest
from online_helpers import DEMO_PARAMS, READY_TIMEOUT, explain_answer, inside, object_boxes

from lerf_ros.data.bags import write_bag
from lerf_ros.data.synthetic.export import make_scene_dataset
from lerf_ros.ros.bringup import start_cli, start_trainer
from lerf_ros.ros.client import TrainerClient

pytestmark = pytest.mark.slow


def test_bag_replay_trains_and_answers(tmp_path):
    dataset = make_scene_dataset(tmp_path / "scene", scene="default", views=30)
    bag = tmp_path / "scene_bag"
    write_bag(dataset, bag, compressed=True, compressed_format="png")
    trainer = start_trainer(
        DEMO_PARAMS,
        {"image_topics": ["/camera/image_raw/compressed"]},
        node_name="lerf_trainer",
        log_path=tmp_path / "trainer.log",
    )
    player = start_cli(["play", str(bag), "--loop"], tmp_path / "play.log")
    try:
        with TrainerClient("/lerf_trainer", "bag_test_client") as client:
            assert client.wait_for_services(60), trainer.log()[-3000:]
            assert client.wait_until_ready(READY_TIMEOUT), trainer.log()[-3000:]
            boxes = object_boxes()
            for name in ("red ball", "purple vase"):
                response = client.query(name)
                assert response.success, response.message
                assert response.peaks, (
                    explain_answer(client, name, response) + trainer.log()[-3000:]
                )
                assert inside(response.peaks[0].position, boxes[name]), (name, response.peaks[0])
            status = client.last_status
            # Replaying in a loop is fine (clock resets are followed); under CPU load a pose
            # can miss its image's deadline, which is a counted drop, not a failure.
            assert status.frames_received > 30
            assert status.frames_dropped <= 0.2 * status.frames_received, trainer.log()[-3000:]
    finally:
        player.stop()
        trainer.stop()
