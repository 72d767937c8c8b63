"""Trainer unit tests: learning-rate schedule, a short run, language/geometry separation,
and checkpoints refusing an engine with another encoder."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.cameras.rays import image_rays
from lerf_ros.data.synthetic.export import scene_trajectory
from lerf_ros.data.synthetic.palette import ALL
from lerf_ros.data.synthetic.presets import default_scene
from lerf_ros.data.synthetic.render import render_view
from lerf_ros.engine import LerfEngine
from lerf_ros.features.encoders.registry import load_dense_encoder, load_encoder
from lerf_ros.training.checkpoint import CheckpointError
from lerf_ros.training.config import LerfConfig
from lerf_ros.training.keyframe_store import Keyframe
from lerf_ros.training.model import LerfModel
from lerf_ros.training.recovery import MAX_NONFINITE_IN_A_ROW, MAX_ROLLBACKS_IN_A_ROW
from lerf_ros.training.trainer import Trainer, make_optimizer

CLIP_DIM = 384
DINO_DIM = 16


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: steadier than two on a 2-core machine shared with other work."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def scene():
    return default_scene()


@pytest.fixture(scope="module")
def views(scene):
    """Three 48x36 views of the default scene from an orbit."""
    camera = Intrinsics.from_fov(48, 36, math.radians(60.0))
    poses = scene_trajectory(scene, "orbit", 12)[::4]
    return [render_view(scene, camera, pose) for pose in poses]


def scene_aabb(scene) -> torch.Tensor:
    box = scene.bounds()
    return torch.tensor(np.stack([box.minimum, box.maximum]), dtype=torch.float32)


def keyframes_of(views) -> list[Keyframe]:
    frames = []
    for index, view in enumerate(views):
        image = (np.clip(view.rgb, 0.0, 1.0) * 255).round().astype(np.uint8)
        frames.append(Keyframe(index, torch.from_numpy(image), view.intrinsics, view.c2w))
    return frames


def render_mse(model: LerfModel, frames: list[Keyframe]) -> float:
    errors = []
    for frame in frames:
        bundle = image_rays(frame.intrinsics, frame.c2w)
        rgb = model.render_chunked(bundle.origins, bundle.directions)["rgb"]
        target = frame.image.reshape(-1, 3).float() / 255.0
        errors.append(F.mse_loss(rgb, target).item())
    return float(np.mean(errors))


def test_learning_rate_decays_exponentially_between_its_endpoints(scene):
    config = LerfConfig.cpu()
    config.trainer.learning_rate, config.trainer.final_learning_rate = 1e-2, 1e-4
    config.trainer.decay_steps = 1000
    trainer = Trainer(config, scene_aabb(scene), CLIP_DIM, 0, torch.device("cpu"))
    rates = {}
    for step in (0, 500, 1000, 5000):
        trainer.step_count = step
        rates[step] = trainer.learning_rate()
    assert rates[0] == pytest.approx(1e-2)
    assert rates[500] == pytest.approx(1e-3)  # geometric midpoint
    assert rates[1000] == pytest.approx(1e-4)
    assert rates[5000] == pytest.approx(1e-4)  # held at the final rate after the decay


def test_a_short_run_on_three_keyframes_reduces_the_rgb_error(scene, views):
    config = LerfConfig.cpu()
    trainer = Trainer(config, scene_aabb(scene), CLIP_DIM, 0, torch.device("cpu"))
    frames = keyframes_of(views)
    before = render_mse(trainer.model, frames)
    losses = [trainer.step(frames).rgb_loss for _ in range(60)]
    after = render_mse(trainer.model, frames)
    assert trainer.step_count == 60
    # Measured: render MSE 0.040 -> 0.0055 (22.6 dB); batch loss 0.038 (first 5) -> 0.0062.
    assert after < 0.3 * before, (before, after)
    assert np.mean(losses[-10:]) < 0.3 * np.mean(losses[:5]), losses
    assert all(math.isfinite(loss) for loss in losses)


def test_language_losses_never_move_geometry(scene, views):
    config = LerfConfig.cpu()
    trainer = Trainer(config, scene_aabb(scene), CLIP_DIM, DINO_DIM, torch.device("cpu"))
    frames = keyframes_of(views)
    for _ in range(5):  # real steps first: geometry has a surface and Adam has momentum
        trainer.step(frames)
    model, optimizer = trainer.model, trainer.optimizer
    geometry = {id(p) for p in model.geometry_parameters()}
    assert geometry.isdisjoint(id(p) for p in model.language_parameters())
    named_geometry = [(n, p) for n, p in model.named_parameters() if id(p) in geometry]
    assert named_geometry and len(named_geometry) + len(model.language_parameters()) == len(
        list(model.parameters())
    )
    before = {name: p.detach().clone() for name, p in model.named_parameters()}

    # One step whose only losses are the CLIP (Huber) and DINO (MSE) terms.
    generator = torch.Generator().manual_seed(1)
    bundle = image_rays(frames[0].intrinsics, frames[0].c2w)
    pick = torch.randperm(len(bundle), generator=generator)[:256]
    model.train()
    out = model.render(
        bundle.origins[pick], bundle.directions[pick], torch.full((256,), 0.1), None, 8
    )
    clip_target = F.normalize(torch.randn(256, CLIP_DIM, generator=generator), dim=-1)
    dino_target = torch.randn(256, DINO_DIM, generator=generator)
    loss = F.huber_loss(out.clip, clip_target, delta=1.25, reduction="none").sum(-1).mean()
    loss = loss + F.mse_loss(out.dino, dino_target)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    for name, parameter in named_geometry:
        assert parameter.grad is None or not parameter.grad.any(), name
    language_grads = [p.grad for p in model.language_parameters() if p.grad is not None]
    assert language_grads and any(g.abs().sum() > 0 for g in language_grads)
    optimizer.step()

    assert all(torch.equal(before[n], p.detach()) for n, p in named_geometry)
    assert any(
        not torch.equal(before[n], p.detach())
        for n, p in model.named_parameters()
        if id(p) not in geometry
    )


def test_optimizer_groups_cover_geometry_and_language(scene):
    model = LerfModel(LerfConfig.cpu(), scene_aabb(scene), CLIP_DIM, DINO_DIM)
    optimizer = make_optimizer(model, LerfConfig.cpu(), torch.device("cpu"))
    names = [group["name"] for group in optimizer.param_groups]
    assert names == ["geometry", "language"]
    counted = sum(len(group["params"]) for group in optimizer.param_groups)
    assert counted == len(list(model.parameters()))


def make_engine(encoder) -> LerfEngine:
    config = LerfConfig.cpu()
    config.device = "cpu"
    return LerfEngine(config, encoder, load_dense_encoder("colour-patches"))


def test_checkpoint_refuses_an_engine_with_another_encoder(tmp_path, views):
    encoder = load_encoder("colour-minilm")
    engine = make_engine(encoder)
    view = views[0]
    image = (np.clip(view.rgb, 0.0, 1.0) * 255).round().astype(np.uint8)
    assert engine.add_frame(image, view.intrinsics, view.c2w, 0.0, force=True).accepted
    path = engine.save(tmp_path / "engine.ckpt")

    # Same kind and dimension, but another palette: its image embeddings mean other things.
    other = make_engine(load_encoder("colour-minilm", entries=ALL[:-1]))
    assert other.encoder.dim == encoder.dim and other.encoder.name != encoder.name
    with pytest.raises(CheckpointError, match="trained with encoder") as refused:
        other.load(path)
    assert encoder.name in str(refused.value) and other.encoder.name in str(refused.value)
    assert other.trainer is None and len(other.keyframes) == 0  # nothing half-loaded

    # A matching engine loads it.
    same = make_engine(load_encoder("colour-minilm"))
    same.load(path)
    assert len(same.keyframes) == 1 and same.step == 0


def test_inference_renders_are_deterministic_and_keep_the_training_mode(scene, views):
    trainer = Trainer(LerfConfig.cpu(), scene_aabb(scene), CLIP_DIM, 0, torch.device("cpu"))
    frames = keyframes_of(views)
    for _ in range(3):
        trainer.step(frames)  # leaves the model in training mode (jittered samples)
    model = trainer.model
    assert model.training
    bundle = image_rays(frames[0].intrinsics, frames[0].c2w)
    first = model.render_chunked(bundle.origins, bundle.directions, chunk=500)
    second = model.render_chunked(bundle.origins, bundle.directions)
    assert model.training  # the caller's mode is restored
    for key in ("rgb", "depth", "accumulation"):
        assert torch.equal(first[key], second[key]), key


def test_a_non_finite_loss_skips_the_update_and_a_run_of_them_rolls_back(scene, views):
    """One bad batch (here keyframes with a NaN pose) must not write NaN into every weight,
    nor stop an online run; a run of them restores the last good state at half the learning
    rate, and only rollbacks that keep failing are an error (training diverged)."""
    config = LerfConfig.cpu()
    trainer = Trainer(config, scene_aabb(scene), CLIP_DIM, 0, torch.device("cpu"))
    initial = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    frames = keyframes_of(views)
    trainer.step(frames)
    before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    broken = [Keyframe(f.id, f.image, f.intrinsics, np.full((4, 4), np.nan)) for f in frames]
    stats = trainer.step(broken)
    assert not math.isfinite(stats.loss) and stats.rays == 0 and not stats.rolled_back
    assert trainer.step_count == 1 and trainer.skipped_steps == 1
    for name, parameter in trainer.model.named_parameters():
        assert torch.equal(parameter, before[name]), name
    assert trainer.step(frames).rays > 0 and trainer.nonfinite_in_a_row == 0
    rate = trainer.learning_rate()
    for _ in range(MAX_NONFINITE_IN_A_ROW - 1):
        assert not trainer.step(broken).rolled_back
    assert trainer.step(broken).rolled_back
    # The good state kept before the first step (no 100 good steps yet) is back.
    for name, parameter in trainer.model.named_parameters():
        assert torch.equal(parameter, initial[name]), name
    assert trainer.good_state.rollbacks == 1
    assert trainer.learning_rate() == pytest.approx(0.5 * rate)
    assert trainer.skipped_steps == MAX_NONFINITE_IN_A_ROW + 1
    stats = trainer.step(frames)
    assert math.isfinite(stats.loss) and stats.rays > 0 and trainer.step_count == 3
    for _ in range(MAX_ROLLBACKS_IN_A_ROW - 1):
        for _ in range(MAX_NONFINITE_IN_A_ROW):
            trainer.step(broken)
    with pytest.raises(FloatingPointError, match="diverged"):
        for _ in range(MAX_NONFINITE_IN_A_ROW):
            trainer.step(broken)
