"""Finding encoders by name, import path and entry point; clear errors otherwise."""

from importlib.metadata import EntryPoint

import pytest

from lerf_ros.features.encoders import EncoderError, load_dense_encoder, load_encoder, registry
from lerf_ros.features.encoders.colour_minilm import ColourMiniLMEncoder, ColourPatchDenseEncoder

COLOUR_PATH = "lerf_ros.features.encoders.colour_minilm"


def one_line_error(call, *args) -> str:
    with pytest.raises(EncoderError) as caught:
        call(*args)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_builtin_names():
    assert isinstance(load_encoder("colour-minilm"), ColourMiniLMEncoder)
    assert isinstance(load_dense_encoder("colour-patches"), ColourPatchDenseEncoder)
    assert load_dense_encoder("none") is None


def test_options_reach_the_constructor():
    assert load_dense_encoder("colour-patches", patch_size=4).patch_size == 4


def test_import_path():
    encoder = load_encoder(f"{COLOUR_PATH}:ColourMiniLMEncoder")
    assert isinstance(encoder, ColourMiniLMEncoder)


def test_entry_point(monkeypatch):
    point = EntryPoint(
        name="patches-by-plugin",
        value=f"{COLOUR_PATH}:ColourPatchDenseEncoder",
        group=registry.DENSE_ENCODER_GROUP,
    )
    monkeypatch.setattr(
        registry,
        "entry_points",
        lambda group: [point] if group == registry.DENSE_ENCODER_GROUP else [],
    )
    assert isinstance(load_dense_encoder("patches-by-plugin"), ColourPatchDenseEncoder)
    # Installed plug-ins are offered as choices when a spec is unknown.
    assert "patches-by-plugin" in one_line_error(load_dense_encoder, "nonexistent")


def test_unknown_name_lists_the_choices():
    message = one_line_error(load_encoder, "clip-but-misspelt")
    assert "clip-but-misspelt" in message
    assert "openclip" in message and "colour-minilm" in message
    assert "package.module:ClassName" in message and "lerf_ros.encoders" in message
    dense_message = one_line_error(load_dense_encoder, "dinov9")
    assert "dino" in dense_message and "none" in dense_message


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("no_such_module_for_lerf:Thing", "cannot import"),
        (f"{COLOUR_PATH}:NoSuchClass", "has no 'NoSuchClass'"),
        ("not a path:Thing", "bad import path"),
    ],
)
def test_bad_import_paths(spec, expected):
    assert expected in one_line_error(load_encoder, spec)


def test_class_lacking_the_interface():
    assert "lacks the encoder interface" in one_line_error(load_encoder, "collections:OrderedDict")
    # An image/text encoder is not a dense encoder, and vice versa.
    message = one_line_error(load_dense_encoder, f"{COLOUR_PATH}:ColourMiniLMEncoder")
    assert "lacks the dense encoder interface" in message
    message = one_line_error(load_encoder, f"{COLOUR_PATH}:ColourPatchDenseEncoder")
    assert "lacks the encoder interface" in message


def test_non_callable_target():
    assert "not a class or factory" in one_line_error(load_encoder, f"{COLOUR_PATH}:math")
