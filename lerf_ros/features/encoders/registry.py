"""Find an encoder by name, by import path or by installed entry point.

A spec is one of:
- a built-in name (``openclip``, ``colour-minilm``; dense: ``dino``, ``colour-patches``,
  ``none``);
- an import path ``package.module:ClassName`` (the class, or any factory, is called with
  the given options — none by default);
- the name of an entry point in group ``lerf_ros.encoders`` (dense:
  ``lerf_ros.dense_encoders``) that another installed package declares.

Specs come only from start-up configuration (node parameters, config files, command
lines), never from network requests: importing a module runs its code, so a spec must be
as trusted as the configuration itself.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from lerf_ros.features.encoders.base import DenseEncoder, EncoderError, ImageTextEncoder

ENCODER_GROUP = "lerf_ros.encoders"
"""Entry-point group for third-party image/text encoders."""
DENSE_ENCODER_GROUP = "lerf_ros.dense_encoders"
"""Entry-point group for third-party dense encoders."""

_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def _openclip(**options: Any) -> ImageTextEncoder:
    from lerf_ros.features.encoders.openclip import OpenClipEncoder

    return OpenClipEncoder(**options)


def _colour_minilm(**options: Any) -> ImageTextEncoder:
    from lerf_ros.features.encoders.colour_minilm import ColourMiniLMEncoder

    return ColourMiniLMEncoder(**options)


def _dino(**options: Any) -> DenseEncoder:
    from lerf_ros.features.encoders.dino import DinoEncoder

    return DinoEncoder(**options)


def _colour_patches(**options: Any) -> DenseEncoder:
    from lerf_ros.features.encoders.colour_minilm import ColourPatchDenseEncoder

    return ColourPatchDenseEncoder(**options)


# Factories import their modules lazily: open_clip and timm take seconds to import.
BUILTIN_ENCODERS: dict[str, Callable[..., ImageTextEncoder]] = {
    "openclip": _openclip,
    "colour-minilm": _colour_minilm,
}
"""Built-in image/text encoders by name."""
BUILTIN_DENSE_ENCODERS: dict[str, Callable[..., DenseEncoder]] = {
    "dino": _dino,
    "colour-patches": _colour_patches,
}
"""Built-in dense encoders by name (``none`` means no dense encoder)."""


def load_encoder(spec: str, **options: Any) -> ImageTextEncoder:
    """Build the image/text encoder ``spec`` names, passing ``options`` to its constructor."""
    encoder = _build(spec, BUILTIN_ENCODERS, ENCODER_GROUP, options)
    if not isinstance(encoder, ImageTextEncoder):
        raise EncoderError(
            f"{spec!r} built a {type(encoder).__name__}, which lacks the encoder interface "
            "(dim, name, device, to, encode_image, encode_text)"
        )
    return encoder


def load_dense_encoder(spec: str, **options: Any) -> DenseEncoder | None:
    """Build the dense encoder ``spec`` names, or return None for ``none``."""
    if spec.strip().lower() == "none":
        return None
    encoder = _build(spec, BUILTIN_DENSE_ENCODERS, DENSE_ENCODER_GROUP, options)
    if not isinstance(encoder, DenseEncoder):
        raise EncoderError(
            f"{spec!r} built a {type(encoder).__name__}, which lacks the dense encoder "
            "interface (dim, name, device, to, encode_dense)"
        )
    return encoder


def _build(spec: str, builtins: dict[str, Callable], group: str, options: dict) -> Any:
    spec = spec.strip()
    if spec in builtins:
        return builtins[spec](**options)
    if ":" in spec:
        return _call(_import(spec), spec, options)
    installed = {point.name: point for point in entry_points(group=group)}
    if spec in installed:
        try:
            factory = installed[spec].load()
        except Exception as error:  # a broken plug-in package can raise anything here
            raise EncoderError(f"entry point {spec!r} ({group}) failed to load: {error}") from error
        return _call(factory, spec, options)
    choices = [*builtins, *(["none"] if group == DENSE_ENCODER_GROUP else []), *installed]
    raise EncoderError(
        f"unknown encoder {spec!r}; valid choices: {', '.join(choices)}, "
        f"or an import path 'package.module:ClassName', or an entry point of group {group!r}"
    )


def _import(spec: str) -> Any:
    if not _IMPORT_PATH.match(spec):
        raise EncoderError(f"bad import path {spec!r}; expected 'package.module:ClassName'")
    module_name, _, attribute_path = spec.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise EncoderError(f"bad import path {spec!r}: cannot import {module_name!r}") from error
    for attribute in attribute_path.split("."):
        if not hasattr(target, attribute):
            raise EncoderError(f"bad import path {spec!r}: {module_name!r} has no {attribute!r}")
        target = getattr(target, attribute)
    return target


def _call(factory: Any, spec: str, options: dict) -> Any:
    if not callable(factory):
        raise EncoderError(f"{spec!r} names a {type(factory).__name__}, not a class or factory")
    return factory(**options)
