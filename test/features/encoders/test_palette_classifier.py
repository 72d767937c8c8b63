"""Pixel classification by palette colour: shading- and encoding-proof, right on renders."""

import math

import numpy as np
import pytest
import torch

from lerf_ros.cameras import Intrinsics
from lerf_ros.data.synthetic import default_scene, orbit, render_view
from lerf_ros.data.synthetic.palette import ALL
from lerf_ros.data.synthetic.render import BACKGROUND_LABELS
from lerf_ros.features.encoders.palette_classifier import PaletteClassifier, srgb_encode

KEYS = [entry.key for entry in ALL]


def flat(rgb, shading=1.0, size=(4, 5)) -> torch.Tensor:
    return (torch.tensor(rgb, dtype=torch.float32) * shading).view(1, 3, 1, 1).expand(1, 3, *size)


@pytest.mark.parametrize("index", range(len(ALL)))
@pytest.mark.parametrize("shading", [1.0, 0.7, 0.4])
@pytest.mark.parametrize("encoding", ["linear", "srgb"])
def test_every_palette_colour_is_recognised_under_shading(index, shading, encoding):
    image = flat(ALL[index].albedo, shading)
    if encoding == "srgb":
        image = srgb_encode(image)
    labels = PaletteClassifier().classify(image)
    assert {KEYS[label] for label in labels.flatten().tolist()} == {ALL[index].key}


def test_prototypes_of_different_entries_are_well_apart():
    classifier = PaletteClassifier()
    prototypes, labels = classifier._prototypes, classifier._prototype_labels
    distances = torch.cdist(prototypes, prototypes)
    different = labels[:, None] != labels[None, :]
    assert distances[different].min() > 0.05  # the module docstring promises 0.06


def test_area_fractions_count_pixels():
    red, blue = ALL[0].albedo, ALL[1].albedo
    image = torch.cat([flat(red, size=(4, 3)), flat(blue, size=(4, 1))], dim=-1)
    areas = PaletteClassifier().area_fractions(image)[0]
    assert areas[0] == pytest.approx(0.75) and areas[1] == pytest.approx(0.25)
    assert areas.sum() == pytest.approx(1.0)


def test_rendered_view_is_classified_like_its_ground_truth():
    scene = default_scene()
    camera = Intrinsics.from_fov(128, 96, math.radians(60))
    pose = orbit(scene.view.target, scene.view.radius, scene.view.height, 4)[1]
    view = render_view(scene, camera, pose)
    truth = np.full(view.instance.shape, -1)
    for index, obj in enumerate(scene.objects):
        truth[view.instance == index] = KEYS.index(obj.name)
    for index, key in enumerate(BACKGROUND_LABELS):
        truth[view.background == index] = KEYS.index(key)
    image = torch.from_numpy(view.rgb).permute(2, 0, 1)[None]
    predicted = PaletteClassifier().classify(image)[0].numpy()
    known = truth >= 0
    assert len(np.unique(truth[known])) >= 5  # several materials in view
    assert (predicted[known] == truth[known]).mean() > 0.99
