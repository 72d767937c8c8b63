"""``lerf-ros make-scene``: write a synthetic scene as a transforms.json dataset."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "make-scene",
        help="write a synthetic scene (transforms.json + scene.json with object boxes)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("out", help="output directory")
    parser.add_argument("--scene", default="default", help="default | mug | wall | six_objects")
    parser.add_argument("--views", type=int, default=30)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--height", type=int, default=96)
    parser.add_argument("--trajectory", default="orbit", help="orbit | robot | walk")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from lerf_ros.data.synthetic.export import make_scene_dataset

    out = make_scene_dataset(
        args.out,
        scene=args.scene,
        views=args.views,
        width=args.width,
        height=args.height,
        trajectory=args.trajectory,
        seed=args.seed,
    )
    print(f"wrote {args.views} views of the {args.scene!r} scene to {out}")
    return 0
