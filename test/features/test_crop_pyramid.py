"""LERF's crop pyramid: layout, crop extraction, and the interpolation of its targets."""

import pytest
import torch
import torch.nn.functional as F

from lerf_ros.data.synthetic.palette import ALL, entry
from lerf_ros.features.pyramid import (
    PyramidConfig,
    PyramidFeatures,
    compute_pyramid,
    crop_boxes,
    encode_crops,
    pyramid_layout,
)

LERF_COUNTS_640x480 = [567, 234, 154, 80, 48, 35, 30]


def test_layout_reproduces_lerf_crop_counts_at_640x480():
    layouts = pyramid_layout(480, 640, PyramidConfig())
    assert [layout.num_crops for layout in layouts] == LERF_COUNTS_640x480
    assert sum(LERF_COUNTS_640x480) == 1148
    assert [layout.tile_px for layout in layouts] == [24, 60, 96, 132, 168, 204, 240]
    # No overlap at the smallest tile, 50 % overlap from 0.15 of the height up.
    assert [layout.stride_px for layout in layouts] == [24, 37, 48, 66, 84, 102, 120]
    assert [layout.tile_fraction for layout in layouts] == pytest.approx(
        [0.05, 0.125, 0.2, 0.275, 0.35, 0.425, 0.5]
    )


def test_crop_count_does_not_depend_on_resolution():
    counts = [layout.num_crops for layout in pyramid_layout(960, 1280, PyramidConfig())]
    assert counts == LERF_COUNTS_640x480


def test_crops_are_centred_on_a_regular_grid_from_the_corner():
    layouts = pyramid_layout(480, 640, PyramidConfig())
    boxes, levels = crop_boxes(layouts)
    assert len(boxes) == 1148 and levels.bincount().tolist() == LERF_COUNTS_640x480
    first = boxes[0]  # a 24 px tile centred on the image corner, half outside (zero-padded)
    assert first.tolist() == [-12.0, -12.0, 12.0, 12.0]
    second = boxes[1]  # the next column
    assert second.tolist() == [12.0, -12.0, 36.0, 12.0]


class RecordingEncoder:
    """Returns each crop's mean colour; keeps the crops it was given."""

    dim = 3
    name = "recording"
    device = torch.device("cpu")

    def __init__(self):
        self.crops = []

    def encode_image(self, images):
        self.crops.append(images)
        return F.normalize(images.mean(dim=(2, 3)) + 1e-3, dim=-1)


def test_crops_are_cut_in_pixel_coordinates_with_zero_padding():
    image = torch.rand(3, 20, 30)
    boxes = torch.tensor([[4.0, 8.0, 12.0, 16.0], [-4.0, -4.0, 4.0, 4.0]], dtype=torch.float64)
    encoder = RecordingEncoder()
    encode_crops(image, boxes, encoder, PyramidConfig(crop_size=8))
    crops = encoder.crops[0]
    # Same size out as in: one sample per output pixel, at the input pixel centres.
    torch.testing.assert_close(crops[0], image[:, 8:16, 4:12])
    torch.testing.assert_close(crops[1, :, 4:, 4:], image[:, :4, :4])
    assert torch.all(crops[1, :, :3, :3] == 0)


def test_reflect_padding_mirrors_the_image_into_border_crops():
    image = torch.rand(3, 20, 30)
    boxes = torch.tensor([[-4.0, 0.0, 4.0, 8.0]], dtype=torch.float64)
    encoder = RecordingEncoder()
    encode_crops(image, boxes, encoder, PyramidConfig(crop_size=8, padding_mode="reflect"))
    torch.testing.assert_close(encoder.crops[0][0, :, :, :4], image[:, :8, 1:5].flip(-1))


def constructed_pyramid(dim: int = 4, seed: int = 0) -> PyramidFeatures:
    """Random (unnormalised) level tensors on LERF's layout of a 60x80 image."""
    generator = torch.Generator().manual_seed(seed)
    layouts = pyramid_layout(60, 80, PyramidConfig())
    levels = [
        torch.randn(dim, layout.rows, layout.cols, generator=generator).half() for layout in layouts
    ]
    return PyramidFeatures(levels, layouts, (60, 80))


def level_position(pyramid: PyramidFeatures, level: int) -> torch.Tensor:
    return torch.tensor([level / (len(pyramid.levels) - 1)])


def test_sample_is_exact_at_crop_centres_and_level_scales():
    pyramid = constructed_pyramid()
    for index, (level, layout) in enumerate(zip(pyramid.levels, pyramid.layouts, strict=True)):
        centre_v, centre_u = layout.centres()
        for row in range(layout.rows):
            for col in range(layout.cols):
                got = pyramid.sample(
                    centre_u[col : col + 1], centre_v[row : row + 1], level_position(pyramid, index)
                )
                expected = F.normalize(level[:, row, col].float(), dim=0)
                torch.testing.assert_close(got[0], expected)


def test_sample_is_bilinear_between_crop_centres():
    pyramid = constructed_pyramid()
    level, layout = pyramid.levels[2], pyramid.layouts[2]
    stride = layout.stride_px  # 60 x 0.2 = 12 px tiles, stride 6
    assert stride == 6
    # A quarter of the way from centre column 1 to 2 and 2/3 of the way from row 2 to 3.
    u = torch.tensor([stride * 1.25])
    v = torch.tensor([stride * (2 + 2 / 3)])
    grid = level.float()
    top = 0.75 * grid[:, 2, 1] + 0.25 * grid[:, 2, 2]
    bottom = 0.75 * grid[:, 3, 1] + 0.25 * grid[:, 3, 2]
    expected = F.normalize((1 / 3) * top + (2 / 3) * bottom, dim=0)
    torch.testing.assert_close(pyramid.sample(u, v, level_position(pyramid, 2))[0], expected)


def test_sample_is_linear_between_levels():
    pyramid = constructed_pyramid()
    # Pixel (0, 0) is a crop centre on every level; s = 0.3 x 6 = 1.8 → levels 1 and 2.
    s = torch.tensor([0.3])
    zero = torch.zeros(1)
    expected = 0.2 * pyramid.levels[1][:, 0, 0].float() + 0.8 * pyramid.levels[2][:, 0, 0].float()
    torch.testing.assert_close(pyramid.sample(zero, zero, s)[0], F.normalize(expected, dim=0))
    assert pyramid.tile_fraction_at(s).item() == pytest.approx(0.05 + 0.3 * 0.45)


def test_sample_clamps_beyond_the_outermost_centres():
    pyramid = constructed_pyramid()
    level = pyramid.levels[-1]
    far = torch.tensor([1e4])
    got = pyramid.sample(far, far, torch.ones(1))
    torch.testing.assert_close(got[0], F.normalize(level[:, -1, -1].float(), dim=0))


def test_sample_handles_a_batch_across_all_levels():
    pyramid = constructed_pyramid()
    count = 500
    generator = torch.Generator().manual_seed(1)
    u = torch.rand(count, generator=generator) * 80
    v = torch.rand(count, generator=generator) * 60
    s = torch.rand(count, generator=generator)
    batch = pyramid.sample(u, v, s)
    one_by_one = torch.cat(
        [pyramid.sample(u[i : i + 1], v[i : i + 1], s[i : i + 1]) for i in range(0, count, 50)]
    )
    assert batch.shape == (count, 4)
    torch.testing.assert_close(batch[::50], one_by_one)
    torch.testing.assert_close(torch.linalg.vector_norm(batch, dim=-1), torch.ones(count))


def test_round_trip_through_plain_tensors():
    pyramid = constructed_pyramid()
    restored = PyramidFeatures.from_tensors(pyramid.to_tensors())
    assert restored.layouts == pyramid.layouts and restored.image_size == pyramid.image_size
    for a, b in zip(restored.levels, pyramid.levels, strict=True):
        assert torch.equal(a, b)


def test_compute_pyramid_with_the_colour_encoder(colour_encoder):
    # Left half red ball, right half blue box (uint8 HxWx3, as images arrive from ROS).
    image = torch.zeros(96, 128, 3, dtype=torch.uint8)
    image[:, :64] = (torch.tensor(entry("red ball").albedo) * 255).round().to(torch.uint8)
    image[:, 64:] = (torch.tensor(entry("blue box").albedo) * 255).round().to(torch.uint8)
    config = PyramidConfig(crop_size=32, padding_mode="replicate")
    pyramid = compute_pyramid(image.numpy(), colour_encoder, config)
    assert [tuple(level.shape[1:]) for level in pyramid.levels] == [
        (layout.rows, layout.cols) for layout in pyramid.layouts
    ]
    assert all(level.dtype == torch.float16 and level.shape[0] == 384 for level in pyramid.levels)
    texts = colour_encoder.encode_text([item.description for item in ALL])
    targets = pyramid.sample(
        torch.tensor([20.0, 108.0]), torch.tensor([48.0, 48.0]), torch.zeros(2)
    )
    nearest = [ALL[i].description for i in (targets @ texts.T).argmax(dim=1).tolist()]
    assert nearest == ["a red ball", "a blue box"]
