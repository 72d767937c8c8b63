"""``lerf-ros bringup`` and ``lerf-ros demo``: the node without ``ros2 launch``."""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

from lerf_ros.cli.main import CliError
from lerf_ros.package_share import PackageShareNotFound, share_file


def _shipped_config(name: str, required: bool = True) -> str | None:
    """config/NAME from the source tree or a colcon install's share directory
    (lerf_ros.package_share); None when missing and not ``required`` (``--help`` still works,
    the command that needs the file says why)."""
    try:
        return str(share_file("config", name))
    except PackageShareNotFound as error:
        if required:
            raise CliError(str(error)) from None
        return None


def register(subparsers) -> None:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    bringup = subparsers.add_parser(
        "bringup",
        help="run lerf_trainer with a parameter file (like the launch file)",
        formatter_class=fmt,
    )
    bringup.add_argument(
        "--params", default=_shipped_config("lerf.yaml", required=False), help="parameter file"
    )
    bringup.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME:=VALUE",
        help="parameter override (repeatable)",
    )
    bringup.add_argument("--name", default="lerf_trainer", help="node name")
    bringup.add_argument(
        "--localhost-only",
        action="store_true",
        help="keep DDS traffic on this machine (loopback discovery, loopback Fast DDS profile); "
        "without it ROS's discovery settings hold and nodes on other machines are seen",
    )
    bringup.set_defaults(handler=run_bringup)

    demo = subparsers.add_parser(
        "demo",
        help="stream a scene into the trainer, query it, save the answers",
        formatter_class=fmt,
    )
    demo.add_argument("--out", default="out/demo", help="output folder")
    demo.add_argument(
        "--scene", default="default", help="synthetic scene: default | mug | wall | six_objects"
    )
    demo.add_argument("--data", help="stream this dataset (e.g. fox) instead of a synthetic one")
    demo.add_argument("--queries", nargs="*", help="queries (default: the scene's objects)")
    demo.add_argument("--encoder", default=None, help="override the demo's colour-minilm")
    demo.add_argument("--dino", default=None, help="override the demo's colour-patches")
    demo.add_argument("--device", default=None, help="override cpu")
    demo.add_argument(
        "--params", default=_shipped_config("demo.yaml", required=False), help="parameter file"
    )
    demo.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for ready")
    demo.add_argument(
        "--no-pictures",
        dest="pictures",
        action="store_false",
        help="skip the 3D snapshots, side-by-side views and index.html",
    )
    demo.set_defaults(handler=run_demo)


def run_bringup(args) -> int:
    from lerf_ros.ros.bringup import trainer_command
    from lerf_ros.ros.dds import apply_dds_environment, describe_dds

    # On a robot the user's (or ROS's default) discovery holds; the profile only enlarges
    # the shared-memory segment unless --localhost-only asks for loopback.
    apply_dds_environment(localhost_only=args.localhost_only)
    params = Path(args.params or _shipped_config("lerf.yaml"))
    print(f"lerf-ros bringup: {args.name} with {params}; {describe_dds()}", flush=True)
    if not params.is_file():
        raise CliError(f"parameter file {params} not found")
    command = trainer_command(params, None, args.name)
    for item in args.param:
        command += ["-p", item]
    os.execv(command[0], command)  # replace this process: signals go straight to the node
    return 0  # pragma: no cover


def run_demo(args) -> int:
    from lerf_ros.ros.bringup import start_cli, start_trainer
    from lerf_ros.ros.client import TrainerClient

    args.params = args.params or _shipped_config("demo.yaml")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # A domain of its own keeps the demo away from other ROS traffic on this machine.
    os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(110, 200)))
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    overrides = {}
    if args.encoder:
        overrides.update(
            encoder=args.encoder, preset="lerf" if args.encoder == "openclip" else "cpu"
        )
    if args.dino:
        overrides["dino"] = args.dino
    if args.device:
        overrides["device"] = args.device
    checkpoint = (out / "model.ckpt").resolve()
    if args.pictures:  # ~/save writes the field here after the queries; pictures are drawn from it
        overrides["checkpoint_path"] = str(checkpoint)
    queries, truth = _queries(args)
    trainer = start_trainer(Path(args.params), overrides, log_path=out / "trainer.log")
    source, streamed = _start_source(args, out, start_cli)
    print(
        f"trainer pid {trainer.process.pid}, stream pid {source.process.pid}; logs in {out}/\n"
        f"streaming {streamed}",
        flush=True,
    )
    started = time.monotonic()
    try:
        with TrainerClient("/lerf_trainer", "lerf_demo") as client:
            if not client.wait_for_services(timeout=60):
                raise CliError(f"lerf_trainer did not come up; see {out / 'trainer.log'}")
            heatmaps = _HeatmapGrabber(client)
            last = ""
            while not client.wait_until_ready(timeout=5.0):
                status = client.last_status
                line = (
                    f"  [{time.monotonic() - started:5.0f} s] {status.state}: step {status.step}, "
                    f"{status.keyframes} keyframes ({status.keyframes_with_depth} with depth), "
                    f"{status.message}"
                    if status
                    else "  waiting"
                )
                if line != last:
                    print(line, flush=True)
                    last = line
                if time.monotonic() - started > args.timeout:
                    raise CliError(f"not ready after {args.timeout:.0f} s; see {out}/trainer.log")
                if not trainer.alive():
                    raise CliError(f"lerf_trainer exited; see {out / 'trainer.log'}")
            ready_after = time.monotonic() - started
            print(f"ready after {ready_after:.0f} s", flush=True)
            rows = [_ask(client, heatmaps, text, out, truth.get(text)) for text in queries]
            saved = _save_checkpoint(client) if args.pictures else None
    finally:
        source.stop()
        trainer.stop()
    table = _format_table(rows)
    print(table, flush=True)
    summary = {"ready_after_s": round(ready_after, 1), "queries": rows}
    (out / "results.json").write_text(json.dumps(summary, indent=2))
    print(f"\nwrote {out}/results.json, heat maps (*_heatmap.png) and clouds (*.ply)")
    if args.pictures:
        notes = [f"ready after {ready_after:.0f} s; table printed by lerf-ros demo"]
        if saved is None or not saved.success:
            reason = saved.message if saved is not None else "no answer"
            notes.append(f"no 3D pictures: ~/save failed ({reason})")
        else:
            try:
                notes.append(_pictures(args, overrides, checkpoint, queries, out))
            except Exception as error:  # the answers are saved already: report, keep them
                notes.append(f"3D pictures failed: {type(error).__name__}: {error}")
                print(notes[-1], file=sys.stderr, flush=True)
        from lerf_ros.visualize.index_html import write_index

        index = write_index(out, rows, table, "lerf_ros demo: what the robot understood", notes)
        print(f"wrote {index} (open it in a browser)")
    return 0


def _save_checkpoint(client, timeout: float = 120.0):
    """Call the node's ``~/save`` (lerf_ros/srv/Checkpoint, its checkpoint_path); None when it
    does not answer."""
    try:
        return client.save("", timeout=timeout)
    except TimeoutError as error:
        print(f"~/save: {error}", flush=True)
        return None


def _pictures(args, overrides: dict, checkpoint: Path, queries: list[str], out: Path) -> str:
    """3D snapshots and side-by-side views of every query, from the node's saved checkpoint,
    with the node's own engine and target settings (its parameter file and overrides)."""
    from lerf_ros.engine.build import open_checkpoint
    from lerf_ros.ros.parameter_files import parameters_for
    from lerf_ros.ros.parameters import (
        PARAMETERS,
        NodeParameters,
        engine_config,
        target_config,
    )
    from lerf_ros.visualize.pictures import query_pictures

    started = time.monotonic()
    values = {name: parameter.default for name, parameter in PARAMETERS.items()}
    values.update(parameters_for(Path(args.params), "/lerf_trainer"))
    values.update(overrides)
    p = NodeParameters(values)
    engine = open_checkpoint(
        engine_config(p),
        checkpoint,
        p.encoder,
        p.dino,
        encoder_checkpoint=p.encoder_checkpoint,
        threads=p.torch_threads,  # the node has stopped: its cores are free
    )
    targets = target_config(p)
    for text in queries:
        _, paths = query_pictures(engine, text, out, target_config=targets)
        print(f"  pictures of {text!r}: " + ", ".join(path.name for path in paths), flush=True)
    note = (
        f"3D snapshots and side-by-side views: drawn from the checkpoint the node saved after "
        f"the queries ({checkpoint.name}, step {engine.step}), in "
        f"{time.monotonic() - started:.0f} s"
    )
    print(note, flush=True)
    return note


def _queries(args) -> tuple[list[str], dict]:
    if args.queries:
        return list(args.queries), {}
    if args.data:
        raise CliError("--data needs --queries (what to look for in that scene)")
    from lerf_ros.data.synthetic.presets import SCENES

    scene = SCENES[args.scene]()
    truth = {obj.name: [list(map(float, b)) for b in obj.box()] for obj in scene.objects}
    return list(truth), truth


def _start_source(args, out: Path, start_cli):
    """The camera stream's process and what it streams (said in the demo's output)."""
    from lerf_ros.data.camera_stream import CameraTopics

    depth_topic = CameraTopics().depth
    with_depth = f"colour, poses and depth (16UC1 mm on {depth_topic})"
    if args.data:
        from lerf_ros.data.bags import bag_summary, write_bag

        bag = out / "stream_bag"
        if not bag.exists():
            write_bag(args.data, bag)
        has_depth = depth_topic in bag_summary(bag).topics
        what = f"{args.data} from {bag}: " + (with_depth if has_depth else "colour and poses")
        return start_cli(["play", str(bag), "--loop"], out / "stream.log"), what
    what = f"synthetic scene {args.scene!r}: {with_depth}"
    return start_cli(["stream", "--scene", args.scene, "--loop"], out / "stream.log"), what


class _HeatmapGrabber:
    """Keeps the latest ~/relevancy_image (published after every query)."""

    def __init__(self, client):
        from sensor_msgs.msg import Image

        self.latest = None
        self.count = 0
        client.node.create_subscription(Image, "/lerf_trainer/relevancy_image", self._on, 1)

    def _on(self, msg) -> None:
        self.latest = msg
        self.count += 1


def _ask(client, heatmaps, text: str, out: Path, box) -> dict:
    import numpy as np

    from lerf_ros.query.heatmap import save_png
    from lerf_ros.query.ply import write_ply
    from lerf_ros.ros.conversions import cloud_to_arrays, image_to_rgb
    from lerf_ros.visualize import slug as file_stem

    slug = file_stem(text)
    seen = heatmaps.count
    response = client.query(text, return_cloud=True, timeout=120)
    row = {
        "query": text,
        "success": response.success,
        "message": response.message,
        "selected_scale": round(response.selected_scale, 3),
        "latency_s": round(response.elapsed_seconds, 3),
        "peaks": [],
    }
    for peak in response.peaks:
        row["peaks"].append(
            {
                "position": [
                    round(peak.position.x, 3),
                    round(peak.position.y, 3),
                    round(peak.position.z, 3),
                ],
                "relevancy": round(peak.relevancy, 3),
                "support": peak.support,
            }
        )
    if response.success and response.cloud.width:
        points, relevancy = cloud_to_arrays(response.cloud)
        grey = np.full_like(points, 0.5)
        write_ply(out / f"{slug}.ply", points, grey, relevancy)
    if client.wait_until(lambda: heatmaps.count > seen, timeout=60) and heatmaps.latest:
        save_png(out / f"{slug}_heatmap.png", image_to_rgb(heatmaps.latest))
    targets = client.get_targets(text, timeout=120)
    row["grasps"] = len(targets.grasp_poses)
    row["navigation_goals"] = len(targets.navigation_goals)
    if box is not None and row["peaks"]:
        low, high = np.array(box[0]), np.array(box[1])
        best = np.array(row["peaks"][0]["position"])
        row["inside_true_box"] = bool(np.all(best >= low - 0.03) and np.all(best <= high + 0.03))
    return row


def _format_table(rows: list[dict]) -> str:
    lines = [
        f"\n{'query':20s} {'best peak (x, y, z) m':28s} {'relev.':>6s} {'scale':>6s} "
        f"{'grasps':>6s} {'goals':>5s} {'in box':>6s}"
    ]
    for row in rows:
        best = row["peaks"][0] if row["peaks"] else None
        where = "(" + ", ".join(f"{v:+.2f}" for v in best["position"]) + ")" if best else "-"
        rel = f"{best['relevancy']:.3f}" if best else "-"
        inside = {True: "yes", False: "NO", None: "-"}[row.get("inside_true_box")]
        lines.append(
            f"{row['query'][:20]:20s} {where:28s} {rel:>6s} {row['selected_scale']:6.2f} "
            f"{row['grasps']:6d} {row['navigation_goals']:5d} {inside:>6s}"
        )
    return "\n".join(lines)
