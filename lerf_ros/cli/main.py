"""``lerf-ros``: the command-line entry point.

Each sub-command lives in its own module with ``register(subparsers)``; heavy imports happen
inside the command so ``lerf-ros --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# module name -> sub-commands it registers (documentation only; modules register themselves)
COMMAND_MODULES = (
    "lerf_ros.cli.scene_commands",  # make-scene
    "lerf_ros.cli.engine_commands",  # train, query, render
    "lerf_ros.cli.visualize_commands",  # snapshot
    "lerf_ros.cli.stream_commands",  # make-bag, play, stream
    "lerf_ros.cli.ros_commands",  # bringup, demo
    "lerf_ros.cli.node_commands",  # status, ask, save, load (a running node)
)


class CliError(RuntimeError):
    """An error to print as one line (no traceback) with exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lerf-ros",
        description="Online language-embedded radiance fields for ROS 2.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (CliError, ValueError, OSError, RuntimeError) as error:
        print(f"lerf-ros {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
