"""Dense (DINO-role) feature maps: layout, fp16 storage and bilinear look-ups."""

import torch

from lerf_ros.features.dense import DenseFeatures, compute_dense
from lerf_ros.features.encoders.colour_minilm import ColourPatchDenseEncoder


def test_compute_dense_stores_a_half_precision_map():
    image = (torch.rand(32, 48, 3) * 255).to(torch.uint8).numpy()
    dense = compute_dense(image, ColourPatchDenseEncoder())
    assert dense.features.shape == (13, 4, 6) and dense.features.dtype == torch.float16
    assert dense.image_size == (32, 48)


def constructed_map() -> DenseFeatures:
    features = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(2, 3, 4) ** 1.5
    return DenseFeatures(features.half(), (30, 80))  # cells of 10 x 20 px


def test_sample_is_exact_at_cell_centres():
    dense = constructed_map()
    rows, cols = torch.meshgrid(torch.arange(3), torch.arange(4), indexing="ij")
    u = (cols.flatten() + 0.5) * 20
    v = (rows.flatten() + 0.5) * 10
    expected = dense.features.float().flatten(1).T
    torch.testing.assert_close(dense.sample(u, v), expected)


def test_sample_is_bilinear_between_cell_centres_and_clamped_outside():
    dense = constructed_map()
    grid = dense.features.float()
    # 30 % of the way from column centre 1 (u=30) to 2 (u=50), half-way between rows 0 and 1.
    got = dense.sample(torch.tensor([36.0]), torch.tensor([10.0]))[0]
    top = 0.7 * grid[:, 0, 1] + 0.3 * grid[:, 0, 2]
    bottom = 0.7 * grid[:, 1, 1] + 0.3 * grid[:, 1, 2]
    torch.testing.assert_close(got, 0.5 * top + 0.5 * bottom)
    corner = dense.sample(torch.tensor([-5.0]), torch.tensor([1e3]))[0]
    torch.testing.assert_close(corner, grid[:, -1, 0])


def test_round_trip_through_plain_tensors():
    dense = constructed_map()
    restored = DenseFeatures.from_tensors(dense.to_tensors())
    assert torch.equal(restored.features, dense.features)
    assert restored.image_size == dense.image_size
