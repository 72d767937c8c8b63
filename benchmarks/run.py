"""Run the benchmarks, print a table and rewrite docs/benchmarks.md.

.venv/bin/python -m benchmarks.run [--quick | --full] [--only NAMES] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.common import Options, Row, load_average, machine_info
from benchmarks.engine_step import engine_rows, save_hold_rows
from benchmarks.first_answer import first_answer_rows
from benchmarks.language import language_rows
from benchmarks.load import load_rows
from benchmarks.memory import memory_rows
from benchmarks.memory_stream import memory_stream_rows
from benchmarks.pyramid import pyramid_rows
from benchmarks.quality import quality_rows
from benchmarks.query import query_rows
from benchmarks.query_latency import query_latency_rows
from benchmarks.report import (
    RunRecord,
    console,
    record_path,
    write_markdown,
    write_on_request_section,
)
from benchmarks.rgbd import rgbd_rows
from benchmarks.rgbd_node import rgbd_node_rows
from benchmarks.soak import soak_rows
from benchmarks.training import hash_grid_rows, nerf_rows, precision_rows

GROUPS: dict[str, list[Callable[[Options], list[Row]]]] = {
    "training": [nerf_rows, language_rows, precision_rows],
    "hashgrid": [hash_grid_rows],
    "engine": [engine_rows, save_hold_rows],
    "pyramid": [pyramid_rows],
    "first_answer": [first_answer_rows],  # before query: the query benchmark reuses its model
    "query": [query_rows],
    "quality": [quality_rows],
    "rgbd": [rgbd_rows],  # RGB vs RGB-D side by side on two scenes: ~10 min on 2 cores
    "rgbd_node": [rgbd_node_rows],  # the same through the real node: ~6 min
    "query_latency": [query_latency_rows],  # first and later query, RGB-D vs RGB: ~3 min
    "memory": [memory_rows],
    "memory_stream": [memory_stream_rows],  # 10,000 frames through one engine: minutes
    "load": [load_rows],  # the real node under 10 concurrent clients: minutes, see below
    "soak": [soak_rows],  # the real node for an hour (3 min with --quick): report in out/
}
ON_REQUEST = {"load", "memory_stream", "soak", "rgbd", "rgbd_node", "query_latency"}
"""Groups left out of a normal or quick run (they take minutes): ``--only`` them, or --full."""
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="every CPU row within ~15 s")
    mode.add_argument("--full", action="store_true", help="also the largest sizes and durations")
    parser.add_argument("--only", action="append", default=[], help="comma-separated groups")
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None)
    parser.add_argument("--out", type=Path, default=DOC, help="markdown file to rewrite")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument(
        "--json", type=Path, default=None, help="also write the rows here, after every group"
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite --out from the stored CPU and GPU rows, measuring nothing",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    unknown = sorted(set(names) - set(GROUPS))
    if unknown:
        parser.error(f"unknown group(s) {unknown}; choose from {', '.join(GROUPS)}")
    default = [g for g in GROUPS if args.full or g not in ON_REQUEST]
    args.groups = list(dict.fromkeys(names)) if names else default  # --only keeps its order
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available")
    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    return args


def run_group(name: str, options: Options) -> list[Row]:
    rows = []
    for function in GROUPS[name]:
        start = time.perf_counter()
        try:
            new = function(options)
        except Exception as error:  # one broken benchmark must not hide the others
            traceback.print_exc()
            new = [Row(name, function.__name__, None, note=f"{type(error).__name__}: {error}")]
        seconds = time.perf_counter() - start
        print(f"[{name}] {function.__name__}: {seconds:.0f} s", file=sys.stderr, flush=True)
        print(console(new), flush=True)
        rows += new
    return rows


def merged(earlier: RunRecord, latest: RunRecord) -> RunRecord:
    """``latest`` with the rows of ``earlier`` (same device) that it did not measure again,
    so that a run of a few groups updates those rows and keeps the rest."""
    measured = {(r.group, r.name) for r in latest.rows}
    kept = [r for r in earlier.rows if (r.group, r.name) not in measured]
    if kept:
        groups = ", ".join(dict.fromkeys(r.group for r in kept))
        latest.run["rows kept from an earlier run"] = (
            f"{groups} ({len(kept)} rows, run of {earlier.run.get('date', '?')})"
        )
    latest.rows = kept + latest.rows
    return latest


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.render_only:
        cpu, gpu = (RunRecord.load(record_path(args.out, cuda)) for cuda in (False, True))
        write_markdown(args.out, cpu, gpu, list(GROUPS))
        print(f"wrote {args.out}")
        return 0
    options = Options(torch.device(args.device), quick=args.quick, full=args.full)
    torch.manual_seed(0)
    started, load_before = time.perf_counter(), load_average()
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    rows: list[Row] = []
    for name in args.groups:
        rows += run_group(name, options)
        if args.json:  # after every group: a run cut short still leaves what it measured
            partial = RunRecord(rows, machine_info(options.device), {"date": date})
            partial.save(args.json)
    mode = "quick" if args.quick else "full" if args.full else "normal"
    run = {
        "date": date,
        "mode": mode,
        "groups run": ", ".join(args.groups),
        "wall time": f"{time.perf_counter() - started:.0f} s",
        "load average (1, 5, 15 min) at start": load_before,
        "load average at end": load_average(),
        "timing caveat": (
            "shared machine (other workers' processes compete for the cores): best-of-N "
            "timings, still noisy; treat CPU figures as ±30 % or worse"
            if not options.cuda
            else "best-of-N timings after warm-up"
        ),
    }
    if set(args.groups) <= ON_REQUEST:
        write_on_request_section(args.out, rows, machine_info(options.device), run, args.groups)
    else:
        record = RunRecord(rows, machine_info(options.device), run, mode, options.cuda)
        earlier = RunRecord.load(record_path(args.out, options.cuda))
        if earlier is not None:
            record = merged(earlier, record)
        record.save(record_path(args.out, options.cuda))
        other = RunRecord.load(record_path(args.out, not options.cuda))
        cpu, gpu = (other, record) if options.cuda else (record, other)
        write_markdown(args.out, cpu, gpu, list(GROUPS))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
