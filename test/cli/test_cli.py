"""``lerf-ros make-scene | train | query | render`` run as subprocesses, as a user would."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from lerf_ros.query.ply import read_ply
from lerf_ros.training.checkpoint import load_checkpoint

VIEWS, WIDTH, HEIGHT, STEPS = 12, 64, 48, 60
ENGINE = ["--encoder", "colour-minilm", "--dino", "colour-patches", "--device", "cpu"]
ENGINE += ["--threads", "1"]  # one thread: much steadier than two on a shared 2-core machine


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """In-process work (the shared engine's queries) with one torch thread, as the commands."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def lerf_ros(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lerf_ros.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stderr[-3000:]


def assert_one_line_error(result: subprocess.CompletedProcess, command: str, *words: str):
    assert result.returncode == 2, (result.returncode, result.stderr[-3000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"lerf-ros {command}: error: "), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 12-view 64x48 synthetic scene and a 60-step checkpoint of it."""
    root = tmp_path_factory.mktemp("cli")
    data, checkpoint = root / "scene", root / "model.ckpt"
    made = lerf_ros("make-scene", data, "--views", VIEWS, "--width", WIDTH, "--height", HEIGHT)
    assert_ok(made)
    assert f"wrote {VIEWS} views" in made.stdout
    train = lerf_ros("train", "--data", data, "--out", checkpoint, *ENGINE, "--steps", STEPS)
    assert_ok(train)
    assert f"trained {STEPS} steps on {VIEWS} views" in train.stdout
    assert f"{VIEWS} of {VIEWS} views with depth" in train.stderr  # make-scene writes depth
    return data, checkpoint


@pytest.mark.slow
def test_make_scene_and_train_write_a_dataset_and_a_checkpoint(trained):
    data, checkpoint = trained
    transforms = json.loads((data / "transforms.json").read_text())
    assert (transforms["w"], transforms["h"]) == (WIDTH, HEIGHT)
    assert len(transforms["frames"]) == VIEWS
    assert all((data / frame["file_path"]).is_file() for frame in transforms["frames"])
    scene = json.loads((data / "scene.json").read_text())
    assert "red ball" in [obj["name"] for obj in scene["objects"]]

    saved = load_checkpoint(checkpoint)
    assert saved["step"] == STEPS and saved["frame_id"] == "map"
    assert len(saved["keyframes"]) == VIEWS
    assert all(frame["pyramid"] is not None for frame in saved["keyframes"])
    assert all(frame["depth"] is not None for frame in saved["keyframes"])
    # The scene box came from scene.json's bounds.
    np.testing.assert_allclose(
        saved["aabb"].numpy(), [scene["bounds"]["min"], scene["bounds"]["max"]]
    )


@pytest.fixture(scope="module")
def synthetic_checkpoint(trained_synthetic_engine, tmp_path_factory):
    """The session's 400-step engine saved as a checkpoint: a field good enough to answer (a
    60-step one has no surface seen by three views yet), without training a second one."""
    engine = trained_synthetic_engine[0]
    return engine.save(tmp_path_factory.mktemp("cli_query") / "synthetic.ckpt")


@pytest.mark.slow
def test_query_prints_json_and_writes_cloud_and_heatmap(
    trained_synthetic_engine, synthetic_checkpoint, tmp_path
):
    engine, dataset, scene = trained_synthetic_engine
    cloud, heatmap = tmp_path / "x.ply", tmp_path / "h.png"
    result = lerf_ros(
        "query", synthetic_checkpoint, "red ball", "--json", "--cloud", cloud,
        "--heatmap", heatmap, "--view", 0, "--max-results", 3, *ENGINE,
    )  # fmt: skip
    assert_ok(result)
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(answer) >= {"frame_id", "text", "selected_scale", "peaks"}
    assert answer["frame_id"] == "map" and answer["text"] == "red ball"
    assert 0.0 < answer["selected_scale"] <= 2.0
    assert 1 <= len(answer["peaks"]) <= 3
    for peak in answer["peaks"]:
        assert set(peak) == {"position", "relevancy", "scale", "extent", "support"}
        assert len(peak["position"]) == 3 and len(peak["extent"]) == 3
        assert 0.5 < peak["relevancy"] < 1.0 and peak["support"] >= 3
        assert peak["scale"] == answer["selected_scale"]
    relevancies = [peak["relevancy"] for peak in answer["peaks"]]
    assert relevancies == sorted(relevancies, reverse=True)
    ball = next(item for item in scene["objects"] if item["name"] == "red ball")
    best = np.array(answer["peaks"][0]["position"])
    assert np.all(best >= np.array(ball["box_min"]) - 0.02), best
    assert np.all(best <= np.array(ball["box_max"]) + 0.02), best

    # The cloud is the engine's own answer. (Not point for point: another process with another
    # thread count renders the candidates with rounding differences, ~0.1 % of the points.)
    expected = engine.query("red ball", max_results=3)
    points = read_ply(cloud)
    xyz = np.stack([points["x"], points["y"], points["z"]], axis=1)
    assert len(points["relevancy"]) == len(points["red"]) == len(xyz) > 1000
    assert abs(len(xyz) - len(expected.points)) <= 0.01 * len(expected.points)
    assert np.isfinite(xyz).all()
    assert ((points["relevancy"] > 0) & (points["relevancy"] < 1)).all()
    assert points["relevancy"].max() == pytest.approx(expected.relevancy.max(), abs=0.01)
    assert np.linalg.norm(best - expected.peaks[0].position) < 0.01
    most_relevant = xyz[np.argsort(points["relevancy"])[-20:]]
    assert np.all(most_relevant >= np.array(ball["box_min"]) - 0.05)
    assert np.all(most_relevant <= np.array(ball["box_max"]) + 0.05)

    frame = dataset.frames[1]  # keyframe 0 is view 1: view 0 is held out
    with Image.open(heatmap) as image:
        assert image.size == (frame.intrinsics.width, frame.intrinsics.height)
        assert image.mode == "RGB"


@pytest.mark.slow
def test_render_writes_a_png_of_the_view(trained, tmp_path):
    data, checkpoint = trained
    out = tmp_path / "r.png"
    result = lerf_ros("render", checkpoint, "--view", 0, "--out", out, *ENGINE)
    assert_ok(result)
    with Image.open(out) as image:
        assert image.size == (WIDTH, HEIGHT) and image.mode == "RGB"
        rendered = np.asarray(image, dtype=np.float64) / 255.0
    with Image.open(data / "images" / "0000.png") as image:
        truth = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    psnr = -10.0 * np.log10(np.mean((rendered - truth) ** 2))
    assert psnr > 18.0, psnr  # measured 22.2 dB after 60 steps (a training view)


@pytest.mark.slow
def test_render_of_a_view_out_of_range_names_the_range(trained, tmp_path):
    _, checkpoint = trained
    result = lerf_ros("render", checkpoint, "--view", 99, "--out", tmp_path / "r.png", *ENGINE)
    assert_one_line_error(result, "render", "view 99 out of range", f"{VIEWS} views")
    assert not (tmp_path / "r.png").exists()


def test_train_on_a_missing_data_dir_fails_with_one_line(tmp_path):
    missing = tmp_path / "no_such_scene"
    result = lerf_ros("train", "--data", missing, "--out", tmp_path / "c.ckpt", *ENGINE)
    assert_one_line_error(result, "train", str(missing), "not a dataset")
    assert not (tmp_path / "c.ckpt").exists()


def test_query_of_a_corrupt_checkpoint_fails_with_one_line(tmp_path):
    corrupt = tmp_path / "corrupt.ckpt"
    corrupt.write_bytes(b"PK\x03\x04 this is not a checkpoint" * 10)
    result = lerf_ros("query", corrupt, "red ball", *ENGINE)
    assert_one_line_error(result, "query", str(corrupt), "unreadable")


def test_a_training_failure_is_one_line_and_keeps_the_last_good_state(trained, tmp_path, capsys):
    """Whatever stops training (here a divergence injected after 5 steps) is reported in one
    line, without a traceback, and the weights trained so far are written and load."""
    from lerf_ros.cli.main import main
    from lerf_ros.engine import LerfEngine

    data, _ = trained
    out = tmp_path / "partial.ckpt"
    real_step = LerfEngine.train_step
    calls = {"n": 0}

    def step_then_fail(engine):
        calls["n"] += 1
        if calls["n"] > 5:
            raise FloatingPointError("training diverged: injected")
        return real_step(engine)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LerfEngine, "train_step", step_then_fail)
        code = main(["train", "--data", str(data), "--out", str(out), *ENGINE, "--steps", "50"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    report = [line for line in err.splitlines() if line.startswith("lerf-ros train:")]
    assert report == ["lerf-ros train: training failed: training diverged: injected (step 5)"]
    assert f"saved the last good state (step 5) to {out}" in err
    assert load_checkpoint(out)["step"] == 5
