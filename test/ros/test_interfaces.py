"""Every public interface constructs, carries its documented fields, and serialises."""

from __future__ import annotations

import pytest
from geometry_msgs.msg import Point, PoseStamped, Vector3
from rclpy.serialization import deserialize_message, serialize_message

from lerf_ros.msg import RelevancyPeak, TrainingStatus
from lerf_ros.srv import GetTargets, Query


def roundtrip(msg):
    return deserialize_message(serialize_message(msg), type(msg))


def test_relevancy_peak_fields_roundtrip():
    peak = RelevancyPeak(
        position=Point(x=1.0, y=-2.0, z=0.5),
        relevancy=0.75,
        scale=0.3,
        extent=Vector3(x=0.1, y=0.2, z=0.3),
        support=42,
    )
    back = roundtrip(peak)
    assert back.position.y == -2.0
    assert back.relevancy == pytest.approx(0.75)
    assert back.extent.z == pytest.approx(0.3)
    assert back.support == 42


def test_training_status_fields_roundtrip():
    status = TrainingStatus(
        state="training",
        ready=True,
        step=2**40,
        keyframes=12,
        frames_received=100,
        frames_dropped=3,
        rays_per_second=5000.0,
        rgb_loss=0.01,
        clip_loss=0.2,
        dino_loss=0.3,
        loss_names=["rgb", "interlevel", "distortion", "clip", "dino"],
        loss_values=[0.01, 1e-6, 0.27, 0.2, 0.3],
        message="ok",
    )
    back = roundtrip(status)
    assert (back.state, back.ready, back.step, back.keyframes) == ("training", True, 2**40, 12)
    assert (back.frames_received, back.frames_dropped) == (100, 3)
    assert back.dino_loss == pytest.approx(0.3)
    assert list(back.loss_names) == ["rgb", "interlevel", "distortion", "clip", "dino"]
    assert list(back.loss_values) == pytest.approx([0.01, 1e-6, 0.27, 0.2, 0.3])
    assert list(TrainingStatus().loss_names) == [] and list(TrainingStatus().loss_values) == []


def test_query_request_and_response_fields():
    request = Query.Request(
        text="red mug",
        negatives=["cup"],
        scale=0.0,
        max_results=5,
        min_relevancy=0.0,
        return_cloud=True,
    )
    assert roundtrip(request).negatives == ["cup"]
    response = Query.Response(success=True, message="", frame_id="map", selected_scale=0.5)
    response.peaks = [RelevancyPeak(relevancy=0.9), RelevancyPeak(relevancy=0.8)]
    response.elapsed_seconds = 0.01
    back = roundtrip(response)
    assert [round(p.relevancy, 3) for p in back.peaks] == [0.9, 0.8]
    assert back.cloud.__class__.__name__ == "PointCloud2"
    assert back.frame_id == "map"


def test_get_targets_request_and_response_fields():
    request = GetTargets.Request(text="mug;handle", negatives=[], max_results=3)
    assert roundtrip(request).text == "mug;handle"
    pose = PoseStamped()
    pose.header.frame_id = "map"
    response = GetTargets.Response(success=True, message="", grasp_scores=[0.7])
    response.grasp_poses = [pose]
    response.navigation_goals = [pose]
    response.peaks = [RelevancyPeak(support=3)]
    back = roundtrip(response)
    assert back.grasp_poses[0].header.frame_id == "map"
    assert list(back.grasp_scores) == pytest.approx([0.7])
    assert back.peaks[0].support == 3
