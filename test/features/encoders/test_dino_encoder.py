"""DINO ViT-S/8 through timm: the real architecture with random weights, LERF's key facet."""

import pytest
import torch

from lerf_ros.features.encoders import DenseEncoder, EncoderError
from lerf_ros.features.encoders.dino import DINO_CHECKPOINT_ENV, DinoEncoder, patch_grid


@pytest.fixture(scope="module")
def dino() -> DinoEncoder:
    return DinoEncoder(random_weights=True, load_size=32)


def test_dense_key_features_on_a_grid_spanning_the_image(dino):
    assert isinstance(dino, DenseEncoder)
    assert dino.dim == 384 and dino.facet == "key" and "random-seed0" in dino.name
    images = torch.rand(2, 3, 24, 32)
    features = dino.encode_dense(images)
    # Shorter side 24 → 32 px: 32 x 42.7 px → 4 x 5 whole patches of 8 px.
    assert features.shape == (2, 384, 4, 5) == (2, 384, *dino.grid_size(24, 32))
    assert torch.isfinite(features).all()


def test_lerf_grid_at_load_size_500():
    assert patch_grid(480, 640, load_size=500, patch_size=8) == (62, 83)


def test_key_facet_is_the_last_blocks_attention_keys(dino):
    images = torch.rand(1, 3, 32, 40)
    features = dino.encode_dense(images)
    model = dino._model
    with torch.inference_mode():
        x = (images - dino._mean) / dino._std
        tokens = model.norm_pre(model.patch_drop(model._pos_embed(model.patch_embed(x))))
        for block in model.blocks[:-1]:
            tokens = block(tokens)
        qkv = model.blocks[-1].attn.qkv(model.blocks[-1].norm1(tokens))
    keys = qkv[:, model.num_prefix_tokens :, dino.dim : 2 * dino.dim]
    expected = keys.transpose(1, 2).reshape(1, dino.dim, *features.shape[-2:])
    torch.testing.assert_close(features, expected, atol=1e-4, rtol=1e-4)


def test_token_facet():
    token = DinoEncoder(random_weights=True, load_size=None, facet="token")
    assert token.encode_dense(torch.rand(1, 3, 16, 24)).shape == (1, 384, 2, 3)


def test_missing_weights_fail_offline_with_prefetch_instructions(tmp_path, monkeypatch):
    monkeypatch.delenv(DINO_CHECKPOINT_ENV, raising=False)
    with pytest.raises(EncoderError) as caught:
        DinoEncoder(cache_dir=str(tmp_path))
    message = str(caught.value)
    assert "pre-fetch" in message and "timm.create_model('vit_small_patch8_224.dino'" in message
    assert DINO_CHECKPOINT_ENV in message


def test_missing_checkpoint_file(tmp_path):
    with pytest.raises(EncoderError, match="checkpoint file not found"):
        DinoEncoder(checkpoint=tmp_path / "dino.pth")


def test_local_checkpoint_is_loaded(dino, tmp_path):
    path = tmp_path / "dino_vits8.pth"
    torch.save(dino._model.state_dict(), path)
    loaded = DinoEncoder(checkpoint=path, load_size=32, seed=1)  # a different random init
    assert "file-dino_vits8.pth-" in loaded.name
    images = torch.rand(1, 3, 24, 32)
    torch.testing.assert_close(loaded.encode_dense(images), dino.encode_dense(images))
