"""``lerf-ros stream`` in a child process: rendered views arrive over DDS with matching stamps."""

from __future__ import annotations

import math
import signal

import numpy as np
import pytest
from camera_stream_helpers import CameraListener, start_lerf_ros

from lerf_ros.cameras import Intrinsics
from lerf_ros.ros.conversions import camera_info_to_intrinsics, pose_to_matrix
from lerf_ros.ros.streamer import StreamConfig, prerender

VIEWS = 10
SIZE = {"width": 48, "height": 32}


def stream_args(config: StreamConfig) -> list[str]:
    args = ["stream", "--scene", config.scene, "--views", str(config.views)]
    args += ["--width", str(config.width), "--height", str(config.height)]
    args += ["--rate", str(config.rate_hz), "--supersample", str(config.supersample)]
    if config.compressed:
        args += ["--compressed", "--format", config.compressed_format]
    return args + (["--loop"] if config.loop else [])


def matching_view(rgb: np.ndarray, frames) -> int:
    """Index of the pre-rendered view equal to ``rgb`` (the stream renders the same path)."""
    matches = [i for i, frame in enumerate(frames) if np.array_equal(frame.rgb, rgb)]
    assert len(matches) == 1
    return matches[0]


@pytest.fixture
def listener(request):
    listener = CameraListener(compressed=request.param)
    yield listener
    listener.close()


@pytest.mark.parametrize("listener", [False], indirect=True)
def test_stream_publishes_each_view_once(listener, tmp_path):
    config = StreamConfig(scene="mug", views=VIEWS, rate_hz=20.0, supersample=1, **SIZE)
    streamer = start_lerf_ros(stream_args(config), tmp_path / "stream.log")
    _, frames = prerender(config)  # renders while the child starts
    try:
        listener.spin_until(lambda: len(listener.images) >= VIEWS, 30)
        assert streamer.process.wait(timeout=10) == 0, streamer.log()
        listener.spin_until(lambda: len(listener.infos) >= VIEWS, 1)  # stragglers
    finally:
        streamer.stop()
    assert f"published {VIEWS} frames" in streamer.log()
    # Image, pose and info of one frame share a stamp.
    complete = set(listener.images) & set(listener.poses) & set(listener.infos)
    assert len(complete) >= 0.9 * VIEWS, streamer.log()
    for stamp in complete:
        view = matching_view(listener.images[stamp], frames)
        pose = listener.poses[stamp]
        np.testing.assert_allclose(pose_to_matrix(pose.pose), frames[view].c2w, atol=1e-9)
        assert pose.header.frame_id == "map"
        intrinsics = camera_info_to_intrinsics(listener.infos[stamp])
        assert intrinsics == Intrinsics.from_fov(48, 32, math.radians(60)).validate()
    assert listener.image_frame_ids == {"camera_optical"}
    # The renderer's exact depth with the same stamp, as 16UC1 mm (nothing hit: 0).
    with_depth = complete & set(listener.depths)
    assert len(with_depth) >= 0.9 * VIEWS, streamer.log()
    for stamp in with_depth:
        exact = frames[matching_view(listener.images[stamp], frames)].depth
        expected = np.where(np.isfinite(exact), exact, 0.0)
        np.testing.assert_allclose(listener.depths[stamp], expected, atol=5e-4 + 1e-6)
    # Stamps are taken at publish time on a fixed 20 Hz schedule.
    stamps = sorted(listener.images)
    mean_period = (stamps[-1] - stamps[0]) / (len(stamps) - 1) * 1e-9
    assert 0.04 < mean_period < 0.07, mean_period


@pytest.mark.parametrize("listener", [True], indirect=True)
def test_compressed_loop_until_interrupted(listener, tmp_path):
    config = StreamConfig(
        scene="wall",
        views=3,
        rate_hz=10.0,
        supersample=1,
        loop=True,
        compressed=True,
        compressed_format="png",
        **SIZE,
    )
    streamer = start_lerf_ros(stream_args(config), tmp_path / "loop.log")
    _, frames = prerender(config)
    try:
        assert listener.spin_until(lambda: len(listener.images) >= 6, 30), streamer.log()
        streamer.process.send_signal(signal.SIGINT)
        assert streamer.process.wait(timeout=10) == 0, streamer.log()
    finally:
        streamer.stop()
    # Looping goes round the path again with fresh stamps (6 distinct stamps, 3 views);
    # png is lossless, so every image is exactly one of the rendered views.
    views = [matching_view(listener.images[stamp], frames) for stamp in sorted(listener.images)]
    assert len(views) >= 6 and set(views) == {0, 1, 2}
