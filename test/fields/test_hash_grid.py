"""Hash grid: the fast PyTorch backend against a slow, obviously-correct reference (and tcnn)."""

from __future__ import annotations

import pytest
import torch

from lerf_ros.fields.hash_grid import (
    HASH_PRIMES,
    HashGridConfig,
    HashGridEncoding,
    grid_layout,
)

CONFIGS = {
    "dense_only": HashGridConfig(num_levels=3, base_resolution=4, max_resolution=16),
    "mixed": HashGridConfig(num_levels=6, log2_hashmap_size=12, max_resolution=256),
    "wide_features": HashGridConfig(
        num_levels=4, features_per_level=8, log2_hashmap_size=10, max_resolution=64
    ),
    "int64_indices": HashGridConfig(num_levels=2, base_resolution=2048, max_resolution=4096),
}


def reference_encoding(table: torch.Tensor, x: torch.Tensor, config: HashGridConfig):
    """tcnn's HashGrid, level by level, with all 8 corners materialised; plain autograd."""
    layout = grid_layout(config)
    x = x.to(torch.float32).clamp(0.0, 1.0)
    corners = torch.tensor([[(c >> d) & 1 for d in range(3)] for c in range(8)])  # [8, 3]
    outputs = []
    for level, scale in enumerate(layout.scales):
        # tcnn: pos = fmaf(scale, x, 0.5); float64 then one rounding reproduces the fma.
        pos = (x.double() * scale + 0.5).float()
        cell = pos.floor()
        frac = pos - cell
        vertex = cell.long()[:, None, :] + corners  # [N, 8, 3]
        if layout.hashed[level]:
            index = vertex[..., 0] * HASH_PRIMES[0]
            index = index ^ (vertex[..., 1] * HASH_PRIMES[1])
            index = index ^ (vertex[..., 2] * HASH_PRIMES[2])
            index = index & 0xFFFFFFFF  # uint32 arithmetic
        else:
            res = layout.resolutions[level]
            index = vertex[..., 0] + vertex[..., 1] * res + vertex[..., 2] * res * res
        index = index % layout.sizes[level] + layout.offsets[level]
        values = table[index]  # [N, 8, F]
        axis = torch.where(corners.bool(), frac[:, None, :], 1.0 - frac[:, None, :])  # [N, 8, 3]
        weights = (axis[..., 0] * axis[..., 1] * axis[..., 2]).to(table.dtype)
        # Corners summed in the backend's order with its fused multiply-add: bitwise equal.
        level_out = values[:, 0] * weights[:, 0, None]
        for c in range(1, 8):
            level_out = torch.addcmul(level_out, values[:, c], weights[:, c, None])
        outputs.append(level_out)
    return torch.cat(outputs, dim=-1)


def random_encoding(config: HashGridConfig, dtype=torch.float32, seed=0) -> HashGridEncoding:
    torch.manual_seed(seed)
    encoding = HashGridEncoding(config)
    with torch.no_grad():
        encoding.table.data = torch.empty_like(encoding.table, dtype=dtype).uniform_(-1.0, 1.0)
    return encoding


def random_points(n: int, seed=1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, generator=generator)
    x[:4] = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.5], [1.0, 0.0, 0.25]])
    return x


def test_default_layout_matches_tcnn_rules():
    config = HashGridConfig()
    layout = grid_layout(config)
    assert config.base_resolution * config.per_level_scale ** (config.num_levels - 1) == (
        pytest.approx(config.max_resolution)
    )
    # Level 0: scale 15, 16 vertices per axis, dense, 16^3 rows.
    assert layout.scales[0] == 15.0 and layout.resolutions[0] == 16
    assert layout.sizes[0] == 16**3 and not layout.hashed[0]
    for res, size, hashed in zip(layout.resolutions, layout.sizes, layout.hashed, strict=True):
        assert hashed == (res**3 > 2**19)
        assert size == (2**19 if hashed else -(-(res**3) // 8) * 8)
    assert list(layout.hashed) == sorted(layout.hashed)  # dense levels first
    assert layout.offsets[1:] == tuple(
        o + s for o, s in zip(layout.offsets[:-1], layout.sizes[:-1], strict=True)
    )
    encoding = HashGridEncoding(config)
    assert encoding.table.shape == (layout.num_rows, 2)
    assert encoding.out_dim == 32
    assert encoding.table.abs().max() <= 1e-4  # instant-ngp's init


@pytest.mark.parametrize("name", list(CONFIGS))
def test_forward_bitwise_equal_to_reference(name):
    config = CONFIGS[name]
    encoding = random_encoding(config)
    x = random_points(3000)
    out = encoding(x)
    assert out.shape == (3000, config.out_dim)
    assert torch.equal(out, reference_encoding(encoding.table, x, config))


@pytest.mark.parametrize("name", ["mixed", "wide_features"])
def test_table_gradient_equals_reference(name):
    config = CONFIGS[name]
    encoding = random_encoding(config, dtype=torch.float64)
    x = random_points(2000)
    upstream = torch.randn(2000, config.out_dim, dtype=torch.float64)
    (fast,) = torch.autograd.grad(encoding(x), encoding.table, upstream)
    table = encoding.table.detach().clone().requires_grad_(True)
    (slow,) = torch.autograd.grad(reference_encoding(table, x, config), table, upstream)
    torch.testing.assert_close(fast, slow, rtol=1e-12, atol=1e-12)
    assert fast.abs().sum() > 0


def test_gradient_only_on_touched_rows_and_weights_sum_to_one():
    config = CONFIGS["mixed"]
    encoding = random_encoding(config)
    x = torch.tensor([[0.3, 0.6, 0.9]])
    encoding(x).sum().backward()
    grad = encoding.table.grad
    touched = grad.abs().sum(dim=1) > 0
    layout = grid_layout(config)
    assert 0 < int(touched.sum()) <= 8 * config.num_levels
    # Every touched row lies in the level it belongs to, at most 8 per level.
    rows = touched.nonzero()[:, 0]
    for offset, size in zip(layout.offsets, layout.sizes, strict=True):
        assert int(((rows >= offset) & (rows < offset + size)).sum()) <= 8
    # Trilinear weights of a point sum to 1 per level and feature.
    assert grad.sum().item() == pytest.approx(config.num_levels * config.features_per_level)


def test_output_continuous_across_cell_boundaries():
    config = CONFIGS["mixed"]
    encoding = random_encoding(config)
    layout = grid_layout(config)
    eps = 1e-5
    for scale in layout.scales[1:]:
        # x * scale + 0.5 = k lies on a vertex plane of this level.
        k = int(scale * 0.37)
        boundary = (k - 0.5) / scale
        base = torch.tensor([[0.21, 0.53, 0.77]])
        left, right = base.clone(), base.clone()
        left[0, 0], right[0, 0] = boundary - eps, boundary + eps
        jump = (encoding(left) - encoding(right)).abs().max().item()
        # Lipschitz bound of a trilinear function of +-1 values at the finest scale.
        assert jump <= 2 * 2 * eps * max(layout.scales) * 1.01


def test_outputs_differ_between_levels_and_points():
    encoding = random_encoding(CONFIGS["mixed"])
    out = encoding(torch.rand(100, 3))
    assert out.std(dim=0).min() > 0.01  # every feature varies over space


def test_tcnn_parity():
    tcnn = pytest.importorskip("tinycudann")
    if not torch.cuda.is_available():
        pytest.skip("tinycudann needs CUDA")
    config = HashGridConfig(num_levels=8, log2_hashmap_size=15, max_resolution=512)
    ours = random_encoding(config)
    theirs = tcnn.Encoding(3, config.tcnn_config(), dtype=torch.float32).cuda()
    with torch.no_grad():
        theirs.params.copy_(ours.table.reshape(-1).cuda())
    x = torch.rand(5000, 3)
    expected = ours(x)
    torch.testing.assert_close(theirs(x.cuda()).float().cpu(), expected, rtol=1e-4, atol=1e-4)
    assert ours.backend == "torch"
