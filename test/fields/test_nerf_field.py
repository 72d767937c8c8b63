"""Radiance field and proposal density fields."""

from __future__ import annotations

import torch

from lerf_ros.fields.contraction import ContractionConfig
from lerf_ros.fields.hash_grid import HashGridConfig
from lerf_ros.fields.nerf_field import (
    DensityField,
    NerfField,
    NerfFieldConfig,
    proposal_field_configs,
)

AABB = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
SMALL_GRID = HashGridConfig(num_levels=4, log2_hashmap_size=12, max_resolution=64)


def small_field(**overrides) -> NerfField:
    torch.manual_seed(0)
    config = NerfFieldConfig(grid=SMALL_GRID, mlp_backend="torch", **overrides)
    return NerfField(config, AABB)


def test_shapes_ranges_and_gradients_reach_every_part():
    field = small_field()
    positions = torch.rand(5, 7, 3) * 2 - 1
    directions = torch.nn.functional.normalize(torch.randn(5, 1, 3), dim=-1)
    density, rgb = field(positions, directions)
    assert density.shape == (5, 7, 1) and rgb.shape == (5, 7, 3)
    assert (density >= 0).all() and ((rgb > 0) & (rgb < 1)).all()
    (density.sum() + rgb.sum()).backward()
    for name, parameter in field.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_density_only_path_returns_geometry_features():
    field = small_field()
    density, features = field.density(torch.zeros(10, 3))
    assert density.shape == (10, 1) and features.shape == (10, 15)


def test_bounded_field_has_zero_density_outside_the_box():
    field = small_field(contraction=ContractionConfig("aabb"))
    inside = torch.rand(50, 3) * 1.8 - 0.9
    outside = inside + torch.tensor([3.0, 0.0, 0.0])
    assert (field.density(inside)[0] > 0).all()
    assert (field.density(outside)[0] == 0).all()


def test_unbounded_field_represents_far_points():
    field = small_field(contraction=ContractionConfig("contract"))
    far = torch.tensor([[50.0, -20.0, 3.0]])
    assert field.density(far)[0].item() > 0


def test_colour_depends_on_view_direction():
    field = small_field()
    positions = torch.zeros(2, 3)
    directions = torch.tensor([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]])
    _, rgb = field(positions, directions)
    assert not torch.allclose(rgb[0], rgb[1])


def test_appearance_embedding_changes_colour_per_image():
    field = small_field(appearance_embedding_dim=8, max_num_images=4)
    with torch.no_grad():
        field.appearance.weight[1] += 5.0
    positions = torch.zeros(2, 3)
    directions = torch.tensor([[0.0, 0.0, 1.0]]).expand(2, 3)
    _, rgb = field(positions, directions, camera_indices=torch.tensor([0, 1]))
    assert not torch.allclose(rgb[0], rgb[1])
    _, rgb_mean = field(positions, directions)  # novel view: mean code
    assert torch.allclose(rgb_mean[0], rgb_mean[1])
    # Per-ray indices [R] broadcast over the samples of [R, S] positions.
    _, per_ray = field(
        torch.zeros(2, 5, 3), directions[:, None], camera_indices=torch.tensor([0, 1])
    )
    assert torch.allclose(per_ray[0], rgb[0].expand(5, 3)) and torch.allclose(per_ray[1], rgb[1])


def test_proposal_density_fields_match_nerfacto():
    configs = proposal_field_configs()
    assert [c.grid.max_resolution for c in configs] == [128, 256]
    assert all(c.grid.num_levels == 5 and c.grid.log2_hashmap_size == 17 for c in configs)
    field = DensityField(configs[0], AABB)
    density = field(torch.rand(3, 4, 3))
    assert density.shape == (3, 4, 1) and (density > 0).all()


def test_cpu_preset_is_smaller_than_the_default():
    from lerf_ros.training.config import LerfConfig  # the one place presets live

    preset, default = LerfConfig.cpu().nerf, NerfFieldConfig()
    assert preset.grid.log2_hashmap_size < default.grid.log2_hashmap_size
    assert preset.grid.max_resolution < default.grid.max_resolution
