"""``lerf-ros make-bag`` / ``play`` / ``stream``: camera streams for the trainer without a robot.

- ``make-bag --data DIR --out BAG``: a dataset as a ROS 2 bag (MCAP), no ROS needed.
- ``play BAG``: replay a bag over DDS with its recorded timing (``ros2 bag play`` stand-in).
- ``stream``: render a synthetic scene and publish it live as a camera would.

``play`` and ``stream`` run with :func:`lerf_ros.ros.dds.dds_environment` (loopback discovery,
a Fast DDS profile with room for camera frames) unless the environment already sets them.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys


def register(subparsers) -> None:
    defaults = argparse.ArgumentDefaultsHelpFormatter

    make_bag = subparsers.add_parser(
        "make-bag", help="write a dataset as a ROS 2 bag (MCAP)", formatter_class=defaults
    )
    make_bag.add_argument("--data", required=True, help="dataset folder or transforms.json")
    make_bag.add_argument("--out", required=True, help="bag folder to create")
    make_bag.add_argument("--compressed", action="store_true", help="CompressedImage topic")
    make_bag.add_argument("--format", default="jpeg", choices=("jpeg", "png"))
    make_bag.add_argument("--rate", type=float, default=5.0, help="recorded frame rate, Hz")
    make_bag.add_argument("--max-images", type=int, default=None, help="evenly spaced subset")
    make_bag.add_argument("--downscale", type=float, default=None, help="image size divisor")
    make_bag.add_argument("--prefix", default="/camera", help="camera topic namespace")
    make_bag.add_argument("--fixed-frame", default="map")
    make_bag.add_argument("--optical-frame", default="camera_optical")
    make_bag.add_argument("--no-tf", action="store_true", help="leave /tf out")
    make_bag.add_argument(
        "--no-depth", action="store_true", help="leave the dataset's depth out (16UC1 mm topic)"
    )
    make_bag.set_defaults(handler=run_make_bag)

    play = subparsers.add_parser(
        "play", help="publish a bag's messages over DDS", formatter_class=defaults
    )
    play.add_argument("bag", help="bag folder (or .mcap / .db3 file)")
    play.add_argument("--rate", type=float, default=1.0, help="playback speed factor")
    play.add_argument("--loop", action="store_true", help="repeat until interrupted")
    play.add_argument("--topics", nargs="+", default=None, help="publish only these topics")
    play.add_argument(
        "--start-paused", action="store_true", help="wait for SIGUSR1 before publishing"
    )
    _add_wait_options(play)
    play.set_defaults(handler=run_play)

    stream = subparsers.add_parser(
        "stream", help="publish a synthetic scene live as a camera", formatter_class=defaults
    )
    stream.add_argument("--scene", default="default", help="default | mug | wall | six_objects")
    stream.add_argument("--views", type=int, default=30, help="views per pass")
    stream.add_argument("--width", type=int, default=128)
    stream.add_argument("--height", type=int, default=96)
    stream.add_argument("--rate", type=float, default=5.0, help="frames per second")
    stream.add_argument("--loop", action="store_true", help="repeat until interrupted")
    stream.add_argument("--compressed", action="store_true", help="CompressedImage topic")
    stream.add_argument("--format", default="jpeg", choices=("jpeg", "png"))
    stream.add_argument("--trajectory", default="orbit", help="orbit | robot | walk")
    stream.add_argument("--supersample", type=int, default=2, help="anti-aliasing factor")
    stream.add_argument("--prefix", default="/camera", help="camera topic namespace")
    stream.add_argument(
        "--no-depth", action="store_true", help="publish no depth (16UC1 mm, registered)"
    )
    _add_wait_options(stream)
    stream.set_defaults(handler=run_stream)


def _add_wait_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait-subscribers",
        type=int,
        default=1,
        metavar="N",
        help="wait for N subscribers on every topic before the first message (0: don't)",
    )
    parser.add_argument(
        "--wait-timeout", type=float, default=10.0, help="seconds to wait for subscribers"
    )


def run_make_bag(args: argparse.Namespace) -> int:
    from lerf_ros.data.bags import bag_summary, write_bag

    load_options = {
        key: value
        for key, value in (("max_images", args.max_images), ("downscale", args.downscale))
        if value is not None
    }
    out = write_bag(
        args.data,
        args.out,
        compressed=args.compressed,
        rate_hz=args.rate,
        prefix=args.prefix,
        fixed_frame=args.fixed_frame,
        optical_frame=args.optical_frame,
        with_tf=not args.no_tf,
        compressed_format=args.format,
        load_options=load_options,
        depth=not args.no_depth,
    )
    print(bag_summary(out).format())
    return 0


def _prepare_ros():
    """DDS environment before rclpy creates a participant; signals that end the run."""
    from lerf_ros.ros.dds import apply_dds_environment
    from lerf_ros.ros.publishing import stop_on_signals

    apply_dds_environment()
    return stop_on_signals()


def run_play(args: argparse.Namespace) -> int:
    stop = _prepare_ros()
    from lerf_ros.ros.player import play
    from lerf_ros.ros.publishing import stop_on_signals

    resume = stop_on_signals(signal.SIGUSR1)
    if args.start_paused:
        print(f"paused: `kill -USR1 {os.getpid()}` starts playback", file=sys.stderr)
    stats = play(
        args.bag,
        rate=args.rate,
        loop=args.loop,
        topics=args.topics,
        start_paused=args.start_paused,
        wait_subscribers=args.wait_subscribers,
        wait_timeout_s=args.wait_timeout,
        stop=stop,
        resume=resume,
    )
    counts = ", ".join(f"{topic}: {n}" for topic, n in sorted(stats.published.items()))
    print(f"published {sum(stats.published.values())} messages ({counts})")
    return 0


def run_stream(args: argparse.Namespace) -> int:
    stop = _prepare_ros()
    from lerf_ros.ros.streamer import StreamConfig, stream

    config = StreamConfig(
        scene=args.scene,
        views=args.views,
        width=args.width,
        height=args.height,
        rate_hz=args.rate,
        loop=args.loop,
        compressed=args.compressed,
        compressed_format=args.format,
        trajectory=args.trajectory,
        supersample=args.supersample,
        prefix=args.prefix,
        depth=not args.no_depth,
        wait_subscribers=args.wait_subscribers,
        wait_timeout_s=args.wait_timeout,
    ).validate()
    published = stream(config, stop)
    print(f"published {published} frames")
    return 0
