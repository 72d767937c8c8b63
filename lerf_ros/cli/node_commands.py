"""``lerf-ros status | ask | save | load``: talk to a running ``lerf_trainer`` without the
``ros2`` tools (for pip users).

Every wait is bounded by ``--timeout``; when no node answers in time the command prints which
node it looked for and the DDS settings to check, and exits with status 1. A node that answers
``success=false`` (not ready, nothing found, a refused name) exits with status 3.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

NO_NODE = 1
"""Exit status when no node answers within ``--timeout``."""
REFUSED = 3
"""Exit status when the node answers ``success=false``."""

ERROR_CODES = ("SUCCESS", "NOT_READY", "BUSY", "NO_TARGET", "INVALID_REQUEST", "FAILED")
"""GetTargets.Response error codes by value (srv/GetTargets.srv)."""
GRASP_KINDS = {0: "top", 1: "side"}


class NoNodeError(TimeoutError):
    """No node answered within the timeout; the message says what to check."""


def register(subparsers) -> None:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--node", default="/lerf_trainer", help="name of the running node")
    common.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds to wait for the node to appear, and again for its answer",
    )

    status = subparsers.add_parser(
        "status",
        parents=[common],
        help="follow a running node's ~/status (one line per message)",
        formatter_class=fmt,
    )
    status.add_argument("--once", action="store_true", help="print one message and exit")
    status.add_argument("--json", action="store_true", help="one JSON object per message")
    status.set_defaults(handler=run_status)

    ask = subparsers.add_parser(
        "ask",
        parents=[common],
        help="ask a running node where something is (~/query, or ~/get_targets)",
        formatter_class=fmt,
    )
    ask.add_argument("text", help='what to find, e.g. "red mug" (or "mug;handle" with --targets)')
    ask.add_argument("--targets", action="store_true", help="grasps and navigation goals too")
    ask.add_argument("--negative", action="append", default=[], help="extra negative phrase")
    ask.add_argument("--max-results", type=int, default=0, help="peaks at most (0: node default)")
    ask.add_argument("--json", action="store_true", help="print the answer as a JSON document")
    ask.set_defaults(handler=run_ask)

    for name, verb in (("save", "write"), ("load", "read")):
        command = subparsers.add_parser(
            name,
            parents=[common],
            help=f"make a running node {verb} a checkpoint (~/{name})",
            description=(
                "NAME is a file in the directory of the node's checkpoint_path (no suffix: "
                "checkpoint_path's is added); without NAME, checkpoint_path itself. Names "
                "leaving that directory are refused."
            ),
            formatter_class=fmt,
        )
        command.add_argument("name", nargs="?", default="", metavar="NAME")
        command.set_defaults(handler=run_checkpoint, service=name)


# ------------------------------------------------------------------ helpers
def no_node_message(node: str, timeout: float, what: str) -> str:
    domain = os.environ.get("ROS_DOMAIN_ID") or "0 (unset)"
    scope = os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE") or "SUBNET (unset)"
    return (
        f"no node answers at {node} ({what}) within {timeout:g} s: is lerf_trainer running, "
        f"with this ROS_DOMAIN_ID={domain} and ROS_AUTOMATIC_DISCOVERY_RANGE={scope}? "
        f"(also check --node and ROS_STATIC_PEERS)"
    )


def _client(args):
    from lerf_ros.ros.client import TrainerClient

    return TrainerClient(args.node, f"lerf_cli_{os.getpid()}")


def _call(args, client, service_client, send):
    """Wait for ``service_client`` (``--timeout``), then ``send()``; NoNodeError when absent."""
    if not client.wait_until(service_client.service_is_ready, args.timeout):
        raise NoNodeError(no_node_message(args.node, args.timeout, service_client.srv_name))
    try:
        return send()
    except TimeoutError as error:
        raise NoNodeError(f"{error} (node {args.node})") from None


def _fail(args, message: str, code: int) -> int:
    print(f"lerf-ros {args.command}: {message}", file=sys.stderr)
    return code


def _xyz(v) -> list[float]:
    return [round(float(v.x), 4), round(float(v.y), 4), round(float(v.z), 4)]


def _pose(stamped) -> dict:
    p, q = stamped.pose.position, stamped.pose.orientation
    return {
        "position": _xyz(p),
        "orientation": [round(float(c), 5) for c in (q.x, q.y, q.z, q.w)],
        "frame_id": stamped.header.frame_id,
    }


def _yaw(stamped) -> float:
    q = stamped.pose.orientation
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


def peak_dict(peak) -> dict:
    return {
        "position": _xyz(peak.position),
        "relevancy": round(float(peak.relevancy), 4),
        "scale": round(float(peak.scale), 4),
        "extent": _xyz(peak.extent),
        "support": int(peak.support),
    }


def grasp_dict(grasp) -> dict:
    return {
        "pose": _pose(grasp.pose),
        "pre_grasp_pose": _pose(grasp.pre_grasp_pose),
        "approach": _xyz(grasp.approach),
        "width": round(float(grasp.width), 4),
        "kind": GRASP_KINDS.get(int(grasp.kind), str(grasp.kind)),
        "score": round(float(grasp.score), 4),
        "peak": int(grasp.peak),
    }


def goal_dict(goal) -> dict:
    return {
        "pose": _pose(goal.pose),
        "yaw": round(_yaw(goal.pose), 4),
        "score": round(float(goal.score), 4),
        "distance": round(float(goal.distance), 4),
        "visibility": round(float(goal.visibility), 4),
        "peak": int(goal.peak),
    }


def answer_dict(args, response) -> dict:
    """A ``Query`` or ``GetTargets`` response as plain JSON types."""
    document = {
        "node": args.node,
        "text": args.text,
        "service": "get_targets" if args.targets else "query",
        "success": bool(response.success),
        "message": response.message,
    }
    if args.targets:
        code = int(response.error_code)
        document["error_code"] = ERROR_CODES[code] if code < len(ERROR_CODES) else code
        document["frame_id"] = response.header.frame_id
    else:
        document["frame_id"] = response.frame_id
        document["selected_scale"] = round(float(response.selected_scale), 4)
        document["elapsed_seconds"] = round(float(response.elapsed_seconds), 3)
    document["peaks"] = [peak_dict(p) for p in response.peaks]
    if args.targets:
        document["grasps"] = [grasp_dict(g) for g in response.grasps]
        document["goals"] = [goal_dict(g) for g in response.goals]
    return document


def _table(title: str, header: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return f"{title}: none"
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [f"{title}:"]
    for row in [header, *rows]:
        lines.append("  " + "  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def _f(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def answer_tables(document: dict) -> str:
    """The answer as text tables: peaks, and with targets the grasps and goals."""
    parts = [f"{document['message']} (frame {document['frame_id'] or '?'})"]
    peaks = [
        [
            str(i),
            _f(p["relevancy"]),
            *map(_f, p["position"]),
            "x".join(map(_f, p["extent"])),
            _f(p["scale"]),
            str(p["support"]),
        ]
        for i, p in enumerate(document["peaks"])
    ]
    head = ["#", "relevancy", "x", "y", "z", "extent (m)", "scale", "support"]
    parts.append(_table("peaks", head, peaks))
    if "grasps" in document:
        grasps = [
            [
                str(i),
                g["kind"],
                _f(g["score"]),
                _f(g["width"], 3),
                *map(_f, g["pose"]["position"]),
                " ".join(_f(c) for c in g["approach"]),
                str(g["peak"]),
            ]
            for i, g in enumerate(document["grasps"])
        ]
        head = ["#", "kind", "score", "width", "x", "y", "z", "approach", "peak"]
        parts.append(_table("grasps", head, grasps))
        goals = [
            [
                str(i),
                _f(g["score"]),
                _f(g["distance"]),
                _f(g["visibility"]),
                *map(_f, g["pose"]["position"][:2]),
                _f(math.degrees(g["yaw"]), 0),
                str(g["peak"]),
            ]
            for i, g in enumerate(document["goals"])
        ]
        head = ["#", "score", "distance", "visibility", "x", "y", "yaw (deg)", "peak"]
        parts.append(_table("navigation goals", head, goals))
    return "\n".join(parts)


def status_line(msg) -> str:
    return (
        f"state={msg.state} ready={'yes' if msg.ready else 'no'} step={msg.step} "
        f"keyframes={msg.keyframes} rays/s={msg.rays_per_second:.0f} "
        f"received={msg.frames_received} dropped={msg.frames_dropped} | {msg.message}"
    )


def status_dict(msg) -> dict:
    return {
        "state": msg.state,
        "ready": bool(msg.ready),
        "step": int(msg.step),
        "keyframes": int(msg.keyframes),
        "rays_per_second": round(float(msg.rays_per_second), 1),
        "frames_received": int(msg.frames_received),
        "frames_dropped": int(msg.frames_dropped),
        "losses": dict(zip(msg.loss_names, map(float, msg.loss_values), strict=False)),
        "message": msg.message,
    }


# ----------------------------------------------------------------- commands
def run_status(args) -> int:
    with _client(args) as client:
        first = True
        while True:
            if not client.wait_until(lambda: bool(client.status_history), args.timeout):
                what = "~/status" if first else "~/status stopped"
                return _fail(args, no_node_message(args.node, args.timeout, what), NO_NODE)
            first = False
            # Taken out of the history as printed: it stays short while following for hours.
            while client.status_history:
                msg = client.status_history.pop(0)
                line = json.dumps(status_dict(msg)) if args.json else status_line(msg)
                print(line, flush=True)
                if args.once:
                    return 0


def run_ask(args) -> int:
    fields = {"negatives": list(args.negative), "max_results": max(0, args.max_results)}
    with _client(args) as client:
        service = client.targets_client if args.targets else client.query_client
        call = client.get_targets if args.targets else client.query
        try:
            response = _call(
                args, client, service, lambda: call(args.text, timeout=args.timeout, **fields)
            )
        except NoNodeError as error:
            return _fail(args, str(error), NO_NODE)
    document = answer_dict(args, response)
    print(json.dumps(document, indent=2) if args.json else answer_tables(document), flush=True)
    if not response.success:
        return _fail(args, response.message, REFUSED)
    return 0


def run_checkpoint(args) -> int:
    with _client(args) as client:
        service = client.service_client(_checkpoint_type(), args.service)
        try:
            response = _call(
                args,
                client,
                service,
                lambda: client.checkpoint(args.service, args.name, timeout=args.timeout),
            )
        except NoNodeError as error:
            return _fail(args, str(error), NO_NODE)
    if not response.success:
        return _fail(args, response.message, REFUSED)
    print(response.message, flush=True)
    return 0


def _checkpoint_type():
    from lerf_ros.srv import Checkpoint

    return Checkpoint
