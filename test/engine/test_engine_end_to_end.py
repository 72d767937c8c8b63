"""The whole engine on the synthetic default scene: queries land on the objects, held-out
views render, relevancy maps light up the right pixels, checkpoints round-trip.

Uses the session's ``trained_synthetic_engine`` (test/conftest.py): 26 of 30 views, 700 steps of
LerfConfig.cpu(); views 0, 8, 16 and 24 are held out.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from lerf_ros.cameras.rays import image_rays
from lerf_ros.engine import LerfEngine, NotReadyError
from lerf_ros.query.request import QueryError
from lerf_ros.training.config import LerfConfig

pytestmark = pytest.mark.slow

# As in test/conftest.py's trained_synthetic_engine.
SYNTHETIC_VIEWS, HOLDOUT_EVERY, SYNTHETIC_STEPS = 30, 8, 700
HELD_OUT = list(range(0, SYNTHETIC_VIEWS, HOLDOUT_EVERY))
PARAPHRASE_EXTRA_STEPS = 300
"""Steps beyond SYNTHETIC_STEPS before the paraphrase query: a paraphrase matches the red
ball's description less than its name does, so it needs the small ball's language features
learnt well. The paraphrase is "a red sphere" (colour-minilm text cosine 0.71 to "a red ball",
0.46 to "a purple vase"). "crimson ball" (0.52 and 0.37) sits between the two: its best point
landed on the ball or the vase depending on the run's random rays alone (700 steps, seeds
0/1/2 in earlier runs; the same seed with another ray draw since), so it tested chance."""
TRAINING = [i for i in range(SYNTHETIC_VIEWS) if i % HOLDOUT_EVERY != 0]


def box_of(item: dict) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(item["box_min"], dtype=float), np.asarray(item["box_max"], dtype=float)


def box_distance(point, box) -> float:
    """Distance from ``point`` to an axis-aligned box (0 inside)."""
    low, high = box
    return float(np.linalg.norm(np.maximum(0.0, np.maximum(low - point, point - high))))


def tolerance(scene: dict) -> float:
    """10 % of the table's diagonal (1.2 m x 0.8 m x 0.75 m: 0.163 m). The objects stand
    0.3-0.7 m apart on it, so this still tells neighbours apart."""
    low, high = box_of(scene["table"])
    return 0.1 * float(np.linalg.norm(high - low))


def instances(frame) -> np.ndarray:
    """Object index + 1 per pixel (0: floor, walls, table) from the exported instance PNG."""
    return cv2.imread(str(frame.metadata["instance_path"]), cv2.IMREAD_UNCHANGED).astype(int)


def table_and_objects(frame, scene: dict) -> np.ndarray:
    """Pixels showing an object (instance mask) or the table (ground-truth surface point inside
    the table's box, 1 cm margin)."""
    depth = frame.depth
    bundle = image_rays(frame.intrinsics, frame.c2w)
    directions = bundle.directions.double().numpy()
    distance = depth.reshape(-1) / (directions @ frame.c2w[:3, 2])
    points = frame.c2w[:3, 3] + directions * distance[:, None]
    low, high = box_of(scene["table"])
    on_table = np.all((points >= low - 0.01) & (points <= high + 0.01), axis=1)
    on_table = on_table.reshape(depth.shape) & (depth > 0)
    return on_table | (instances(frame) > 0)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return -10.0 * math.log10(float(np.mean((a - b) ** 2)))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Render with one torch thread: on a shared 2-core machine two threads wait on each other
    (renders measured several times slower with two)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def engine(trained_synthetic_engine):
    return trained_synthetic_engine[0]


@pytest.fixture(scope="module")
def dataset(trained_synthetic_engine):
    return trained_synthetic_engine[1]


@pytest.fixture(scope="module")
def scene(trained_synthetic_engine):
    return trained_synthetic_engine[2]


@pytest.fixture(scope="module")
def answers(engine, scene):
    """The engine's answer to each object's name."""
    return {item["name"]: engine.query(item["name"]) for item in scene["objects"]}


@pytest.fixture(scope="module")
def held_out_renders(engine, dataset):
    """view index -> (rgb [H, W, 3], z-depth [H, W]) rendered from each held-out pose."""
    renders = {}
    model = engine.trainer.model
    for index in HELD_OUT:
        frame = dataset.frames[index]
        size = (frame.intrinsics.height, frame.intrinsics.width)
        bundle = image_rays(frame.intrinsics, frame.c2w)
        with engine.model_lock:
            out = model.render_chunked(bundle.origins, bundle.directions)
        forward = torch.as_tensor(frame.c2w[:3, 2], dtype=bundle.directions.dtype)
        z = out["depth"][:, 0] * (bundle.directions @ forward)
        renders[index] = (
            out["rgb"].clamp(0, 1).view(*size, 3).numpy(),
            z.view(size).numpy(),
        )
    return renders


def test_every_object_is_found_inside_its_box(answers, scene):
    boxes = {item["name"]: box_of(item) for item in scene["objects"]}
    print(
        "best peaks:",
        {
            name: (result.peaks[0].position.round(3), result.peaks[0].relevancy)
            for name, result in answers.items()
            if result.peaks
        },
    )
    for name, result in answers.items():
        assert result.peaks, f"{name!r}: no peak"
        best = result.peaks[0]
        distances = {other: box_distance(best.position, box) for other, box in boxes.items()}
        # Measured: four peaks inside their boxes, the yellow book's 1.3 cm above its top.
        assert distances[name] <= tolerance(scene), (name, best.position, distances)
        assert min(distances, key=distances.get) == name, (name, distances)
        assert best.relevancy == max(peak.relevancy for peak in result.peaks)
        assert result.request.min_relevancy <= best.relevancy < 1.0
        assert best.scale == result.selected_scale and 0 < best.scale <= 2.0
        assert best.extent.shape == (3,) and np.all(np.isfinite(best.extent))
        assert np.all(best.extent >= 0)
        assert best.support >= 3 and len(best.indices) == best.support
        assert len(result.points) == len(result.relevancy) > 1000


def test_an_absent_object_is_less_relevant_than_every_present_one(engine, answers):
    present = {name: result.peaks[0].relevancy for name, result in answers.items()}
    absent = engine.query("a bicycle")
    # Measured: bicycle at most 0.37; the objects' best peaks 0.98-1.0.
    assert float(absent.relevancy.max()) < min(present.values()), present
    assert absent.peaks == []


@pytest.fixture(scope="module")
def longer_trained(engine, tmp_path_factory):
    """A copy of the shared engine trained PARAPHRASE_EXTRA_STEPS further (the shared one must
    not be trained further)."""
    path = engine.save(tmp_path_factory.mktemp("longer") / "engine.ckpt")
    config = LerfConfig.cpu()
    config.device = "cpu"
    clone = LerfEngine(config, engine.encoder, engine.dense_encoder, frame_id=engine.frame_id)
    clone.load(path)
    for _ in range(PARAPHRASE_EXTRA_STEPS):
        clone.train_step()
    assert clone.step == SYNTHETIC_STEPS + PARAPHRASE_EXTRA_STEPS
    return clone


def test_a_paraphrase_is_most_relevant_on_the_red_ball(longer_trained, scene):
    """Where "a red sphere" is most relevant: on the red ball, by its best point and by the mean
    over each object's surface points. Whether a paraphrase's best *peak* clears the 0.55
    threshold is the subject of the paraphrase issue (#13), not of this test."""
    boxes = {item["name"]: box_of(item) for item in scene["objects"]}
    result = longer_trained.query("a red sphere")
    best = result.points[int(np.argmax(result.relevancy))]
    distances = {name: box_distance(best, box) for name, box in boxes.items()}
    assert distances["red ball"] <= tolerance(scene), (best, distances)
    assert min(distances, key=distances.get) == "red ball"
    means = {}
    for name, (low, high) in boxes.items():
        inside = np.all((result.points >= low - 0.02) & (result.points <= high + 0.02), axis=1)
        assert inside.sum() >= 3, name  # every object has surface points
        means[name] = float(result.relevancy[inside].mean())
    assert max(means, key=means.get) == "red ball", means


def test_held_out_views_render_better_than_a_flat_guess(dataset, held_out_renders):
    training = np.stack([dataset.frames[i].image for i in TRAINING]).astype(np.float64) / 255
    mean_colour = training.reshape(-1, 3).mean(axis=0)
    scores = {}
    for index, (rgb, _) in held_out_renders.items():
        truth = dataset.frames[index].image.astype(np.float64) / 255
        scores[index] = (psnr(rgb, truth), psnr(np.broadcast_to(mean_colour, truth.shape), truth))
    print("held-out PSNR (model, mean colour):", scores)
    # Colour only, 700 steps. Measured over seeds 0/1/2: mean 23.4 / 22.8 / 23.3 dB, views
    # 21.4-25.9 dB; before the held-out pixel grid changed which rays are drawn, seed 0 gave
    # 26.2 and seeds 1/2 23.0 / 23.0: the earlier 25 dB bar was met by seed 0's draw alone.
    # The mean colour: 14.4-17.1 dB. Before the CPU preset's coarser grid and density scale of
    # 0.1: 18-22 dB (fog in front of the cameras, which novel views see). With depth the
    # same views reach 25.7 dB after 60 s (docs/benchmarks.md, rgbd).
    assert np.mean([model for model, _ in scores.values()]) >= 22.0, scores
    assert all(model >= 20.5 for model, _ in scores.values()), scores
    assert all(model >= flat + 5.0 for model, flat in scores.values()), scores


def test_held_out_depth_on_table_and_objects_is_bounded(dataset, scene, held_out_renders):
    errors = {}
    for index, (_, depth) in held_out_renders.items():
        frame = dataset.frames[index]
        mask = table_and_objects(frame, scene) & (frame.depth > 0)
        assert mask.sum() > 1000
        errors[index] = float(np.median(np.abs(depth[mask] - frame.depth[mask])))
    print("held-out median |depth error| on table + objects (m):", errors)
    # Measured: 0.071, 0.053, 0.047, 0.047 m (surfaces 0.9-1.6 m away; 0.35-0.56 m with
    # nerfacto's grid and density scale of 1, when fog in front of the cameras took much of
    # each ray's weight). A constant guess at each view's median depth: 0.06-0.12 m off.
    assert all(error < 0.15 for error in errors.values()), errors


def test_relevancy_view_lights_up_the_blue_box(engine, dataset, scene):
    names = [item["name"] for item in scene["objects"]]
    label = names.index("blue box") + 1
    # The training view showing most of the blue box, and its keyframe index.
    counts = [(instances(dataset.frames[i]) == label).sum() for i in TRAINING]
    keyframe = int(np.argmax(counts))
    frame = dataset.frames[TRAINING[keyframe]]
    height, width = frame.intrinsics.height, frame.intrinsics.width

    view = engine.relevancy_view("blue box", keyframe_index=keyframe)
    assert view["rgb"].shape == (height, width, 3)
    for key in ("depth", "accumulation", "relevancy"):
        assert view[key].shape == (height, width), key
        assert np.isfinite(view[key]).all(), key
    relevancy = view["relevancy"]
    assert ((relevancy >= 0) & (relevancy <= 1)).all()
    blue = instances(frame) == label
    print(
        "relevancy of 'blue box': on the box",
        float(relevancy[blue].mean()),
        "elsewhere",
        float(relevancy[~blue].mean()),
    )
    # Measured: 0.88 on the box's pixels, 0.33 elsewhere.
    assert relevancy[blue].mean() > relevancy[~blue].mean() + 0.3
    assert np.median(relevancy[blue]) > 0.5

    small = engine.relevancy_view("blue box", keyframe_index=keyframe, width=width // 2)
    assert small["relevancy"].shape == (height // 2, width // 2)
    assert small["rgb"].shape == (height // 2, width // 2, 3)


def test_save_then_load_into_a_new_engine_gives_the_same_answer(engine, tmp_path):
    path = engine.save(tmp_path / "engine.ckpt")
    config = LerfConfig.cpu()
    config.device = "cpu"
    clone = LerfEngine(config, engine.encoder, engine.dense_encoder)
    clone.load(path)

    assert clone.step == engine.step == SYNTHETIC_STEPS
    assert clone.frame_id == engine.frame_id == "map"
    assert clone.ready
    original_frames, loaded_frames = engine.keyframes.snapshot(), clone.keyframes.snapshot()
    assert [f.id for f in loaded_frames] == [f.id for f in original_frames]
    for a, b in zip(original_frames, loaded_frames, strict=True):
        assert torch.equal(a.image, b.image) and np.array_equal(a.c2w, b.c2w)
        assert b.has_features and b.intrinsics == a.intrinsics
    weights, loaded = engine.trainer.model.state_dict(), clone.trainer.model.state_dict()
    assert weights.keys() == loaded.keys()
    assert all(torch.equal(weights[key], loaded[key]) for key in weights)

    before, after = engine.query("red ball"), clone.query("red ball")
    assert after.peaks and before.peaks
    assert np.linalg.norm(after.peaks[0].position - before.peaks[0].position) < 0.01
    assert after.selected_scale == pytest.approx(before.selected_scale)
    assert after.peaks[0].relevancy == pytest.approx(before.peaks[0].relevancy, abs=1e-3)

    # Training resumes where it stopped.
    assert clone.train_step().step == SYNTHETIC_STEPS + 1


def test_status_reports_a_ready_trained_engine(engine):
    status = engine.status()
    assert status.ready and status.state == "training"
    assert status.step == SYNTHETIC_STEPS
    assert status.keyframes == status.keyframes_with_features == len(TRAINING)
    assert status.frames_received == len(TRAINING)
    assert status.frames_dropped == 0 and status.drop_reasons == {}
    assert status.message == ""
    assert 0.0 < status.rgb_loss < 0.02  # measured ~0.002 (27 dB on the batch)
    assert status.clip_loss > 0.0 and status.dino_loss >= 0.0
    assert status.rays_per_second > 0.0


@pytest.mark.parametrize(
    ("text", "scale", "message"),
    [
        ("", None, "query text is empty"),
        (" \t\n ", None, "query text is empty"),
        ("x" * 100_000, None, r"100000 characters long \(limit 1000\)"),
        ("red ball", math.nan, "scale must be a finite number"),
        ("red ball", math.inf, "scale must be a finite number"),
    ],
)
def test_bad_queries_are_refused_with_a_clear_message(engine, text, scale, message):
    with pytest.raises(QueryError, match=message):
        engine.query(text, scale=scale)
    with pytest.raises(QueryError, match=message):
        engine.relevancy_view(text, scale=scale)


def test_queries_before_the_field_is_ready_say_what_is_missing(engine, dataset):
    config = LerfConfig.cpu()
    config.device = "cpu"
    fresh = LerfEngine(config, engine.encoder, engine.dense_encoder)
    with pytest.raises(NotReadyError, match="no keyframes received yet"):
        fresh.query("red ball")
    with pytest.raises(NotReadyError, match="no keyframes"):
        fresh.relevancy_view("red ball")
    with pytest.raises(QueryError, match="empty"):  # a bad request is refused first
        fresh.query("   ")

    for index in TRAINING[:3]:
        frame = dataset.frames[index]
        fresh.add_frame(frame.image, frame.intrinsics, frame.c2w, float(index), force=True)
    with pytest.raises(NotReadyError, match=r"language features for 0/3 keyframes"):
        fresh.query("red ball")
    fresh.compute_pending_features()
    with pytest.raises(NotReadyError, match=r"trained 0/\d+ steps"):
        fresh.query("red ball")

    frame = dataset.frames[TRAINING[3]]
    dropped = fresh.add_frame(frame.image[:, :-1], frame.intrinsics, frame.c2w, 99.0, force=True)
    assert not dropped.accepted and "camera info says" in dropped.reason
    status = fresh.status()
    assert not status.ready and status.message.startswith("not ready: trained 0/")
    assert (status.keyframes, status.keyframes_with_features) == (3, 3)
    assert status.frames_received == 4 and status.frames_dropped == 1
    assert status.drop_reasons == {"invalid frame": 1}
