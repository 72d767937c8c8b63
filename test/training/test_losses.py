"""The named loss terms: each term's value on a hand-made batch, absent targets contribute
nothing, the total is the weighted sum, and a seeded trainer step reports the losses that
torch.nn.functional gives on the same render."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from small_engine import minilm_encoder, tiny_config

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.synthetic.export import scene_trajectory
from lerf_ros.data.synthetic.presets import default_scene
from lerf_ros.data.synthetic.render import render_view
from lerf_ros.engine import LerfEngine
from lerf_ros.features.encoders.registry import load_dense_encoder
from lerf_ros.features.extractor import FeatureExtractor
from lerf_ros.rendering.losses import EPS, interlevel_loss
from lerf_ros.training.batch import RayBatch
from lerf_ros.training.keyframe_store import Keyframe
from lerf_ros.training.losses import (
    ClipLoss,
    DepthLoss,
    DinoLoss,
    DistortionLoss,
    FreeSpaceLoss,
    InterlevelLoss,
    LossTerm,
    RgbLoss,
    compute_losses,
    loss_terms,
    total_loss,
)
from lerf_ros.training.model import RenderOutput
from lerf_ros.training.trainer import StepStats, Trainer

RAYS, SAMPLES, CLIP_DIM, DINO_DIM = 5, 4, 6, 3


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def histogram(generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Sorted bins [R, S + 1] in [0, 1] and weights [R, S, 1] summing to at most 1."""
    bins = torch.sort(torch.rand(RAYS, SAMPLES + 1, generator=generator), dim=-1).values
    weights = torch.softmax(torch.randn(RAYS, SAMPLES, generator=generator), dim=-1) * 0.9
    return bins, weights[..., None]


def hand_made(language_rays: int = 3) -> tuple[RenderOutput, RayBatch]:
    """A render of RAYS rays (one proposal round with zero weights, then the NeRF's) and a
    batch with every target, drawn from a fixed generator."""
    g = torch.Generator().manual_seed(7)
    bins, weights = histogram(g)
    proposal = SimpleNamespace(spacing_bins=bins)  # the losses read only the bins
    edges = 4.0 * bins  # metres along the ray
    final = SimpleNamespace(
        spacing_bins=bins.clone(),
        starts=edges[:, :-1, None],
        ends=edges[:, 1:, None],
        midpoints=(edges[:, :-1, None] + edges[:, 1:, None]) / 2,
    )
    outputs = RenderOutput(
        rgb=torch.rand(RAYS, 3, generator=g),
        depth=torch.rand(RAYS, 1, generator=g),
        accumulation=weights.sum(dim=1),
        weights_list=[torch.zeros_like(weights), weights],
        samples_list=[proposal, final],
        clip=F.normalize(torch.randn(language_rays, CLIP_DIM, generator=g), dim=-1),
        dino=torch.randn(language_rays, DINO_DIM, generator=g),
    )
    mask = torch.zeros(RAYS, dtype=torch.bool)
    mask[:language_rays] = True
    batch = RayBatch(
        origins=torch.zeros(RAYS, 3),
        directions=F.normalize(torch.randn(RAYS, 3, generator=g), dim=-1),
        scale_per_distance=torch.rand(RAYS, generator=g),
        language_mask=mask,
        rgb=torch.rand(RAYS, 3, generator=g),
        # Large errors on some dimensions: both branches of the Huber loss are exercised.
        clip=3.0 * torch.randn(language_rays, CLIP_DIM, generator=g),
        dino=torch.randn(language_rays, DINO_DIM, generator=g),
        depth=torch.tensor([[1.0], [2.0], [0.0], [3.0], [1.5]]),  # ray 2 has no reading
        depth_sigma=0.3,
    )
    return outputs, batch


def depth_terms_by_hand(outputs: RenderOutput, batch: RayBatch) -> dict[str, torch.Tensor]:
    """The line-of-sight and free-space terms, ray by ray, over the rays with a reading."""
    final = outputs.samples_list[-1]
    weights = outputs.weights_list[-1][..., 0]
    sigma = batch.depth_sigma
    near, free = [], []
    for ray in range(RAYS):
        measured = float(batch.depth[ray, 0])
        if measured <= 0:
            continue
        mid, ends = final.midpoints[ray, :, 0], final.ends[ray, :, 0]
        gauss = torch.exp(-0.5 * ((mid - measured) / sigma) ** 2)
        near.append(1.0 - (weights[ray] * gauss).sum())
        free.append(weights[ray][ends < measured - sigma].sum())
    return {"depth": torch.stack(near).mean(), "free_space": torch.stack(free).mean()}


def distortion_by_pairs(bins: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """mip-NeRF 360 distortion by its O(S^2) definition, mean over rays."""
    mid = (bins[:, 1:] + bins[:, :-1]) / 2
    pairs = weights[:, :, None] * weights[:, None, :] * (mid[:, :, None] - mid[:, None, :]).abs()
    intra = (weights**2 * (bins[:, 1:] - bins[:, :-1])).sum(-1) / 3
    return (pairs.sum(dim=(1, 2)) + intra).mean()


def test_each_term_gives_its_loss_on_a_hand_made_batch():
    outputs, batch = hand_made()
    weights = outputs.weights_list[-1][..., 0]
    bins = outputs.samples_list[-1].spacing_bins
    expected = {
        "rgb": F.mse_loss(outputs.rgb, batch.rgb),
        # A proposal with zero weight bounds nothing: the penalty is w^2 / (w + eps) per bin.
        "interlevel": (weights**2 / (weights + EPS)).mean(),
        "distortion": distortion_by_pairs(bins, weights),
        "clip": F.huber_loss(outputs.clip, batch.clip, delta=0.5, reduction="none").sum(-1).mean(),
        "dino": ((outputs.dino - batch.dino) ** 2).mean(),
        **depth_terms_by_hand(outputs, batch),
    }
    assert 0 < expected["free_space"] < 1 and 0 < expected["depth"] < 1  # both exercised
    terms = [
        RgbLoss(),
        InterlevelLoss(),
        DistortionLoss(),
        ClipLoss(delta=0.5),
        DinoLoss(),
        DepthLoss(),
        FreeSpaceLoss(),
    ]
    for term in terms:
        value = term(outputs, batch)
        assert value is not None and value.shape == (), term.name
        torch.testing.assert_close(value, expected[term.name], msg=term.name)
    # The Huber delta is the term's: another delta gives another value.
    assert not torch.isclose(ClipLoss(delta=5.0)(outputs, batch), expected["clip"])


def test_a_proposal_that_bounds_the_final_histogram_costs_nothing():
    outputs, batch = hand_made()
    outputs.weights_list[0] = outputs.weights_list[-1].clone()
    assert InterlevelLoss()(outputs, batch).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    ("absent", "missing"),
    [
        ({"rgb": None}, {"rgb"}),
        ({"clip": None}, {"clip"}),
        ({"dino": None}, {"dino"}),
        ({"render_clip": None, "render_dino": None}, {"clip", "dino"}),
        ({"depth": None}, {"depth", "free_space"}),
        ({"depth": torch.zeros(RAYS, 1)}, {"depth", "free_space"}),  # no reading at all
    ],
)
def test_a_term_without_its_target_gives_none_and_is_left_out_of_the_sum(absent, missing):
    outputs, batch = hand_made()
    for key, value in absent.items():
        if key.startswith("render_"):
            setattr(outputs, key.removeprefix("render_"), value)
        else:
            setattr(batch, key, value)
    terms = loss_terms(tiny_config().trainer)
    for term in terms:
        assert (term(outputs, batch) is None) == (term.name in missing), term.name
    losses = compute_losses(terms, outputs, batch)
    assert list(losses) == [t.name for t in terms if t.name not in missing]
    expected = sum(t.weight * t(outputs, batch) for t in terms if t.name not in missing)
    torch.testing.assert_close(total_loss(terms, losses), expected)


def test_the_total_is_the_weighted_sum_of_the_unweighted_terms():
    outputs, batch = hand_made()
    config = tiny_config().trainer
    config.interlevel_loss_weight, config.distortion_loss_weight = 0.5, 0.25
    config.clip_loss_weight, config.dino_loss_weight, config.clip_huber_delta = 0.125, 2.0, 0.75
    config.depth_loss_weight, config.free_space_loss_weight = 4.0, 0.5
    terms = loss_terms(config)
    names = ["rgb", "interlevel", "distortion", "clip", "dino", "depth", "free_space"]
    assert [t.name for t in terms] == names
    losses = compute_losses(terms, outputs, batch)
    by_hand = (
        F.mse_loss(outputs.rgb, batch.rgb)
        + 0.5 * losses["interlevel"]
        + 0.25 * losses["distortion"]
        + 0.125
        * F.huber_loss(outputs.clip, batch.clip, delta=0.75, reduction="none").sum(-1).mean()
        + 2.0 * F.mse_loss(outputs.dino, batch.dino)
        + 4.0 * depth_terms_by_hand(outputs, batch)["depth"]
        + 0.5 * depth_terms_by_hand(outputs, batch)["free_space"]
    )
    torch.testing.assert_close(total_loss(terms, losses), by_hand)


def test_a_new_term_needs_no_change_to_the_sum():
    class Accumulation(LossTerm):
        name = "accumulation"

        def __call__(self, outputs, batch):
            return outputs.accumulation.mean()

    outputs, batch = hand_made()
    terms = [RgbLoss(), Accumulation(weight=3.0)]
    losses = compute_losses(terms, outputs, batch)
    assert list(losses) == ["rgb", "accumulation"]
    expected = losses["rgb"] + 3.0 * outputs.accumulation.mean()
    torch.testing.assert_close(total_loss(terms, losses), expected)


def test_repeated_names_and_a_batch_without_any_target_are_errors():
    outputs, batch = hand_made()
    with pytest.raises(ValueError, match="repeat"):
        compute_losses([RgbLoss(), RgbLoss(weight=2.0)], outputs, batch)
    batch.rgb = None
    with pytest.raises(ValueError, match="no loss term"):
        total_loss([RgbLoss()], compute_losses([RgbLoss()], outputs, batch))


def test_step_stats_report_the_fixed_losses_from_the_dict():
    stats = StepStats(step=1, loss=1.0, rays=8, seconds=1.0, losses={"rgb": 0.5, "clip": 0.25})
    assert (stats.rgb_loss, stats.clip_loss, stats.dino_loss) == (0.5, 0.25, 0.0)
    assert StepStats(step=0, loss=0.0, rays=0, seconds=0.0).losses == {}


@pytest.fixture(scope="module")
def keyframes():
    """Three 48x36 views with CLIP pyramids and DINO maps, and one without features."""
    scene = default_scene()
    camera = Intrinsics.from_fov(48, 36, math.radians(60.0))
    extractor = FeatureExtractor(
        minilm_encoder(), load_dense_encoder("colour-patches"), tiny_config().pyramid, None, "cpu"
    )
    frames = []
    for index, pose in enumerate(scene_trajectory(scene, "orbit", 12)[::3]):
        view = render_view(scene, camera, pose)
        image = (np.clip(view.rgb, 0.0, 1.0) * 255).round().astype(np.uint8)
        frame = Keyframe(index, torch.from_numpy(image), view.intrinsics, view.c2w)
        if index < 3:
            frame.pyramid, frame.dense = extractor.features_for(image)
        frames.append(frame)
    box = scene.bounds()
    aabb = torch.tensor(np.stack([box.minimum, box.maximum]), dtype=torch.float32)
    return frames, aabb, extractor


def test_a_seeded_step_reports_the_losses_of_its_render(keyframes):
    frames, aabb, extractor = keyframes
    config = tiny_config()
    dims = (extractor.encoder.dim, extractor.dense_encoder.dim)
    trained = Trainer(config, aabb, *dims, torch.device("cpu"))
    stats = trained.step(frames)

    # A twin (same seed: same weights, same ray draws, same sample jitter) renders the same
    # batch before any update; its losses are computed here with torch.nn.functional.
    twin = Trainer(config, aabb, *dims, torch.device("cpu"))
    batch = twin.sample_batch(frames)
    assert isinstance(batch, RayBatch) and batch.depth is None
    assert batch.clip is not None and batch.dino is not None
    assert 0 < int(batch.language_mask.sum()) < len(batch)  # the featureless frame's rays
    twin.model.train()
    twin.model.sampler.set_step(0)
    with torch.no_grad():
        out = twin.model.render(
            batch.origins, batch.directions, batch.scale_per_distance, batch.language_mask
        )
    c = config.trainer
    rgb = F.mse_loss(out.rgb, batch.rgb).item()
    clip = (
        F.huber_loss(out.clip, batch.clip, delta=c.clip_huber_delta, reduction="none")
        .sum(-1)
        .mean()
        .item()
    )
    dino = F.mse_loss(out.dino, batch.dino).item()
    assert list(stats.losses) == ["rgb", "interlevel", "distortion", "clip", "dino"]
    assert stats.losses["rgb"] == pytest.approx(rgb, rel=1e-5)
    assert stats.losses["clip"] == pytest.approx(clip, rel=1e-5)
    assert stats.losses["dino"] == pytest.approx(dino, rel=1e-5)
    bins = out.samples_list[-1].spacing_bins
    distortion = distortion_by_pairs(bins, out.weights_list[-1][..., 0]).item()
    assert stats.losses["distortion"] == pytest.approx(distortion, rel=1e-4)
    interlevel = interlevel_loss(out.weights_list, out.samples_list).item()
    assert stats.losses["interlevel"] == pytest.approx(interlevel, rel=1e-5, abs=1e-12)
    assert (stats.rgb_loss, stats.clip_loss, stats.dino_loss) == (
        stats.losses["rgb"],
        stats.losses["clip"],
        stats.losses["dino"],
    )
    weighted = (
        rgb
        + c.interlevel_loss_weight * interlevel
        + c.distortion_loss_weight * distortion
        + c.clip_loss_weight * clip
        + c.dino_loss_weight * dino
    )
    assert stats.loss == pytest.approx(weighted, rel=1e-5)
    assert stats.rays == len(batch) and trained.step_count == 1


def test_a_step_without_language_targets_reports_only_the_colour_and_sampling_terms(keyframes):
    frames, aabb, extractor = keyframes
    trainer = Trainer(tiny_config(), aabb, extractor.encoder.dim, 0, torch.device("cpu"))
    stats = trainer.step([f for f in frames if f.pyramid is None])
    assert list(stats.losses) == ["rgb", "interlevel", "distortion"]
    assert all(math.isfinite(v) for v in stats.losses.values())
    assert stats.clip_loss == 0.0 and stats.dino_loss == 0.0


def test_the_engine_status_reports_the_last_step_losses_by_name(keyframes):
    frames, _, _ = keyframes
    engine = LerfEngine(tiny_config(), minilm_encoder(), None)
    assert engine.status().losses == {}
    frame = frames[0]
    image = frame.image.numpy()
    assert engine.add_frame(image, frame.intrinsics, frame.c2w, 0.0, force=True).accepted
    stats = engine.train_step()
    status = engine.status()
    assert stats is not None and status.losses == stats.losses
    assert list(status.losses)[:3] == ["rgb", "interlevel", "distortion"]
    assert status.rgb_loss == stats.losses["rgb"]
