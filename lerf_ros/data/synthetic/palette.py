"""Colours and descriptions of everything the synthetic scenes contain.

Shared by the scene generator (which paints surfaces with these albedos) and by
the colour-keyed test encoder (which recognises them in images). Albedos are
linear RGB in [0, 1]; they are far apart in hue so that shading cannot confuse
one with another.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaletteEntry:
    """One recognisable material of the synthetic world."""

    key: str
    """Short identifier, also the object name used in scene.json."""
    albedo: tuple[float, float, float]
    """Linear RGB albedo in [0, 1]."""
    description: str
    """Natural-language description the test encoder embeds for this material."""


OBJECTS: tuple[PaletteEntry, ...] = (
    PaletteEntry("red ball", (0.85, 0.08, 0.08), "a red ball"),
    PaletteEntry("blue box", (0.08, 0.18, 0.85), "a blue box"),
    PaletteEntry("green can", (0.08, 0.70, 0.15), "a green can"),
    PaletteEntry("yellow book", (0.90, 0.80, 0.05), "a yellow book"),
    PaletteEntry("purple vase", (0.55, 0.10, 0.75), "a purple vase"),
    PaletteEntry("orange mug", (0.95, 0.45, 0.05), "an orange mug"),
    PaletteEntry("cyan handle", (0.05, 0.75, 0.80), "a cyan handle"),
)
"""Objects; the generator places a subset of these."""

BACKGROUND: tuple[PaletteEntry, ...] = (
    PaletteEntry("floor", (0.45, 0.45, 0.45), "a grey floor"),
    PaletteEntry("wall", (0.92, 0.90, 0.86), "a white wall"),
    PaletteEntry("table", (0.45, 0.28, 0.15), "a wooden table"),
)
"""Static surfaces of the room."""

ALL: tuple[PaletteEntry, ...] = OBJECTS + BACKGROUND


def entry(key: str) -> PaletteEntry:
    """Return the palette entry named ``key`` (KeyError if unknown)."""
    for item in ALL:
        if item.key == key:
            return item
    raise KeyError(f"no palette entry named {key!r}; known: {[e.key for e in ALL]}")
