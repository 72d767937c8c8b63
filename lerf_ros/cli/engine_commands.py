"""``lerf-ros train | query | render``: the engine offline, on a dataset."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def register(subparsers) -> None:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    train = subparsers.add_parser("train", help="train a LERF on a dataset", formatter_class=fmt)
    train.add_argument("--data", required=True, help="transforms.json / LLFF / synthetic dir")
    train.add_argument("--out", required=True, help="checkpoint to write")
    _engine_arguments(train)
    budget = train.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=float, help="train for this long")
    budget.add_argument("--steps", type=int, help="train this many steps")
    train.add_argument("--downscale", type=float, default=1.0, help="image downscale factor")
    train.add_argument("--max-images", type=int, default=None)
    train.add_argument(
        "--no-depth", action="store_true", help="ignore the dataset's depth images (colour only)"
    )
    train.set_defaults(handler=run_train)

    query = subparsers.add_parser("query", help="query a checkpoint", formatter_class=fmt)
    query.add_argument("checkpoint")
    query.add_argument("text")
    query.add_argument("--negatives", nargs="*", default=[])
    query.add_argument("--scale", type=float, default=None, help="metres (default: sweep)")
    query.add_argument("--max-results", type=int, default=None)
    query.add_argument("--json", action="store_true", help="print the answer as JSON")
    query.add_argument("--cloud", help="write the relevancy cloud to this PLY file")
    query.add_argument("--heatmap", help="write a relevancy heat map PNG of --view")
    query.add_argument("--view", type=int, default=-1, help="keyframe index for --heatmap")
    _engine_arguments(query)
    query.set_defaults(handler=run_query)

    render = subparsers.add_parser("render", help="render a keyframe view", formatter_class=fmt)
    render.add_argument("checkpoint")
    render.add_argument("--view", type=int, default=0)
    render.add_argument("--out", required=True, help="PNG to write")
    _engine_arguments(render)
    render.set_defaults(handler=run_render)


def _engine_arguments(parser) -> None:
    parser.add_argument("--encoder", default="openclip", help="name or package.module:Class")
    parser.add_argument("--dino", default="dino", help="name, none, or package.module:Class")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--preset", default="auto", help="auto (cpu on CPU) | lerf | cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")


def _config(args):
    """The preset the options ask for, on the device they ask for."""
    from lerf_ros.training.config import LerfConfig, check_device
    from lerf_ros.training.trainer import resolve_device

    # check_device / from_preset: the node's error text for the same mistake.
    device = resolve_device(check_device(args.device))
    preset = args.preset if args.preset != "auto" else ("lerf" if device.type == "cuda" else "cpu")
    config = LerfConfig.from_preset(preset)
    config.device = str(device)
    return config


def run_train(args) -> int:
    from tqdm import tqdm

    from lerf_ros.data.datasets import load_dataset
    from lerf_ros.engine.build import build_engine

    dataset = load_dataset(args.data, downscale=args.downscale, max_images=args.max_images)
    config = _config(args)
    if dataset.scene_box is not None:
        config.scene.box_min = tuple(float(v) for v in dataset.scene_box.minimum)
        config.scene.box_max = tuple(float(v) for v in dataset.scene_box.maximum)
    engine = build_engine(
        config, args.encoder, args.dino, frame_id=dataset.frame_id, threads=args.threads
    )
    for index, frame in enumerate(dataset.frames):
        depth = None if args.no_depth else frame.depth
        engine.add_frame(
            frame.image, frame.intrinsics, frame.c2w, float(index), force=True, depth=depth
        )
    with_depth = engine.status().keyframes_with_depth
    if with_depth:
        print(f"{with_depth} of {len(dataset.frames)} views with depth", file=sys.stderr)
    with tqdm(total=len(dataset.frames), desc="features", unit="view", file=sys.stderr) as bar:
        while engine.compute_pending_features(limit=1):
            bar.update(1)
    steps = args.steps if args.steps is not None else (None if args.seconds else 3000)
    deadline = time.monotonic() + args.seconds if args.seconds else None
    try:
        _train(engine, steps, deadline)
    except (Exception, KeyboardInterrupt) as error:
        # One line, and the work kept: the weights now are the last good ones (a step never
        # writes a non-finite update; a run of them rolled back before raising).
        what = "interrupted" if isinstance(error, KeyboardInterrupt) else f"failed: {error}"
        print(f"lerf-ros train: training {what} (step {engine.step})", file=sys.stderr)
        if engine.step == 0:
            return 130 if isinstance(error, KeyboardInterrupt) else 1
        path = engine.save(args.out)
        print(f"saved the last good state (step {engine.step}) to {path}", file=sys.stderr)
        return 130 if isinstance(error, KeyboardInterrupt) else 1
    path = engine.save(args.out)
    print(f"trained {engine.step} steps on {len(dataset.frames)} views; saved {path}")
    return 0


def _train(engine, steps: int | None, deadline: float | None) -> None:
    from tqdm import tqdm

    with tqdm(total=steps, desc="training", unit="step", file=sys.stderr) as bar:
        while (steps is None or engine.step < steps) and (
            deadline is None or time.monotonic() < deadline
        ):
            stats = engine.train_step()
            bar.update(1)
            if stats is not None and engine.step % 25 == 0:
                bar.set_postfix(
                    rgb=f"{stats.rgb_loss:.4f}",
                    clip=f"{stats.clip_loss:.3f}",
                    rays_s=f"{stats.rays_per_second:.0f}",
                )


def load_engine(args):
    """The checkpoint ``args.checkpoint``, to answer from."""
    from lerf_ros.engine.build import open_checkpoint

    return open_checkpoint(
        _config(args), args.checkpoint, args.encoder, args.dino, threads=args.threads
    )


def run_query(args) -> int:
    from lerf_ros.query.heatmap import overlay, save_png
    from lerf_ros.query.ply import write_ply

    engine = load_engine(args)
    result = engine.query(args.text, args.negatives, args.scale, args.max_results)
    answer = {
        "frame_id": engine.frame_id,
        "text": result.request.text,
        "selected_scale": result.selected_scale,
        "peaks": [
            {
                "position": [float(v) for v in peak.position],
                "relevancy": peak.relevancy,
                "scale": peak.scale,
                "extent": [float(v) for v in peak.extent],
                "support": peak.support,
            }
            for peak in result.peaks
        ],
    }
    if args.json:
        print(json.dumps(answer))
    else:
        print(
            f"{result.request.text!r}: scale {result.selected_scale:.2f} m, "
            f"{len(result.peaks)} peak(s) in frame {engine.frame_id!r}"
        )
        for i, peak in enumerate(result.peaks, 1):
            x, y, z = peak.position
            print(
                f"  {i}. ({x:+.3f}, {y:+.3f}, {z:+.3f})  relevancy {peak.relevancy:.3f}  "
                f"support {peak.support}"
            )
    if args.cloud:
        write_ply(args.cloud, result.points, result.colors, result.relevancy)
    if args.heatmap:
        view = engine.relevancy_view(args.text, args.view, result.selected_scale, args.negatives)
        save_png(args.heatmap, overlay(view["rgb"], view["relevancy"]))
    return 0


def run_render(args) -> int:
    import numpy as np

    from lerf_ros.query.heatmap import save_png

    engine = load_engine(args)
    views = engine.keyframe_views()
    if not -len(views) <= args.view < len(views):
        raise ValueError(f"view {args.view} out of range (checkpoint has {len(views)} views)")
    view = views[args.view]
    rgb = engine.render_view(view.intrinsics, view.c2w)["rgb"]
    save_png(args.out, (np.clip(rgb, 0, 1) * 255).round().astype(np.uint8))
    print(f"wrote {Path(args.out)}")
    return 0
