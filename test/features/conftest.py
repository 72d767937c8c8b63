"""Shared fixtures of the feature tests."""

from __future__ import annotations

import pytest

from lerf_ros.features.encoders.colour_minilm import ColourMiniLMEncoder


@pytest.fixture(scope="session")
def colour_encoder() -> ColourMiniLMEncoder:
    """The offline test encoder; its sentence model loads once per test session (~5 s)."""
    return ColourMiniLMEncoder()
