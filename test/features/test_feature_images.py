"""Canonical image layout and the content hash used as cache identity."""

import numpy as np
import pytest
import torch

from lerf_ros.features.images import as_image_tensor, image_digest


def test_layouts_convert_to_channels_first_unit_range():
    pixels = np.random.default_rng(0).integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    expected = torch.from_numpy(pixels).permute(2, 0, 1).float() / 255
    for image in (pixels, torch.from_numpy(pixels), pixels / 255.0, expected):
        torch.testing.assert_close(as_image_tensor(image), expected)
    torch.testing.assert_close(as_image_tensor(expected.permute(1, 2, 0)), expected)


def test_bad_images_are_rejected():
    with pytest.raises(ValueError):
        as_image_tensor(np.zeros((4, 5)))
    with pytest.raises(ValueError):
        as_image_tensor(np.zeros((4, 5, 3), dtype=np.int32))


def test_digest_depends_on_content_shape_and_type():
    image = np.zeros((4, 6, 3), dtype=np.uint8)
    changed = image.copy()
    changed[0, 0, 0] = 1
    digests = {
        image_digest(image),
        image_digest(changed),
        image_digest(image.reshape(6, 4, 3)),
        image_digest(image.astype(np.float32)),
    }
    assert len(digests) == 4
    assert image_digest(torch.from_numpy(image)) == image_digest(image)
