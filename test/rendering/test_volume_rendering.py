"""Alpha compositing and the renderers built on it."""

from __future__ import annotations

import math

import pytest
import torch

from lerf_ros.fields.activations import trunc_exp
from lerf_ros.rendering.ray_samples import RaySamples
from lerf_ros.rendering.volume import (
    gather_samples,
    render_accumulation,
    render_depth,
    render_embedding,
    render_rgb,
    render_weights,
    top_k_samples,
)
from lerf_ros.samplers import Spacing


def samples_from_edges(edges: list[float]) -> RaySamples:
    bins = torch.tensor([edges])
    near, far = bins[:, :1], bins[:, -1:]
    s = (bins - near) / (far - near)
    return RaySamples.from_spacing_bins(
        torch.zeros(1, 3), torch.tensor([[0.0, 0.0, 1.0]]), s, near, far, Spacing("linear")
    )


def test_single_opaque_sample_takes_all_the_weight_and_sets_the_depth():
    samples = samples_from_edges([1.0, 2.0, 3.0, 4.0, 5.0])
    densities = torch.tensor([[[0.0], [0.0], [1e4], [0.0]]])
    weights, transmittance = render_weights(densities, samples.deltas)
    assert torch.allclose(weights[0, :, 0], torch.tensor([0.0, 0.0, 1.0, 0.0]))
    assert torch.allclose(transmittance[0, :, 0], torch.tensor([1.0, 1.0, 1.0, 0.0]))
    assert render_depth(weights, samples).item() == pytest.approx(3.5)
    assert render_depth(weights, samples, method="median").item() == pytest.approx(3.5)
    assert render_accumulation(weights).item() == pytest.approx(1.0)


def test_transmittance_and_weights_match_a_hand_computation():
    deltas = torch.tensor([[[0.5], [1.0], [0.25]]])
    densities = torch.tensor([[[2.0], [0.5], [4.0]]])
    weights, transmittance = render_weights(densities, deltas)
    # optical depths 1.0, 0.5, 1.0
    t = [1.0, math.exp(-1.0), math.exp(-1.5)]
    alpha = [1 - math.exp(-1.0), 1 - math.exp(-0.5), 1 - math.exp(-1.0)]
    assert transmittance[0, :, 0].tolist() == pytest.approx(t, rel=1e-6)
    assert weights[0, :, 0].tolist() == pytest.approx(
        [a * b for a, b in zip(t, alpha, strict=True)], rel=1e-6
    )
    assert render_accumulation(weights).item() == pytest.approx(1 - math.exp(-2.5), rel=1e-6)


def test_weights_are_stable_for_huge_and_tiny_densities():
    deltas = torch.full((1, 4, 1), 0.01)
    densities = torch.tensor([[[1e-12], [1e30], [1e30], [0.0]]])
    weights, _ = render_weights(densities, deltas)
    assert torch.isfinite(weights).all()
    assert weights[0, 0, 0].item() == pytest.approx(1e-14, rel=1e-3)  # expm1 keeps it
    assert weights[0, 1, 0].item() == pytest.approx(1.0) and weights[0, 2, 0] == 0.0


def test_render_rgb_blends_the_background_by_the_remaining_transmittance():
    weights = torch.tensor([[[0.25], [0.25]]])
    rgb = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    assert torch.allclose(render_rgb(weights, rgb), torch.tensor([[0.25, 0.25, 0.0]]))
    out = render_rgb(weights, rgb, background=torch.tensor([0.0, 0.0, 1.0]))
    assert torch.allclose(out, torch.tensor([[0.25, 0.25, 0.5]]))
    assert torch.allclose(
        render_rgb(weights, rgb, background=1.0), torch.tensor([[0.75, 0.75, 0.5]])
    )


def test_expected_and_median_depth_differ_for_a_spread_distribution():
    samples = samples_from_edges([0.0, 1.0, 2.0, 3.0, 4.0])
    weights = torch.tensor([[[0.6], [0.0], [0.0], [0.4]]])
    assert render_depth(weights, samples).item() == pytest.approx(0.6 * 0.5 + 0.4 * 3.5)
    assert render_depth(weights, samples, method="median").item() == pytest.approx(0.5)


def test_render_embedding_normalises_only_when_asked():
    weights = torch.tensor([[[0.5], [0.25]]])
    embeddings = torch.tensor([[[2.0, 0.0], [0.0, 4.0]]])
    plain = render_embedding(weights, embeddings, normalise=False)
    assert torch.allclose(plain, torch.tensor([[1.0, 1.0]]))
    unit = render_embedding(weights, embeddings, normalise=True)
    assert torch.allclose(unit, torch.tensor([[1.0, 1.0]]) / math.sqrt(2.0))


def test_top_k_samples_picks_the_heaviest_and_keeps_or_rescales_weights():
    weights = torch.tensor([[[0.1], [0.5], [0.05], [0.3]], [[0.0], [0.0], [0.2], [0.0]]])
    indices, top = top_k_samples(weights, 2)
    assert sorted(indices[0].tolist()) == [1, 3] and 2 in indices[1].tolist()
    assert torch.allclose(top.sum(dim=1)[0], torch.tensor([0.8]))
    _, rescaled = top_k_samples(weights, 2, renormalise=True)
    assert torch.allclose(rescaled.sum(dim=1), weights.sum(dim=1))
    values = torch.arange(8.0).view(2, 4, 1).expand(-1, -1, 3)
    gathered = gather_samples(values, indices)
    assert gathered.shape == (2, 2, 3)
    assert torch.equal(gathered[0, :, 0], indices[0].float())
    assert top_k_samples(weights, 10)[0].shape == (2, 4)  # fewer samples than k


def test_an_overflowing_density_keeps_weights_and_gradients_finite():
    """A density pre-activation past fp32 exp's range (88.7) behind or at a zero-length
    interval must give finite weights and finite gradients: a finite loss with a NaN gradient
    writes NaN into every weight the step touches (what stopped training on a corner scene)."""
    pre_activation = torch.tensor([[[1.0], [95.0], [2.0], [300.0]]], requires_grad=True)
    deltas = torch.tensor([[[0.1], [0.0], [0.1], [0.1]]])
    density = trunc_exp(pre_activation)
    assert torch.isfinite(density).all()
    weights, transmittance = render_weights(density, deltas)
    assert torch.isfinite(weights).all() and torch.isfinite(transmittance).all()
    # A zero-length interval holds nothing, however dense; the opaque last sample takes the
    # light that is left.
    assert weights[0, 1, 0].item() == 0.0
    assert weights.sum().item() == pytest.approx(1.0, abs=1e-6)
    ((weights.sum() - 0.5) ** 2).backward()
    assert torch.isfinite(pre_activation.grad).all()


def test_the_exclusive_sum_does_not_subtract_an_infinite_optical_depth():
    """An optical depth of inf (a density of 1e30 times a long interval) leaves the light
    before it untouched and no NaN after it."""
    density = torch.tensor([[[1.0], [3e38], [1.0]]])
    deltas = torch.tensor([[[0.5], [10.0], [0.5]]])
    weights, transmittance = render_weights(density, deltas)
    assert torch.isfinite(weights).all()
    assert transmittance[0, 1, 0].item() == pytest.approx(math.exp(-0.5))
    assert transmittance[0, 2, 0].item() == 0.0
