"""World -> unit cube maps."""

from __future__ import annotations

import pytest
import torch

from lerf_ros.fields.contraction import (
    AabbNormalize,
    ContractionConfig,
    SceneContraction,
    make_contraction,
)

AABB = torch.tensor([[-2.0, -1.0, 0.0], [2.0, 3.0, 1.0]])


def test_aabb_normalize_maps_box_to_unit_cube():
    normalize = AabbNormalize(AABB)
    assert torch.allclose(normalize(AABB), torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]))
    assert torch.allclose(normalize(torch.tensor([[0.0, 1.0, 0.5]])), torch.full((1, 3), 0.5))
    inside = normalize.inside(torch.tensor([[0.0, 0.0, 0.5], [2.5, 0.0, 0.5]]))
    assert inside.tolist() == [True, False]


def test_scene_contraction_is_affine_inside_the_box():
    contraction = SceneContraction(AABB)
    x = AABB[0] + torch.rand(500, 3) * (AABB[1] - AABB[0])
    expected = 0.25 + 0.5 * AabbNormalize(AABB)(x)
    assert torch.allclose(contraction(x), expected, atol=1e-6)


def test_scene_contraction_squashes_space_into_the_unit_cube():
    contraction = SceneContraction(AABB)
    far = torch.tensor([[1e6, 0.5, 0.5], [-1e6, -1e6, 0.5], [0.0, 1.0, 1e9]])
    out = contraction(far)
    assert ((out >= 0.0) & (out <= 1.0)).all()
    assert out[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert out[1, 0] == pytest.approx(0.0, abs=1e-5)
    assert out[2, 2] == pytest.approx(1.0, abs=1e-6)


def test_scene_contraction_continuous_and_monotone_along_a_ray():
    contraction = SceneContraction(AABB)
    t = torch.linspace(0.0, 100.0, 20001)[:, None]
    points = torch.tensor([0.0, 1.0, 0.5]) + t * torch.tensor([1.0, 0.0, 0.0])
    x = contraction(points)[:, 0]
    steps = x[1:] - x[:-1]
    assert (steps > 0).all()  # monotone, also across the box surface at t = 2
    assert steps.max() < 1e-3  # no jump


def test_scene_contraction_gradient_is_finite_at_the_centre():
    contraction = SceneContraction(AABB)
    centre = ((AABB[0] + AABB[1]) / 2)[None].requires_grad_(True)
    contraction(centre).sum().backward()
    assert torch.isfinite(centre.grad).all()


def test_make_contraction_and_box_validation():
    assert isinstance(make_contraction(ContractionConfig("aabb"), AABB), AabbNormalize)
    assert isinstance(make_contraction(ContractionConfig("contract"), AABB), SceneContraction)
    with pytest.raises(ValueError):
        AabbNormalize(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]))
