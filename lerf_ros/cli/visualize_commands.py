"""``lerf-ros snapshot``: pictures of a query's answer from a checkpoint, without RViz."""

from __future__ import annotations

import argparse
from pathlib import Path

VIEWPOINT_NAMES = ("top", "oblique", "closeup")


def register(subparsers) -> None:
    from lerf_ros.cli.engine_commands import _engine_arguments

    snapshot = subparsers.add_parser(
        "snapshot",
        help="PNGs of a query's answer in 3D and a side-by-side view (headless)",
        description=(
            "Writes, per query, <query>_snapshot_{top,oblique,closeup}.png (surface points in "
            "RGB, relevancy in viridis, labelled peaks, grasp gripper, navigation goal), "
            "<query>_side_by_side.png (RGB render | relevancy | depth of a keyframe view) "
            "and index.html showing them."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    snapshot.add_argument("checkpoint")
    snapshot.add_argument("queries", nargs="+", metavar="text", help="one or more queries")
    snapshot.add_argument("--out", default="out/snapshot", help="output folder")
    snapshot.add_argument("--negatives", nargs="*", default=[])
    snapshot.add_argument("--max-results", type=int, default=None)
    snapshot.add_argument(
        "--view", type=int, default=None, help="keyframe of the side-by-side (None: best view)"
    )
    snapshot.add_argument(
        "--viewpoints",
        nargs="+",
        choices=VIEWPOINT_NAMES,
        default=list(VIEWPOINT_NAMES),
        help="3D viewpoints to draw",
    )
    _engine_arguments(snapshot)
    snapshot.set_defaults(handler=run_snapshot)


def run_snapshot(args) -> int:
    from lerf_ros.cli.engine_commands import load_engine
    from lerf_ros.cli.main import CliError
    from lerf_ros.visualize.index_html import write_index
    from lerf_ros.visualize.pictures import query_pictures

    if not Path(args.checkpoint).is_file():  # say so before loading encoders
        raise CliError(f"checkpoint {args.checkpoint} does not exist")
    engine = load_engine(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for text in args.queries:
        answer, paths = query_pictures(
            engine, text, out, args.negatives, args.max_results, args.view, args.viewpoints
        )
        best = answer.peaks[0] if answer.peaks else None
        summary = (
            f"best peak ({', '.join(f'{v:+.2f}' for v in best.position)}) m, relevancy "
            f"{best.relevancy:.2f}; {len(answer.grasps)} grasp(s), {len(answer.goals)} goal(s)"
            if best is not None
            else f"no peak above relevancy {answer.min_relevancy:.2f}"
        )
        rows.append({"query": text, "message": summary})
        print(f"{text!r}: {summary}")
        for path in paths:
            print(f"  wrote {path}")
    index = write_index(
        out,
        rows,
        title="lerf_ros snapshot",
        notes=[f"checkpoint {args.checkpoint}, step {engine.step}, frame '{engine.frame_id}'"],
    )
    print(f"wrote {index}")
    return 0
