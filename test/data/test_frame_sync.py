"""The frame-sync rules without a node: which images come out with which pose, and which are
dropped under which reason (a fake clock: every test runs in milliseconds)."""

from __future__ import annotations

import numpy as np
import pytest

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.depth import DepthError
from lerf_ros.data.drops import DropLedger
from lerf_ros.data.frame_sync import (
    MAX_STAMP_AHEAD,
    POSE_STAMP_AHEAD,
    TIME_JUMP_BACK,
    WAITING_IMAGES,
    FrameSync,
    MatchedFrame,
)
from lerf_ros.data.keyframes import Decision

INTRINSICS = Intrinsics(8, 6, 10.0, 10.0, 4.0, 3.0)
NOW = 1_700_000_000.0
"""The fake wall clock (a realistic epoch time: stamps near it are not in the future)."""


class Clock:
    def __init__(self):
        self.monotonic = 100.0
        self.wall = NOW

    def advance(self, seconds: float) -> None:
        self.monotonic += seconds


def pose_at(x: float) -> np.ndarray:
    pose = np.eye(4)
    pose[0, 3] = x
    return pose


def rgb(value: int = 0) -> np.ndarray:
    return np.full((6, 8, 3), value, dtype=np.uint8)


class Recorder:
    """Collects what FrameSync reports: drops to log and warnings."""

    def __init__(self):
        self.drops: list[tuple[str, str]] = []
        self.warnings: list[str] = []

    def drop(self, reason: str, detail: str) -> None:
        self.drops.append((reason, detail))


def make_sync(cameras=("camera0",), lookup=None, pose_wait=0.5, slop=0.05, depth_cameras=()):
    clock, ledger, recorder = Clock(), DropLedger(), Recorder()
    sync = FrameSync(
        list(cameras),
        ledger,
        slop=slop,
        pose_wait=pose_wait,
        lookup=lookup,
        monotonic=lambda: clock.monotonic,
        wall=lambda: clock.wall,
        on_drop=recorder.drop,
        on_warning=recorder.warnings.append,
        depth_cameras=depth_cameras,
    )
    for camera in cameras:
        sync.camera_info(camera, INTRINSICS)
    return sync, clock, ledger, recorder


def test_an_image_between_two_poses_within_slop_comes_out_with_the_interpolated_pose():
    sync, _, ledger, _ = make_sync()
    sync.pose("camera0", NOW - 1.0, pose_at(0.0))
    sync.pose("camera0", NOW - 0.96, pose_at(4.0))
    [frame] = sync.image("camera0", NOW - 0.98, rgb(7))
    assert isinstance(frame, MatchedFrame)
    assert (frame.camera, frame.stamp, frame.intrinsics) == ("camera0", NOW - 0.98, INTRINSICS)
    assert frame.pose[0, 3] == pytest.approx(2.0)
    assert np.all(frame.rgb == 7)
    assert ledger.frames_received == 0 and ledger.frames_dropped == 0  # the engine counts it


def test_a_pose_further_than_slop_is_not_used_and_the_image_waits():
    sync, _, ledger, _ = make_sync()
    sync.pose("camera0", NOW - 1.0, pose_at(0.0))
    assert sync.image("camera0", NOW - 0.9, rgb()) == []  # 0.1 s from the pose, slop 0.05
    assert ledger.frames_dropped == 0
    sync.pose("camera0", NOW - 0.9, pose_at(3.0))
    [frame] = sync.match()
    assert frame.pose[0, 3] == pytest.approx(3.0)
    assert sync.match() == []  # given out once


def test_an_image_waits_while_poses_keep_coming_late():
    sync, clock, ledger, _ = make_sync(pose_wait=0.3)
    assert sync.image("camera0", NOW - 10.0, rgb()) == []
    for index in range(8):  # 1.2 s of older poses: 4x pose_wait
        clock.advance(0.15)
        sync.pose("camera0", NOW - 15.0 + 0.5 * index, pose_at(index))
        assert sync.match() == []
    assert ledger.frames_dropped == 0
    sync.pose("camera0", NOW - 10.0, pose_at(9.0))
    [frame] = sync.match()
    assert frame.pose[0, 3] == pytest.approx(9.0)
    assert ledger.frames_dropped == 0


def test_an_image_the_pose_stream_has_passed_is_dropped_at_once():
    sync, _, ledger, recorder = make_sync()
    sync.pose("camera0", NOW - 3.0, pose_at(0.0))
    assert sync.image("camera0", NOW - 2.0, rgb()) == []
    sync.pose("camera0", NOW - 1.5, pose_at(1.0))
    assert sync.match() == []  # no waiting: the stream went past the stamp
    assert ledger.reasons() == {"no pose for stamp": 1}
    assert ledger.frames_received == 1
    assert recorder.drops == [("no pose for stamp", f"{NOW - 2.0:.3f}")]


def test_an_image_is_dropped_after_pose_wait_of_silence():
    sync, clock, ledger, _ = make_sync(pose_wait=0.5)
    sync.pose("camera0", NOW - 5.0, pose_at(0.0))
    clock.advance(1.0)  # the pose stream went quiet
    assert sync.image("camera0", NOW - 1.0, rgb()) == []
    clock.advance(0.4)
    assert sync.match() == [] and ledger.frames_dropped == 0  # not waited long enough
    clock.advance(0.2)
    assert sync.match() == []
    assert ledger.reasons() == {"no pose for stamp": 1}


def test_an_image_that_waited_is_kept_while_poses_still_arrive():
    """Waited past pose_wait, but the last pose came recently: the stream is alive, wait on."""
    sync, clock, ledger, _ = make_sync(pose_wait=0.5)
    assert sync.image("camera0", NOW - 1.0, rgb()) == []
    clock.advance(0.6)
    sync.pose("camera0", NOW - 2.0, pose_at(0.0))
    assert sync.match() == [] and ledger.frames_dropped == 0
    clock.advance(0.6)  # now silent for pose_wait too
    sync.match()
    assert ledger.reasons() == {"no pose for stamp": 1}


def test_a_stamp_not_increasing_is_dropped_and_a_clock_jump_back_is_followed():
    sync, _, ledger, recorder = make_sync()
    for stamp in (NOW - 100.0, NOW - 99.0):
        sync.pose("camera0", stamp, pose_at(0.0))
    assert len(sync.image("camera0", NOW - 99.0, rgb())) == 1
    assert sync.image("camera0", NOW - 99.0, rgb()) == []  # duplicate
    assert sync.image("camera0", NOW - 99.5, rgb()) == []  # a little older
    assert ledger.reasons() == {"stamp not increasing": 2}
    # A reset: far behind is a new clock, followed (and later stamps on it too).
    sync.pose("camera0", NOW - 99.0 - TIME_JUMP_BACK - 5.0, pose_at(1.0))
    [frame] = sync.image("camera0", NOW - 99.0 - TIME_JUMP_BACK - 5.0, rgb())
    assert frame.pose[0, 3] == pytest.approx(1.0)
    assert recorder.warnings == [
        f"camera0: time jumped back {TIME_JUMP_BACK + 5.0:.1f} s; following the new clock"
    ]
    assert ledger.reasons() == {"stamp not increasing": 2}


def test_a_future_stamp_is_dropped_and_does_not_become_the_last_stamp():
    sync, _, ledger, _ = make_sync()
    sync.pose("camera0", NOW - 1.0, pose_at(0.0))
    assert sync.image("camera0", NOW + 86400.0, rgb()) == []
    assert ledger.reasons() == {"stamp in the future": 1}
    # The next ordinary frame is neither "not increasing" nor a clock reset.
    [frame] = sync.image("camera0", NOW - 1.0, rgb())
    assert frame.stamp == NOW - 1.0
    assert ledger.reasons() == {"stamp in the future": 1}


def test_an_image_stamp_just_inside_the_bound_is_accepted():
    sync, _, ledger, _ = make_sync()
    assert sync.image("camera0", NOW + MAX_STAMP_AHEAD - 1.0, rgb()) == []  # waits for a pose
    assert ledger.frames_dropped == 0
    # Its pose cannot come (an hour ahead is far past the poses' bound); once the clock is
    # there, poses stamped then match it.
    sync.pose("camera0", NOW + MAX_STAMP_AHEAD - 1.0, pose_at(0.0))
    assert sync.match() == [] and ledger.reasons() == {"pose stamp in the future": 1}


def test_a_pose_just_inside_its_bound_is_kept_and_just_beyond_it_is_dropped():
    sync, clock, ledger, recorder = make_sync()
    sync.pose("camera0", NOW + POSE_STAMP_AHEAD - 0.01, pose_at(1.0))
    sync.pose("camera0", NOW + POSE_STAMP_AHEAD + 0.01, pose_at(2.0))
    assert ledger.reasons() == {"pose stamp in the future": 1}
    assert recorder.drops == [("pose stamp in the future", "camera0: 5.0 s ahead of this clock")]
    [frame] = sync.image("camera0", NOW + POSE_STAMP_AHEAD - 0.01, rgb())
    assert frame.pose[0, 3] == pytest.approx(1.0)
    # The bound follows the clock: the same stamp is accepted a second later.
    clock.wall += 1.0
    sync.pose("camera0", NOW + POSE_STAMP_AHEAD + 0.01, pose_at(2.0))
    [frame] = sync.image("camera0", NOW + POSE_STAMP_AHEAD + 0.01, rgb())
    assert frame.pose[0, 3] == pytest.approx(2.0)
    assert ledger.reasons() == {"pose stamp in the future": 1}


def test_a_future_pose_is_dropped_and_does_not_move_the_pose_stream_on():
    sync, _, ledger, recorder = make_sync()
    sync.pose("camera0", NOW + 86400.0, pose_at(5.0))
    assert ledger.reasons() == {"pose stamp in the future": 1}
    assert ledger.frames_received == 0  # a pose message is not a received frame
    assert recorder.drops == [
        ("pose stamp in the future", "camera0: 86400.0 s ahead of this clock")
    ]
    # Had it entered the buffer, the stream would look past this image's stamp.
    assert sync.image("camera0", NOW - 1.0, rgb()) == []
    assert ledger.reasons() == {"pose stamp in the future": 1}
    sync.pose("camera0", NOW - 1.0, pose_at(1.0))
    assert len(sync.match()) == 1


def test_a_flood_of_future_poses_does_not_stop_the_real_frames_matching():
    """The issue: 2,400 valid poses stamped 70 s to 3,500 s ahead (inside the images' hour),
    then 550 real frames at 30 Hz. Before, 548 of the 550 were dropped as unmatched; now every
    one is matched and the 2,400 poses are counted drops."""
    sync, clock, ledger, _ = make_sync(slop=0.02)
    period = 1 / 30
    for index in range(2000):  # a full buffer of real history first
        sync.pose("camera0", NOW - 70.0 + index * period, pose_at(0.0))
    for ahead in np.linspace(70.0, 3500.0, 2400):
        sync.pose("camera0", NOW + float(ahead), pose_at(-1.0))
    assert ledger.reasons() == {"pose stamp in the future": 2400}
    matched = []
    for index in range(550):
        clock.advance(period)
        clock.wall += period
        stamp = clock.wall - 0.01
        sync.pose("camera0", stamp, pose_at(index))
        matched += sync.image("camera0", stamp, rgb())
    assert len(matched) == 550
    assert [frame.pose[0, 3] for frame in matched] == list(range(550))
    assert ledger.reasons() == {"pose stamp in the future": 2400}
    assert ledger.frames_received == 0  # matched frames are counted by the engine


def test_a_burst_without_poses_drops_the_oldest_images():
    sync, _, ledger, _ = make_sync()
    extra = 5
    for index in range(WAITING_IMAGES + extra):
        assert sync.image("camera0", NOW - 100.0 + index * 0.1, rgb()) == []
    assert ledger.reasons() == {"too many images waiting for poses": extra}
    assert ledger.frames_received == extra
    # The newest ones are still waiting: a pose for the last one gives it out.
    last = NOW - 100.0 + (WAITING_IMAGES + extra - 1) * 0.1
    sync.pose("camera0", last, pose_at(2.0))
    frames = sync.match()
    assert [f.stamp for f in frames] == [last]
    # Every other waiting image is before the pose stream now: dropped, not kept.
    assert ledger.reasons() == {
        "too many images waiting for poses": extra,
        "no pose for stamp": WAITING_IMAGES - 1,
    }


def test_images_without_a_camera_info_are_dropped():
    ledger, recorder = DropLedger(), Recorder()
    sync = FrameSync(["camera0"], ledger, on_drop=recorder.drop, wall=lambda: NOW)
    assert sync.image("camera0", NOW - 1.0, rgb()) == []
    assert ledger.reasons() == {"no valid camera info": 1}
    assert recorder.drops == [("no valid camera info", "no camera info received yet")]


def test_a_bad_camera_info_blocks_images_until_a_valid_one_arrives():
    sync, _, ledger, recorder = make_sync()
    sync.pose("camera0", NOW - 2.0, pose_at(0.0))
    sync.pose("camera0", NOW - 1.0, pose_at(1.0))
    sync.bad_camera_info("camera0", "focal length is zero")
    assert sync.image("camera0", NOW - 2.0, rgb()) == []  # not the stale calibration
    assert ledger.reasons() == {"no valid camera info": 1}
    assert recorder.drops[-1] == ("no valid camera info", "focal length is zero")
    other = Intrinsics(8, 6, 12.0, 12.0, 4.0, 3.0)
    sync.camera_info("camera0", other)
    [frame] = sync.image("camera0", NOW - 1.0, rgb())
    assert frame.intrinsics == other


def test_bad_images_and_bad_poses_are_counted_drops():
    sync, _, ledger, recorder = make_sync()
    sync.bad_image("camera0", "encoding 32FC1 not supported")
    sync.bad_pose("camera0", "pose is in 'odom', expected 'map'")
    assert ledger.reasons() == {"bad image": 1, "bad pose": 1}
    assert ledger.frames_received == 1  # the image
    assert recorder.drops == [
        ("bad image", "encoding 32FC1 not supported"),
        ("bad pose", "pose is in 'odom', expected 'map'"),
    ]


def test_cameras_are_matched_apart():
    sync, _, ledger, _ = make_sync(cameras=("camera0", "camera1"))
    sync.pose("camera1", NOW - 1.0, pose_at(1.0))
    assert sync.image("camera0", NOW - 1.0, rgb()) == []  # camera1's pose is not camera0's
    [frame] = sync.image("camera1", NOW - 1.0, rgb())
    assert (frame.camera, frame.pose[0, 3]) == ("camera1", 1.0)
    sync.pose("camera0", NOW - 1.0, pose_at(0.0))
    [frame] = sync.match()
    assert (frame.camera, frame.pose[0, 3]) == ("camera0", 0.0)
    assert ledger.frames_dropped == 0


def test_the_tf_path_looks_poses_up_and_drops_by_waiting_alone():
    transforms: dict[float, np.ndarray] = {}
    asked: list[tuple[str, float]] = []

    def lookup(camera: str, stamp: float):
        asked.append((camera, stamp))
        return transforms.get(stamp)

    sync, clock, ledger, _ = make_sync(lookup=lookup, pose_wait=0.5)
    transforms[NOW - 3.0] = pose_at(3.0)
    [frame] = sync.image("camera0", NOW - 3.0, rgb())
    assert frame.pose[0, 3] == 3.0 and asked == [("camera0", NOW - 3.0)]
    # Not there yet: it waits (no pose stream to have passed it), then the transform comes.
    assert sync.image("camera0", NOW - 2.0, rgb()) == []
    clock.advance(0.3)
    transforms[NOW - 2.0] = pose_at(2.0)
    [frame] = sync.match()
    assert frame.pose[0, 3] == 2.0
    # Never there: dropped after pose_wait.
    assert sync.image("camera0", NOW - 1.0, rgb()) == []
    clock.advance(0.4)
    assert sync.match() == [] and ledger.frames_dropped == 0
    clock.advance(0.2)
    assert sync.match() == []
    assert ledger.reasons() == {"no pose for stamp": 1}


class FakeEngine:
    """Counts what it is offered, like LerfEngine.add_frame."""

    def __init__(self, ledger: DropLedger, answer=None, error: Exception | None = None):
        self.ledger, self.answer, self.error = ledger, answer, error
        self.frames: list[tuple] = []

    def add_frame(self, image, intrinsics, c2w, stamp, camera, depth=None):
        self.ledger.received()
        if self.error is not None:
            raise self.error
        self.frames.append((camera, stamp, c2w[0, 3]))
        return self.answer or Decision(True, "keyframe")


def frames(count: int) -> list[MatchedFrame]:
    return [
        MatchedFrame("camera0", NOW - 10.0 + i, rgb(), INTRINSICS, pose_at(i)) for i in range(count)
    ]


def test_offered_frames_reach_the_engine_which_counts_them():
    sync, _, ledger, recorder = make_sync()
    engine = FakeEngine(ledger)
    sync.offer(frames(2), engine, "loading encoders")
    assert engine.frames == [("camera0", NOW - 10.0, 0.0), ("camera0", NOW - 9.0, 1.0)]
    assert (ledger.frames_received, ledger.frames_dropped) == (2, 0)
    assert recorder.drops == []


def test_frames_before_the_engine_started_are_dropped_with_the_reason():
    sync, _, ledger, recorder = make_sync()
    sync.offer(frames(3), None, "engine failed to start: no such encoder")
    assert ledger.reasons() == {"engine not started": 3}
    assert ledger.frames_received == 3
    assert recorder.drops[0] == ("engine not started", "engine failed to start: no such encoder")


def test_a_frame_the_engine_raises_on_is_counted_once():
    sync, _, ledger, recorder = make_sync()
    sync.offer(frames(1), FakeEngine(ledger, error=RuntimeError("out of memory")), "")
    assert ledger.reasons() == {"engine rejected frame": 1}
    assert ledger.frames_received == 1  # counted by the engine, not again here
    assert recorder.drops == [("engine rejected frame", "out of memory")]


def test_an_invalid_frame_is_logged_but_counted_by_the_engine_alone():
    sync, _, ledger, recorder = make_sync()
    invalid = Decision(False, "invalid frame: pose is not a rotation")
    sync.offer(frames(1), FakeEngine(ledger, answer=invalid), "")
    assert ledger.frames_dropped == 0  # the fake engine does not count; the real one does
    assert recorder.drops == [("invalid frame", "pose is not a rotation")]
    sync.offer(frames(1), FakeEngine(ledger, answer=Decision(False, "too close")), "")
    assert len(recorder.drops) == 1  # not a keyframe is not a drop


# ------------------------------------------------------------------ depth
def depth_of(metres: float) -> np.ndarray:
    return np.full((6, 8), metres, dtype=np.float32)


def test_depth_within_slop_comes_out_with_its_colour_image():
    sync, _, ledger, _ = make_sync(depth_cameras=["camera0"])
    sync.pose("camera0", NOW - 1.0, pose_at(1.0))
    assert sync.depth("camera0", NOW - 0.98, depth_of(2.0)) == []  # no image yet
    assert sync.depth("camera0", NOW - 0.90, depth_of(9.0)) == []  # a later one, not matched
    [frame] = sync.image("camera0", NOW - 1.0, rgb(1))
    np.testing.assert_array_equal(frame.depth, depth_of(2.0))
    # The later depth image is still there for the image of its stamp.
    sync.pose("camera0", NOW - 0.9, pose_at(2.0))
    [frame] = sync.image("camera0", NOW - 0.9, rgb(2))
    np.testing.assert_array_equal(frame.depth, depth_of(9.0))
    assert (ledger.frames_without_depth, ledger.frames_dropped) == (0, 0)
    assert ledger.depth_reasons() == {}


def test_a_posed_image_waits_for_its_late_depth():
    sync, clock, ledger, _ = make_sync(depth_cameras=["camera0"])
    sync.pose("camera0", NOW - 1.0, pose_at(1.0))
    assert sync.image("camera0", NOW - 1.0, rgb(1)) == []
    clock.advance(0.4)  # within pose_wait (0.5)
    assert sync.match() == []
    [frame] = sync.depth("camera0", NOW - 1.01, depth_of(3.0))
    np.testing.assert_array_equal(frame.depth, depth_of(3.0))
    assert ledger.frames_without_depth == 0


def test_without_its_depth_an_image_trains_colour_only_and_is_counted():
    sync, clock, ledger, _ = make_sync(depth_cameras=["camera0"])
    sync.pose("camera0", NOW - 1.0, pose_at(1.0))
    sync.pose("camera0", NOW - 0.5, pose_at(2.0))
    assert sync.image("camera0", NOW - 1.0, rgb(1)) == []
    # The depth stream went past its stamp: its depth will not come.
    [frame] = sync.depth("camera0", NOW - 0.5, depth_of(2.0))
    assert frame.stamp == NOW - 1.0 and frame.depth is None
    assert ledger.frames_without_depth == 1
    # A depth stream that stops: the image goes colour-only after pose_wait.
    sync.pose("camera0", NOW - 0.4, pose_at(3.0))
    assert sync.image("camera0", NOW - 0.4, rgb(2)) == []
    clock.advance(0.6)
    [frame] = sync.match()
    assert frame.depth is None
    assert (ledger.frames_without_depth, ledger.frames_dropped) == (2, 0)


def test_bad_depth_lets_its_colour_image_go_at_once_without_depth():
    sync, clock, ledger, recorder = make_sync(depth_cameras=["camera0"])
    sync.pose("camera0", NOW - 1.0, pose_at(1.0))
    assert sync.image("camera0", NOW - 1.0, rgb(1)) == []
    [frame] = sync.bad_depth("camera0", NOW - 1.0, DepthError("depth has no reading (every 0)"))
    assert frame.depth is None
    assert ledger.depth_reasons() == {"bad depth: no reading": 1}
    assert ledger.frames_without_depth == 1
    assert ledger.frames_dropped == 0  # the colour frame was not dropped
    assert recorder.drops[-1][0] == "bad depth: no reading"
    # Without a readable stamp it is counted; the image waits until pose_wait.
    sync.pose("camera0", NOW - 0.9, pose_at(1.0))
    assert sync.image("camera0", NOW - 0.9, rgb(2)) == []
    assert sync.bad_depth("camera0", None, DepthError("something odd")) == []
    assert ledger.depth_reasons() == {"bad depth: no reading": 1, "bad depth": 1}
    clock.advance(0.6)
    [frame] = sync.match()
    assert frame.depth is None and ledger.frames_without_depth == 2


def test_a_camera_without_a_depth_topic_does_not_wait_for_depth():
    sync, _, ledger, _ = make_sync(("camera0", "camera1"), depth_cameras=["camera0"])
    for camera in ("camera0", "camera1"):
        sync.pose(camera, NOW - 1.0, pose_at(1.0))
    assert sync.image("camera0", NOW - 1.0, rgb(1)) == []
    [frame] = sync.image("camera1", NOW - 1.0, rgb(2))
    assert (frame.camera, frame.depth) == ("camera1", None)
    assert ledger.frames_without_depth == 0  # a camera without depth is not "without depth"
    [frame] = sync.depth("camera0", NOW - 1.0, depth_of(1.5))
    assert frame.camera == "camera0" and frame.depth is not None


def test_offer_passes_depth_to_the_engine():
    class Sink:
        def __init__(self):
            self.depths = []

        # The engine's signature: depth after force (passed positionally, depth became force).
        def add_frame(self, image, intrinsics, c2w, stamp, camera, force=False, depth=None):
            assert force is False
            self.depths.append(depth)
            return Decision(True, "keyframe")

    sync, _, _, _ = make_sync(depth_cameras=["camera0"])
    sync.pose("camera0", NOW - 1.0, pose_at(1.0))
    sync.depth("camera0", NOW - 1.0, depth_of(2.5))
    sink = Sink()
    sync.offer(sync.image("camera0", NOW - 1.0, rgb(1)), sink, "")
    np.testing.assert_array_equal(sink.depths[0], depth_of(2.5))


def test_set_timing_matches_the_next_image_with_the_new_slop_and_wait():
    sync, clock, ledger, _ = make_sync(pose_wait=0.5, slop=0.05)
    sync.pose("camera0", NOW - 1.0, pose_at(1.0))
    assert sync.image("camera0", NOW - 0.8, rgb()) == []  # 0.2 s from the pose, slop 0.05
    sync.set_timing(slop=0.3, pose_wait=5.0)
    [frame] = sync.match()  # the waiting image is judged by the new slop
    assert frame.pose[0, 3] == pytest.approx(1.0)
    assert sync.image("camera0", NOW - 0.5, rgb()) == []  # 0.5 s from the pose: waits
    clock.advance(1.0)  # past the old pose_wait, within the new one
    assert sync.match() == [] and ledger.frames_dropped == 0
    clock.advance(5.0)
    assert sync.match() == [] and ledger.frames_dropped == 1
