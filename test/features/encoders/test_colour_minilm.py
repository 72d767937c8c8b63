"""The offline test encoder pair: colour-keyed images, all-MiniLM-L6-v2 text."""

import pytest
import torch

from lerf_ros.data.synthetic.palette import ALL, entry
from lerf_ros.features.encoders.base import DenseEncoder, ImageTextEncoder
from lerf_ros.features.encoders.colour_minilm import ColourPatchDenseEncoder

DESCRIPTIONS = [item.description for item in ALL]


def patch_of(key: str, shading: float = 1.0, size=(40, 40)) -> torch.Tensor:
    colour = torch.tensor(entry(key).albedo) * shading
    return colour.view(1, 3, 1, 1).expand(1, 3, *size).clone()


def test_honest_identity_and_interface(colour_encoder):
    assert isinstance(colour_encoder, ImageTextEncoder)
    assert colour_encoder.dim == 384
    assert colour_encoder.name.startswith("colour-minilm/")
    assert "clip" not in colour_encoder.name.lower()


def test_red_ball_crop_embeds_nearest_a_red_ball(colour_encoder):
    image = colour_encoder.encode_image(patch_of("red ball"))
    texts = colour_encoder.encode_text(DESCRIPTIONS)
    assert image.shape == (1, 384)
    assert torch.linalg.vector_norm(image, dim=-1) == pytest.approx(1.0, abs=1e-5)
    assert DESCRIPTIONS[int((image @ texts.T).argmax())] == "a red ball"


def test_paraphrase_lands_near_the_right_object(colour_encoder):
    image = colour_encoder.encode_image(patch_of("red ball"))[0]
    crimson, blue = colour_encoder.encode_text(["crimson ball", "a blue box"])
    assert image @ crimson > image @ blue


def test_shading_does_not_change_the_embedding(colour_encoder):
    lit = colour_encoder.encode_image(patch_of("red ball"))
    shaded = colour_encoder.encode_image(patch_of("red ball", shading=0.4))
    torch.testing.assert_close(shaded, lit)


def test_mixed_crop_weighs_materials_by_area(colour_encoder):
    mostly_red = torch.cat(
        [patch_of("red ball", size=(40, 30)), patch_of("blue box", size=(40, 10))], dim=-1
    )
    image = colour_encoder.encode_image(mostly_red)[0]
    red, blue = colour_encoder.encode_text(["a red ball", "a blue box"])
    expected = torch.nn.functional.normalize(0.75 * red + 0.25 * blue, dim=0)
    torch.testing.assert_close(image, expected, atol=2e-3, rtol=0)
    assert image @ red > image @ blue


def test_text_embeddings_are_normalised_and_memoised(colour_encoder):
    first = colour_encoder.encode_text(["a red ball", "a mug"])
    again = colour_encoder.encode_text(["a mug"])
    assert first.shape == (2, 384)
    torch.testing.assert_close(torch.linalg.vector_norm(first, dim=-1), torch.ones(2))
    assert torch.equal(first[1], again[0])
    assert colour_encoder.encode_text([]).shape == (0, 384)


def test_patch_encoder_gives_palette_histogram_and_mean_rgb():
    dense = ColourPatchDenseEncoder()
    assert isinstance(dense, DenseEncoder) and dense.dim == len(ALL) + 3
    image = torch.cat([patch_of("red ball", size=(16, 8)), patch_of("wall", size=(16, 24))], dim=-1)
    features = dense.encode_dense(image)
    assert features.shape == (1, dense.dim, 2, 4)
    red, wall = (
        [item.key for item in ALL].index("red ball"),
        [item.key for item in ALL].index("wall"),
    )
    torch.testing.assert_close(features[0, : len(ALL)].sum(dim=0), torch.ones(2, 4))
    assert torch.all(features[0, red, :, 0] == 1) and torch.all(features[0, wall, :, 1:] == 1)
    torch.testing.assert_close(
        features[0, len(ALL) :, 0, 0], torch.tensor(entry("red ball").albedo)
    )
