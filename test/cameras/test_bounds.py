"""SceneBox construction and queries."""

import numpy as np
import pytest
import torch

from lerf_ros.cameras import SceneBox


def test_from_points_with_margin_and_queries():
    box = SceneBox.from_points([[0, 0, 0], [1, 2, 3], [0.5, -1, 1]], margin=0.5)
    np.testing.assert_allclose(box.minimum, [-0.5, -1.5, -0.5])
    np.testing.assert_allclose(box.maximum, [1.5, 2.5, 3.5])
    np.testing.assert_allclose(box.size(), [2.0, 4.0, 4.0])
    np.testing.assert_allclose(box.center(), [0.5, 0.5, 1.5])
    assert box.diagonal() == pytest.approx(6.0)


def test_from_cameras_accepts_positions_or_poses():
    poses = np.tile(np.eye(4), (2, 1, 1))
    poses[1, :3, 3] = [2.0, 2.0, 2.0]
    from_poses = SceneBox.from_cameras(poses, margin=0.1)
    from_positions = SceneBox.from_cameras(poses[:, :3, 3], margin=0.1)
    np.testing.assert_allclose(from_poses.minimum, from_positions.minimum)
    np.testing.assert_allclose(from_poses.maximum, [2.1, 2.1, 2.1])


def test_contains_numpy_and_torch():
    box = SceneBox([0, 0, 0], [1, 1, 1])
    points = [[0.5, 0.5, 0.5], [1.0, 1.0, 1.0], [1.01, 0.5, 0.5], [-0.1, 0.0, 0.0]]
    expected = [True, True, False, False]
    np.testing.assert_array_equal(box.contains(np.array(points)), expected)
    assert box.contains(torch.tensor(points)).tolist() == expected


def test_union_expanded_and_dict_round_trip():
    box = SceneBox([0, 0, 0], [1, 1, 1]).union(SceneBox([-1, 0.5, 0], [0.5, 2, 0.5]))
    np.testing.assert_allclose(box.minimum, [-1, 0, 0])
    np.testing.assert_allclose(box.maximum, [1, 2, 1])
    np.testing.assert_allclose(box.expanded(1.0).size(), box.size() + 2.0)
    restored = SceneBox.from_dict(box.to_dict())
    np.testing.assert_allclose(restored.as_tensor().numpy(), box.as_tensor().numpy())


def test_invalid_boxes_are_rejected():
    with pytest.raises(ValueError, match="below"):
        SceneBox([1, 0, 0], [0, 1, 1])
    with pytest.raises(ValueError, match="finite"):
        SceneBox([0, 0, np.nan], [1, 1, 1])
    with pytest.raises(ValueError, match="empty"):
        SceneBox.from_points(np.zeros((0, 3)))
