"""Which frame and stamp the relevancy image gets: the rendered keyframe's camera optical frame
and image stamp, or the fixed frame when that camera is unknown or cameras raced."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import rclpy
from rclpy.context import Context
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.drops import DropLedger
from lerf_ros.engine.status import build_status
from lerf_ros.ros.query_outputs import (
    LATCHED_QOS,
    QueryOutputs,
    latest_view_frame,
    seconds_to_stamp,
)
from lerf_ros.training.keyframe_store import KeyframeStore

OPTICAL = {"camera0": "front_color_optical_frame", "camera1": "rear_color_optical_frame"}


def store_with(*cameras: str) -> KeyframeStore:
    store = KeyframeStore()
    intrinsics = Intrinsics.from_fov(8, 6, math.radians(60.0))
    for index, camera in enumerate(cameras):
        image = np.full((6, 8, 3), 40 * index, dtype=np.uint8)
        store.offer(image, intrinsics, np.eye(4), 100.0 + index, camera=camera, force=True)
    return store


def engine_with(store: KeyframeStore) -> SimpleNamespace:
    """The engine's status over ``store`` (the part of an engine a view frame reads)."""
    idle = SimpleNamespace(last_stats=None, trainer=None, rays_per_second=0.0)

    def status():
        frames = store.snapshot()
        return build_status(
            frames=frames,
            reason=None,
            paused=False,
            failed=False,
            error="",
            step=0,
            training=idle,
            drops=DropLedger(),
        )

    return SimpleNamespace(status=status)


@pytest.fixture(scope="module")
def outputs():
    context = Context()
    rclpy.init(context=context)
    node = Node("query_outputs_test", context=context)
    yield QueryOutputs(
        node,
        cloud=None,
        markers=None,
        heatmap=None,
        goals=[],
        frame_id="map",
        robot_radius=0.25,
        heatmap_width=160,
        relevancy_view=lambda *args, **kwargs: {},
    )
    node.destroy_node()
    context.try_shutdown()


def test_latched_qos_is_reliable_transient_local_depth_one():
    assert LATCHED_QOS.depth == 1
    assert LATCHED_QOS.reliability == ReliabilityPolicy.RELIABLE
    assert LATCHED_QOS.durability == DurabilityPolicy.TRANSIENT_LOCAL


def test_latest_view_frame_is_the_newest_keyframes_camera():
    store = store_with("camera0", "camera1")
    keyframe_id, frame, stamp = latest_view_frame(engine_with(store), OPTICAL)
    assert (frame, stamp) == ("rear_color_optical_frame", 101.0)
    assert keyframe_id == store.snapshot()[-1].id
    # A camera this run has no frame for (a checkpoint's): '' rather than a guess.
    assert latest_view_frame(engine_with(store_with("camera")), OPTICAL)[1] == ""
    assert latest_view_frame(None, OPTICAL) is None
    assert latest_view_frame(engine_with(KeyframeStore()), OPTICAL) is None


def test_heatmap_header_names_the_rendered_cameras_frame_and_stamp(outputs):
    frame, stamp = outputs._heatmap_header((3, "front", 12.25), (3, "front", 12.25))
    assert frame == "front" and (stamp.sec, stamp.nanosec) == (12, 250_000_000)
    # A keyframe of the same camera arrived during the render: still that camera's frame.
    assert outputs._heatmap_header((3, "front", 12.25), (4, "front", 13.0))[0] == "front"


@pytest.mark.parametrize(
    "before, after",
    [
        ((3, "front", 12.0), (4, "rear", 13.0)),  # cameras raced: which view is unknown
        ((3, "", 12.0), (3, "", 12.0)),  # the camera sent nothing in this run
        (None, None),  # no keyframe
    ],
)
def test_heatmap_header_falls_back_to_the_fixed_frame_at_render_time(outputs, before, after):
    frame, stamp = outputs._heatmap_header(before, after)
    assert frame == "map"
    assert stamp.sec > 1_000_000_000  # the node's clock now, not a keyframe stamp


def test_seconds_to_stamp_round_trips():
    stamp = seconds_to_stamp(1_700_000_000.123456789)
    assert stamp.sec == 1_700_000_000 and abs(stamp.nanosec - 123_456_789) < 1_000
    assert (seconds_to_stamp(-1.0).sec, seconds_to_stamp(-1.0).nanosec) == (0, 0)
