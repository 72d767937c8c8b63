"""Every public interface constructs, carries its documented fields, and serialises."""

from __future__ import annotations

import pytest
from geometry_msgs.msg import Point, PoseStamped, Vector3
from rclpy.serialization import deserialize_message, serialize_message

from lerf_ros.msg import Grasp, NavigationGoal, RelevancyPeak, TrainingStatus
from lerf_ros.srv import Checkpoint, GetTargets, Query


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


def test_get_targets_structured_fields_and_error_codes():
    codes = GetTargets.Response
    assert (codes.SUCCESS, codes.NOT_READY, codes.BUSY, codes.NO_TARGET) == (0, 1, 2, 3)
    assert (codes.INVALID_REQUEST, codes.FAILED) == (4, 5)
    grasp = Grasp(width=0.05, kind=Grasp.KIND_SIDE, score=0.8, peak=2)
    grasp.pose.header.frame_id = grasp.pre_grasp_pose.header.frame_id = "map"
    grasp.approach = Vector3(x=0.0, y=1.0, z=0.0)
    goal = NavigationGoal(score=0.5, distance=0.8, visibility=0.7, peak=1)
    response = GetTargets.Response(success=True, error_code=codes.SUCCESS)
    response.header.frame_id = "map"
    response.grasps, response.goals = [grasp], [goal]
    back = roundtrip(response)
    assert back.header.frame_id == "map" and back.error_code == codes.SUCCESS
    assert back.grasps[0].kind == Grasp.KIND_SIDE and Grasp.KIND_TOP == 0
    assert back.grasps[0].approach.y == 1.0 and back.grasps[0].peak == 2
    assert back.grasps[0].width == pytest.approx(0.05)
    assert back.grasps[0].pre_grasp_pose.header.frame_id == "map"
    assert (back.goals[0].distance, back.goals[0].visibility) == pytest.approx((0.8, 0.7))


def test_checkpoint_request_and_response_fields():
    assert roundtrip(Checkpoint.Request(name="kitchen")).name == "kitchen"
    assert Checkpoint.Request().name == ""
    back = roundtrip(Checkpoint.Response(success=True, message="saved", path="/data/k.pt"))
    assert (back.success, back.message, back.path) == (True, "saved", "/data/k.pt")
