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
