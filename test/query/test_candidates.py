import numpy as np

from lerf_ros.cameras.conventions import look_at
from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.query.candidates import Candidates, DepthView, count_views, voxel_downsample

CAMERA = Intrinsics(64, 48, 50.0, 50.0, 32.0, 24.0)


def wall_view(distance: float) -> DepthView:
    """A camera at the origin looking down +z (OpenCV axes) at a wall ``distance`` away."""
    return DepthView(CAMERA, np.eye(4), np.full((48, 64), distance, dtype=np.float32))


def test_point_behind_a_wall_is_not_counted_and_a_visible_one_is():
    points = np.array(
        [
            [0.0, 0.0, 1.0],  # in front of the wall
            [0.1, -0.1, 3.0],  # behind the wall
            [0.0, 0.0, 2.01],  # on the wall (within the tolerance)
            [0.0, 0.0, -1.0],  # behind the camera
            [5.0, 0.0, 1.0],  # outside the image
        ]
    )
    counts = count_views(points, [wall_view(2.0)])
    assert counts.tolist() == [1, 0, 1, 0, 0]


def test_counts_add_up_over_views_and_empty_space_hides_nothing():
    points = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 3.0]])
    empty = DepthView(CAMERA, np.eye(4), np.full((48, 64), np.inf, dtype=np.float32))
    # A second camera 4 m away on the other side, looking back at the origin, sees both points.
    opposite = look_at((0.0, 0.0, 4.0), (0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0))
    far_side = DepthView(CAMERA, opposite, np.full((48, 64), 10.0, dtype=np.float32))
    counts = count_views(points, [wall_view(2.0), empty, far_side])
    assert counts.tolist() == [3, 2]


def test_filtered_keeps_points_seen_by_enough_views():
    points = np.arange(12, dtype=np.float32).reshape(4, 3)
    candidates = Candidates(points, points / 12, np.array([0, 3, 5, 2], dtype=np.int32), step=7)
    kept = candidates.filtered(3)
    assert len(kept) == 2 and kept.step == 7
    np.testing.assert_array_equal(kept.points, points[[1, 2]])
    np.testing.assert_array_equal(kept.views, [3, 5])


def test_voxel_downsample_keeps_one_point_per_voxel_with_its_rows():
    points = np.array(
        [
            [0.001, 0.002, 0.003],
            [0.004, 0.001, 0.009],  # same 1 cm voxel as the first
            [0.015, 0.0, 0.0],
            [-0.001, 0.0, 0.0],  # negative side: a different voxel
            [0.016, 0.005, 0.001],  # same voxel as the third
        ]
    )
    colours = np.arange(15, dtype=np.float32).reshape(5, 3)
    kept, kept_colours = voxel_downsample(points, 0.01, colours)
    np.testing.assert_array_equal(kept, points[[0, 2, 3]])  # first of each voxel, in order
    np.testing.assert_array_equal(kept_colours, colours[[0, 2, 3]])
    keys = np.floor(kept / 0.01).astype(int)
    assert len({tuple(k) for k in keys}) == len(kept)


def test_voxel_downsample_without_a_voxel_size_or_points_is_the_identity():
    points = np.random.default_rng(0).uniform(size=(20, 3))
    (same,) = voxel_downsample(points, 0.0)
    assert same is points
    empty, empty_colours = voxel_downsample(np.zeros((0, 3)), 0.01, np.zeros((0, 3)))
    assert empty.shape == (0, 3) and empty_colours.shape == (0, 3)
