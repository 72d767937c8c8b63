import numpy as np

from lerf_ros.data.pose_buffer import PoseBuffer


def translation(x):
    pose = np.eye(4)
    pose[0, 3] = x
    return pose


def test_interpolates_between_neighbours_within_slop():
    buffer = PoseBuffer(slop=0.1)
    buffer.add(1.0, translation(0.0))
    buffer.add(1.1, translation(1.0))
    pose = buffer.lookup(1.05)
    assert pose is not None and abs(pose[0, 3] - 0.5) < 1e-9


def test_nearest_within_slop_out_of_order_and_duplicates():
    buffer = PoseBuffer(slop=0.05)
    assert buffer.add(2.0, translation(2.0))
    assert buffer.add(1.0, translation(1.0))  # out of order is fine
    assert not buffer.add(2.0, translation(9.0))  # duplicate stamp refused
    assert buffer.lookup(2.03)[0, 3] == 2.0
    assert buffer.lookup(1.5) is None  # too far from both
    assert buffer.lookup(5.0) is None


def test_capacity_bounds_memory():
    buffer = PoseBuffer(capacity=10)
    for i in range(100):
        buffer.add(float(i), translation(i))
    assert len(buffer.stamps) == 10 and buffer.stamps[0] == 90.0


def test_passed_once_a_pose_beyond_the_slop_is_held():
    buffer = PoseBuffer(slop=0.05)
    assert not buffer.passed(1.0)  # nothing yet: a pose may still come
    buffer.add(0.9, np.eye(4))
    assert not buffer.passed(1.0)  # the stream has not reached the stamp
    buffer.add(1.04, np.eye(4))
    assert not buffer.passed(1.0)  # within the slop: lookup can still use it
    buffer.add(1.2, np.eye(4))
    assert buffer.passed(1.0)  # gone past: no pose for 1.0 is still coming
    buffer.add(1e9, np.eye(4))  # one stray stamp far ahead...
    buffer.add(1.3, np.eye(4))  # ...then the stream goes on
    assert not buffer.passed(2.0)  # the stream (arrival order) has not reached 2.0


def test_a_duplicate_stamp_still_moves_the_stream_on():
    """A looping bag replays stamps the buffer holds: they are refused as duplicates, but
    the stream has still reached them (else the next loop's images would wait forever)."""
    buffer = PoseBuffer(slop=0.05)
    for stamp in (1.0, 2.0, 3.0):
        buffer.add(stamp, np.eye(4))
    assert not buffer.add(1.0, np.eye(4))  # the replay starts again
    assert not buffer.passed(1.5)
    assert not buffer.add(2.0, np.eye(4))
    assert buffer.passed(1.5)
