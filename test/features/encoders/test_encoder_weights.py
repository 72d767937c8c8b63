"""Weight-loading rules shared by the CLIP and DINO encoders."""

import os

import huggingface_hub.constants as hub_constants
import pytest

from lerf_ros.features.encoders import EncoderError
from lerf_ros.features.encoders.weights import checkpoint_tag, hub_offline, resolve_checkpoint


def test_hub_offline_switches_the_already_imported_hub_and_restores_it(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    with hub_offline():
        assert os.environ["HF_HUB_OFFLINE"] == "1" and hub_constants.is_offline_mode()
    assert "HF_HUB_OFFLINE" not in os.environ and not hub_constants.is_offline_mode()
    with hub_offline(enabled=False):
        assert not hub_constants.is_offline_mode()


def test_checkpoint_parameter_wins_over_the_environment(tmp_path, monkeypatch):
    given, from_env = tmp_path / "given.pt", tmp_path / "env.pt"
    given.write_bytes(b"1")
    from_env.write_bytes(b"2")
    monkeypatch.setenv("LERF_TEST_CHECKPOINT", str(from_env))
    assert resolve_checkpoint(given, "LERF_TEST_CHECKPOINT") == given
    assert resolve_checkpoint(None, "LERF_TEST_CHECKPOINT") == from_env
    monkeypatch.delenv("LERF_TEST_CHECKPOINT")
    assert resolve_checkpoint(None, "LERF_TEST_CHECKPOINT") is None
    with pytest.raises(EncoderError, match="not found"):
        resolve_checkpoint(tmp_path / "missing.pt", "LERF_TEST_CHECKPOINT")


def test_checkpoint_tag_follows_the_content(tmp_path):
    path = tmp_path / "weights.pt"
    path.write_bytes(b"a" * 100)
    first = checkpoint_tag(path)
    path.write_bytes(b"b" * 100)
    assert checkpoint_tag(path) != first and first.startswith("file-weights.pt-")
