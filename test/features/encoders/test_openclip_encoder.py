"""OpenCLIP loading: the real code path with random weights; offline errors that help.

No weights can be downloaded here, so the pretrained path is exercised through its
failure: with an empty cache and downloads off it must stop with pre-fetch instructions.
"""

import pytest
import torch

from lerf_ros.features.encoders import EncoderError, ImageTextEncoder
from lerf_ros.features.encoders.openclip import CLIP_CHECKPOINT_ENV, OpenClipEncoder


@pytest.fixture(autouse=True)
def no_checkpoint_from_environment(monkeypatch):
    monkeypatch.delenv(CLIP_CHECKPOINT_ENV, raising=False)


def test_lerf_architecture_with_random_weights_encodes_images_and_text():
    encoder = OpenClipEncoder("ViT-B-16", random_weights=True)
    assert isinstance(encoder, ImageTextEncoder)
    assert encoder.dim == 512 and encoder.name == "openclip/ViT-B-16/random-seed0"
    images = torch.rand(2, 3, 60, 80)  # not 224: the encoder resizes itself
    image_features = encoder.encode_image(images)
    text_features = encoder.encode_text(["a red ball", "a blue box"])
    assert image_features.shape == (2, 512) and text_features.shape == (2, 512)
    for features in (image_features, text_features):
        assert features.dtype == torch.float32
        torch.testing.assert_close(torch.linalg.vector_norm(features, dim=-1), torch.ones(2))
    assert not torch.allclose(image_features[0], image_features[1])


def test_missing_weights_fail_offline_with_prefetch_instructions(tmp_path):
    with pytest.raises(EncoderError) as caught:
        OpenClipEncoder("ViT-B-16", pretrained="laion2b_s34b_b88k", cache_dir=str(tmp_path))
    message = str(caught.value)
    assert "pre-fetch" in message
    assert "open_clip.create_model_and_transforms('ViT-B-16', pretrained='laion2b_s34b_b88k')" in (
        message
    )
    assert CLIP_CHECKPOINT_ENV in message and "checkpoint" in message


def test_unknown_weights_tag_lists_valid_tags():
    with pytest.raises(EncoderError, match="laion2b_s34b_b88k"):
        OpenClipEncoder("ViT-B-16", pretrained="no-such-tag")


def test_missing_checkpoint_file(tmp_path, monkeypatch):
    with pytest.raises(EncoderError, match="checkpoint file not found"):
        OpenClipEncoder("ViT-B-16", checkpoint=tmp_path / "absent.bin")
    monkeypatch.setenv(CLIP_CHECKPOINT_ENV, str(tmp_path / "absent.bin"))
    with pytest.raises(EncoderError, match=CLIP_CHECKPOINT_ENV):
        OpenClipEncoder("ViT-B-16")


def test_local_checkpoint_is_loaded(tmp_path):
    # ViT-S-32 keeps the checkpoint small (fp16: ~130 MB) and the test quick.
    source = OpenClipEncoder("ViT-S-32", random_weights=True, seed=3)
    path = tmp_path / "vit-s-32.pt"
    torch.save({k: v.half() for k, v in source._model.state_dict().items()}, path)
    loaded = OpenClipEncoder("ViT-S-32", pretrained=None, checkpoint=path)
    assert loaded.name.startswith("openclip/ViT-S-32/file-vit-s-32.pt-")
    texts = ["a red ball"]
    torch.testing.assert_close(
        loaded.encode_text(texts), source.encode_text(texts), atol=2e-3, rtol=0
    )
