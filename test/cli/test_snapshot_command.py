"""``lerf-ros snapshot CKPT "query"``: PNGs and an index.html from a checkpoint."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from lerf_ros.cli.main import build_parser, main

ENGINE = ["--encoder", "colour-minilm", "--dino", "colour-patches", "--device", "cpu"]


def test_snapshot_is_a_registered_command():
    args = build_parser().parse_args(["snapshot", "model.ckpt", "red ball", "blue box"])
    assert args.queries == ["red ball", "blue box"]
    assert args.out == "out/snapshot" and args.viewpoints == ["top", "oblique", "closeup"]
    assert args.handler.__name__ == "run_snapshot"


def test_snapshot_of_a_missing_checkpoint_is_a_one_line_error(tmp_path, capsys):
    missing = tmp_path / "missing.ckpt"
    status = main(["snapshot", str(missing), "red ball", "--out", str(tmp_path), *ENGINE])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lerf-ros snapshot: error: "), err


@pytest.mark.slow
def test_snapshot_writes_pictures_and_an_index(trained_synthetic_engine, tmp_path, capsys):
    engine, _, _ = trained_synthetic_engine
    checkpoint = engine.save(tmp_path / "model.ckpt")
    out = tmp_path / "pictures"
    threads = torch.get_num_threads()
    try:
        args = ["snapshot", str(checkpoint), "red ball", "--out", str(out)]
        status = main([*args, "--viewpoints", "top", *ENGINE, "--threads", "1"])
    finally:
        torch.set_num_threads(threads)
    assert status == 0
    printed = capsys.readouterr().out
    assert "'red ball': best peak (" in printed
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == ["red_ball_side_by_side.png", "red_ball_snapshot_top.png"]
    with Image.open(out / "red_ball_snapshot_top.png") as image:
        assert image.size == (900, 750)
    page = (out / "index.html").read_text()
    assert all(name in page for name in names)
    assert f"step {engine.step}" in page
