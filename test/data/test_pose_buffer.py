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


def real_stream(start: float, count: int, rate: float = 30.0) -> list[float]:
    return [start + index / rate for index in range(count)]


def test_a_flood_of_far_future_stamps_does_not_push_out_the_real_poses():
    """The issue's numbers at the buffer alone: 2,400 poses 70 s to an hour ahead, then the
    real stream goes on. Dropping the oldest first, every new real pose (older than all the
    future ones) was the one dropped, at once; now each real pose is kept and a far-future
    one goes instead, so lookups work from the first real pose after the flood."""
    buffer = PoseBuffer(slop=0.05, capacity=2000)
    before = real_stream(1000.0, 2000)
    for stamp in before:
        buffer.add(stamp, translation(stamp))
    for stamp in np.linspace(before[-1] + 70.0, before[-1] + 3500.0, 2400):
        buffer.add(float(stamp), translation(-1.0))
    after = real_stream(before[-1] + 1 / 30, 550)
    for stamp in after:
        buffer.add(stamp, translation(stamp))
        pose = buffer.lookup(stamp)
        assert pose is not None and pose[0, 3] == stamp  # kept, and matched at once
    assert len(buffer.stamps) == 2000
    assert all(buffer.lookup(stamp + 0.01) is not None for stamp in after[:-1])  # interpolated


def test_far_stamps_interleaved_with_the_stream_do_not_evict_the_recent_poses():
    """Stray stamps far ahead and far behind, mixed into the real stream: whatever is evicted,
    the last real seconds stay in the buffer."""
    rng = np.random.default_rng(0)
    buffer = PoseBuffer(slop=0.05, capacity=500)
    stream = real_stream(5000.0, 3000)
    for index, stamp in enumerate(stream):
        buffer.add(stamp, translation(stamp))
        if index % 2:  # as many strays as real poses
            stray = stamp + rng.choice([-1.0, 1.0]) * rng.uniform(60.0, 3600.0)
            buffer.add(float(stray), translation(-1.0))
        recent = stream[max(0, index - 30) : index + 1]  # the last second
        assert all(buffer.lookup(s) is not None for s in recent), index


def test_after_a_clock_reset_the_new_poses_are_kept():
    """A bag loop or a simulator restart: the new clock is behind the whole history. Dropping
    the oldest first dropped every new pose as it arrived (the oldest held) until the new
    clock caught up with the old one; now the old clock's poses go."""
    buffer = PoseBuffer(slop=0.05, capacity=100)
    old = real_stream(500.0, 100)
    for stamp in old:
        buffer.add(stamp, translation(1.0))
    restarted = real_stream(10.0, 60)
    for stamp in restarted:
        assert buffer.add(stamp, translation(2.0))
    assert all(buffer.lookup(stamp)[0, 3] == 2.0 for stamp in restarted)
    assert len(buffer.stamps) == 100 and buffer.stamps[:60] == restarted
    assert buffer.stamps[60:] == old[:40]  # the old clock drains, farthest from the new first


def test_the_pose_just_added_is_never_the_one_evicted():
    rng = np.random.default_rng(1)
    buffer = PoseBuffer(capacity=50)
    for stamp in rng.uniform(-1e6, 1e6, 2000):
        assert buffer.add(float(stamp), np.eye(4))
        assert float(stamp) in buffer.stamps
        assert len(buffer.stamps) <= 50
