"""LERF language field: heads, scale conditioning, feature caching, detached geometry."""

from __future__ import annotations

import torch

from lerf_ros.fields.contraction import ContractionConfig
from lerf_ros.fields.hash_grid import HashGridConfig
from lerf_ros.fields.language_field import LanguageField, LanguageFieldConfig
from lerf_ros.fields.nerf_field import NerfField, NerfFieldConfig
from lerf_ros.rendering.volume import gather_samples, render_embedding, top_k_samples
from lerf_ros.samplers import ProposalNetworkSampler, ProposalSamplerConfig

AABB = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])


def tiny_config(**overrides) -> LanguageFieldConfig:
    base = {
        "grids": ((4, 8, 32), (4, 32, 64)),
        "log2_hashmap_size": 12,
        "clip_hidden": 32,
        "dino_hidden": 16,
        "clip_dim": 24,
        "dino_dim": 12,
        "mlp_backend": "torch",
    }
    return LanguageFieldConfig(**{**base, **overrides})


def tiny_field(**overrides) -> LanguageField:
    torch.manual_seed(0)
    field = LanguageField(tiny_config(**overrides), AABB)
    with torch.no_grad():  # visible spatial variation (the default init is +-1e-4)
        for encoding in field.encodings:
            encoding.table.uniform_(-1.0, 1.0)
    return field


def test_defaults_follow_lerf():
    config = LanguageFieldConfig()
    assert config.grids == ((12, 16, 128), (12, 128, 512))
    assert (config.features_per_level, config.log2_hashmap_size) == (8, 19)
    assert (config.clip_hidden, config.clip_layers, config.clip_dim) == (256, 4, 512)
    assert (config.dino_hidden, config.dino_layers, config.dino_dim) == (256, 1, 384)
    lite = LanguageFieldConfig.lite(dino_dim=0)
    assert lite.grids == ((16, 16, 512),) and lite.log2_hashmap_size == 17 and lite.dino_dim == 0


def test_outputs_are_unit_clip_and_raw_dino():
    field = tiny_field()
    out = field(torch.rand(6, 5, 3) * 2 - 1, torch.full((6, 5, 1), 0.3))
    assert out["clip"].shape == (6, 5, 24) and out["dino"].shape == (6, 5, 12)
    assert torch.allclose(out["clip"].norm(dim=-1), torch.ones(6, 5), atol=1e-5)
    assert field.feature_dim == 8 * 8  # 2 grids x 4 levels x 8 features


def test_scale_changes_clip_but_not_dino():
    field = tiny_field()
    x = torch.rand(50, 3) * 2 - 1
    small, large = field(x, torch.full((50, 1), 0.05)), field(x, torch.full((50, 1), 1.5))
    assert (small["clip"] - large["clip"]).abs().max() > 1e-3
    assert torch.equal(small["dino"], large["dino"])


def test_dino_head_disabled_and_clip_dim_from_the_encoder():
    field = LanguageField(tiny_config(dino_dim=0), AABB, clip_dim=40)
    out = field(torch.zeros(3, 3), torch.ones(3, 1))
    assert out["dino"] is None and field.dino_head is None
    assert out["clip"].shape == (3, 40)


def test_cached_features_reproduce_forward_for_a_scale_sweep():
    field = tiny_field()
    x = torch.rand(40, 3) * 2 - 1
    features = field.encode(x)
    for scale in torch.linspace(0.0, 1.5, 30):
        scales = torch.full((40, 1), float(scale))
        assert torch.equal(field.clip_from_features(features, scales), field(x, scales)["clip"])


def test_clip_loss_through_rendering_never_reaches_the_geometry():
    """Language gradients never move geometry (positions and weights are detached)."""
    torch.manual_seed(0)
    contraction = ContractionConfig("aabb")
    grid = HashGridConfig(num_levels=4, log2_hashmap_size=12, max_resolution=64)
    nerf = NerfField(NerfFieldConfig(grid=grid, contraction=contraction, mlp_backend="torch"), AABB)
    language = LanguageField(tiny_config(contraction=contraction), AABB)
    sampler = ProposalNetworkSampler(
        ProposalSamplerConfig(num_proposal_samples_per_ray=(16, 8), num_nerf_samples_per_ray=12),
        AABB,
        unbounded=False,
    )
    origins = torch.tensor([[-3.0, 0.1, 0.2]]).expand(8, 3)
    directions = torch.nn.functional.normalize(torch.randn(8, 3) * 0.1 + torch.eye(3)[0], dim=-1)
    density_fns = [lambda p: nerf.density(p)[0]] * 2
    samples, _, _ = sampler(origins, directions, density_fns)
    density, _ = nerf(samples.positions, directions[:, None, :])
    weights = samples.weights(density)
    indices, top_weights = top_k_samples(weights.detach(), k=4)
    positions = gather_samples(samples.positions.detach(), indices)
    out = language(positions, torch.full((*positions.shape[:-1], 1), 0.5))
    clip = render_embedding(top_weights, out["clip"], normalise=True)
    loss = torch.nn.functional.huber_loss(clip, torch.randn_like(clip), delta=1.25)
    loss.backward()
    assert all(p.grad is None for p in nerf.parameters())
    assert all(p.grad is not None for p in language.clip_head.parameters())
    assert any(e.table.grad.abs().sum() > 0 for e in language.encodings)
