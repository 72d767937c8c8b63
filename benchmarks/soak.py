"""Soak: the real node for an hour under queries, saves, a reset and a camera gap.

It trains on a looping synthetic camera while a client queries, saves, resets it once and its
camera disappears for a while; the report records what such a long run breaks.

.venv/bin/python -m benchmarks.soak [--minutes 60] [--out out/soak.md]
    [--query-interval 2] [--save-interval 30] [--camera-gap-seconds 30]

Processes: ``lerf_trainer`` (config/demo.yaml, autosave on into a temporary checkpoint),
``lerf-ros stream --loop`` (the bundled synthetic room) and this script as the client, on
loopback (``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``) and ``ROS_DOMAIN_ID`` from the
environment (default :data:`DEFAULT_DOMAIN_ID`). For ``--minutes`` after the node's services
are up:

- ``~/query`` every ``--query-interval`` s (texts in turn);
- ``~/save`` every ``--save-interval`` s, each saved checkpoint copied aside;
- ``~/reset`` once, at the middle;
- the camera publisher killed (SIGKILL) at 70 % of the run and started again
  ``--camera-gap-seconds`` later;
- the node's RSS, open file descriptors and threads (``/proc/<pid>``) and its ``~/status``
  every ``--sample-interval`` s (default a minute), training steps/s from the step counter.

Afterwards every copied checkpoint, and the one the node autosaves as it stops, is loaded
back into one engine built with the node's own settings (``open_checkpoint``, then
``engine.load``). Answers are counted by service as ok, "not ready" (expected before the field
is trained, and after the reset), "busy" (the node turned the call away because too many were
in flight) or failed (anything else, with its message). A node that exits during the run is a
crash (the run stops there).

Prints a markdown report and writes it to ``--out``. Not in any default run: this module
directly, or ``benchmarks.run --only soak`` (60 minutes, 3 with --quick; also part of --full).
Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.soak_report import (
    Sample,
    SoakResult,
    classify,
    log_problems,
    report,
)

DEFAULT_DOMAIN_ID = "187"
"""Not a common one: a soak left running must not meet the tests' or a robot's nodes."""
NODE = "/lerf_trainer"
QUERY_TEXTS = ["red ball", "blue box", "green mug", "yellow book"]
CALL_TIMEOUT = 120.0
"""Seconds a call may take before it counts as failed (a query on two busy cores: seconds)."""
READY_STEPS = 150
"""Steps before the node answers: a third of the demo's 450, so queries reach the field early
(this measures endurance, not answer quality)."""
AUTOSAVE_INTERVAL = 60.0
"""Seconds between the node's own autosaves, into the same file ``~/save`` writes."""
GAP_AT = 0.7
"""Fraction of the run at which the camera goes away (apart from the reset at the middle)."""
REPO = Path(__file__).resolve().parent.parent


def process_sample(pid: int) -> dict[str, float]:
    """Host RSS (MiB), open file descriptors and threads of process ``pid``, from /proc."""
    sample = {"rss_mb": float("nan"), "fds": -1, "threads": -1}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    sample["rss_mb"] = round(int(line.split()[1]) / 1024, 1)
                elif line.startswith("Threads:"):
                    sample["threads"] = int(line.split()[1])
        sample["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
        sample["threads"] = len(os.listdir(f"/proc/{pid}/task"))  # the same, counted directly
    except OSError:  # the process is gone: the sample says so with its placeholders
        pass
    return sample


class Soak:
    """The processes and the client of one run (:meth:`run`, then :meth:`close`)."""

    def __init__(self, args: argparse.Namespace, workdir: Path):
        from lerf_ros.ros.bringup import start_trainer
        from lerf_ros.ros.client import TrainerClient

        self.args = args
        self.workdir = workdir
        self.checkpoint = workdir / "checkpoint.pt"
        self.saved_dir = workdir / "saved"
        self.saved_dir.mkdir()
        self.overrides = {
            "checkpoint_path": str(self.checkpoint),
            "autosave_interval": AUTOSAVE_INTERVAL,
            "ready_steps": args.ready_steps,
            "ready_check": False,
        }
        self.params = REPO / "config" / "demo.yaml"
        self.result = SoakResult(
            args.minutes,
            {
                "parameters": f"config/demo.yaml + {self.overrides}",
                "query every": f"{args.query_interval:g} s",
                "~/save every": f"{args.save_interval:g} s",
                "autosave every": f"{AUTOSAVE_INTERVAL:g} s",
                "camera gap": f"{args.camera_gap_seconds:g} s at {GAP_AT:.0%} of the run",
                "~/reset": "once, at the middle",
                "ROS_DOMAIN_ID": os.environ.get("ROS_DOMAIN_ID", ""),
            },
        )
        self.started = time.monotonic()
        self.t0: float | None = None
        """When the soak proper began (the node's services up)."""
        self.trainer = start_trainer(
            self.params, self.overrides, node_name=NODE[1:], log_path=workdir / "trainer.log"
        )
        self.streams = 0
        self.streamer = self._start_streamer()
        self.client = TrainerClient(NODE, "soak_client")

    # ---------------------------------------------------------------- processes
    def _start_streamer(self):
        from lerf_ros.ros.bringup import start_cli

        self.streams += 1
        # --wait-subscribers 0: a restarted camera publishes at once, as a real one would.
        args = ["stream", "--scene", "default", "--loop", "--wait-subscribers", "0"]
        return start_cli(args, self.workdir / f"stream_{self.streams}.log")

    def _event(self, text: str) -> None:
        elapsed = time.monotonic() - self.t0 if self.t0 is not None else 0.0
        self.result.events.append((elapsed, text))
        print(f"[{elapsed:7.1f} s] {text}", flush=True)

    def close(self) -> None:
        self.streamer.stop()
        self.client.close()
        before = _mtime(self.checkpoint)
        code = self.trainer.stop(timeout=60.0)  # SIGINT: the node autosaves on the way out
        self.result.log_problems = log_problems(self.trainer.log())
        if self.result.node_exit is None:
            self.result.node_exit = code
            if code != 0:  # the temporary folder goes: keep what the node said
                self.result.exit_log = self.trainer.log()[-2000:]
            if _mtime(self.checkpoint) not in (None, before):
                self.result.shutdown_autosave = True
                self.result.saved += 1  # loaded back as well
                shutil.copy2(self.checkpoint, self.saved_dir / "save_final.pt")

    # ----------------------------------------------------------------- calls
    def _call(self, name: str, send) -> tuple[bool, str]:
        """Call ``send()`` (returns a response with success and message), record its answer."""
        began = time.monotonic()
        try:
            response = send()
        except Exception as error:  # a timeout or a transport error is a failed call too
            message = f"{type(error).__name__}: {error}"
            self.result.service(name).record("failed", message)
            self._event(f"~/{name} failed: {message}")
            return False, message
        kind = classify(response.success, response.message)
        self.result.service(name).record(kind, response.message, time.monotonic() - began)
        if kind == "failed":
            self._event(f"~/{name} failed: {response.message}")
        return response.success, response.message

    def _trigger(self, name: str) -> tuple[bool, str]:
        """``~/save`` (of checkpoint_path itself) or ``~/reset``."""
        return self._call(name, lambda: self.client.trigger(name, timeout=CALL_TIMEOUT))

    def _query(self, index: int) -> None:
        text = QUERY_TEXTS[index % len(QUERY_TEXTS)]
        self._call("query", lambda: self.client.query(text, timeout=CALL_TIMEOUT))

    def _save(self) -> None:
        ok, _ = self._trigger("save")
        if ok:
            # Copied at once: the next save or autosave replaces the file (atomically).
            self.result.saved += 1
            shutil.copy2(self.checkpoint, self.saved_dir / f"save_{self.result.saved:04d}.pt")

    def _sample(self, label: str) -> None:
        seen = self.client.last_status
        self.client.wait_until(lambda: self.client.last_status is not seen, 3.0)
        status = self.client.last_status
        if status is None:
            return
        self.result.samples.append(
            Sample(
                elapsed=round(time.monotonic() - self.t0, 1),
                label=label,
                step=int(status.step),
                keyframes=int(status.keyframes),
                received=int(status.frames_received),
                dropped=int(status.frames_dropped),
                state=status.state,
                ready=bool(status.ready),
                stamp=status.stamp.sec + 1e-9 * status.stamp.nanosec,
                process=process_sample(self.trainer.process.pid),
            )
        )
        s = self.result.samples[-1]
        print(
            f"[{s.elapsed:7.1f} s] sample {label}: step {s.step}, keyframes {s.keyframes}, "
            f"frames {s.received}/{s.dropped} dropped, {s.process}",
            flush=True,
        )

    # ------------------------------------------------------------------- run
    def run(self) -> SoakResult:
        args = self.args
        if not self.client.wait_for_services(120) or not self.client.wait_until(
            lambda: self.client.last_status is not None, 30
        ):
            self.result.crashes.append(f"node never came up: {self.trainer.log()[-1500:]}")
            return self.result
        self.t0 = time.monotonic()
        self._event(f"node up after {self.t0 - self.started:.0f} s; soak starts")
        duration = args.minutes * 60.0
        reset_at, gap_at = duration / 2, duration * GAP_AT
        gap_end = duration  # set when the camera goes: a long call may have delayed that
        gap_at_actual = gap_at
        next_query, next_save, next_sample = 0.0, args.save_interval, args.sample_interval
        queries = 0
        reset_done = gap_started = gap_done = False
        self._sample("start")
        while (now := time.monotonic() - self.t0) < duration:
            if not self.trainer.alive():
                code = self.trainer.process.poll()
                self.result.node_exit = code
                self.result.crashes.append(
                    f"node exited with {code} at {now:.0f} s: {self.trainer.log()[-1500:]}"
                )
                self._event(f"node exited with {code}: soak stopped")
                break
            if not gap_started and now >= gap_at:
                gap_started = True
                self.streamer.process.kill()  # the publisher vanishes without saying goodbye
                self.streamer.process.wait()
                gap_at_actual, gap_end = now, now + args.camera_gap_seconds
                self._event(f"camera publisher killed for {args.camera_gap_seconds:g} s")
            elif gap_started and not gap_done and now >= gap_end:
                gap_done = True
                self.streamer = self._start_streamer()
                # Calls block this loop: the gap can run longer than asked by one call.
                self._event(f"camera publisher started again, {now - gap_at_actual:.0f} s later")
            elif (gap_done or not gap_started) and not self.streamer.alive():
                self._event(f"camera publisher exited on its own ({self.streamer.process.poll()})")
                self.streamer = self._start_streamer()
            if not reset_done and now >= reset_at:
                reset_done = True
                self._sample("middle")  # just before the reset
                ok, message = self._trigger("reset")
                self._event(f"~/reset: {'ok' if ok else 'refused'} ({message})")
            if now >= next_save:
                next_save += args.save_interval
                self._save()
            if now >= next_sample:
                next_sample += args.sample_interval
                self._sample(f"{now / 60:.1f} min")
            if now >= next_query:
                next_query += args.query_interval
                self._query(queries)
                queries += 1
                # A call longer than the interval: the next one at once, not a burst after it.
                next_query = max(next_query, time.monotonic() - self.t0)
            wait = min(next_query, next_save, next_sample, duration) - (time.monotonic() - self.t0)
            self.client.spin_for(max(0.0, min(wait, 0.5)))
        if not self.result.crashes:
            self._sample("end")
        self.result.wall_seconds = time.monotonic() - self.t0
        return self.result


def _mtime(path: Path) -> int | None:
    return path.stat().st_mtime_ns if path.exists() else None


def load_saved(result: SoakResult, saved_dir: Path, params: Path, overrides: dict) -> None:
    """Load every copied checkpoint back: one engine with the node's settings
    (``open_checkpoint`` on the first that opens), then ``engine.load`` of each in turn."""
    from lerf_ros.engine.build import open_checkpoint
    from lerf_ros.ros.parameter_files import parameters_for
    from lerf_ros.ros.parameters import PARAMETERS, NodeParameters, engine_config

    values = {name: parameter.default for name, parameter in PARAMETERS.items()}
    values.update(parameters_for(params, NODE))
    values.update(overrides)
    p = NodeParameters(values)
    engine = None
    for path in sorted(saved_dir.glob("save_*.pt")):
        try:
            if engine is None:
                engine = open_checkpoint(
                    engine_config(p),
                    path,
                    p.encoder,
                    p.dino,
                    encoder_checkpoint=p.encoder_checkpoint,
                    threads=p.torch_threads,
                )
            else:
                engine.load(path)
            result.loaded += 1
        except Exception as error:  # a checkpoint that does not load is the finding
            result.load_errors.append(f"{path.name}: {type(error).__name__}: {error}")
    if engine is not None:
        engine.stop()


# ---------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the soak")
    parser.add_argument("--out", type=Path, default=REPO / "out" / "soak.md")
    parser.add_argument("--query-interval", type=float, default=2.0, help="seconds")
    parser.add_argument("--save-interval", type=float, default=30.0, help="seconds")
    parser.add_argument("--camera-gap-seconds", type=float, default=30.0)
    parser.add_argument("--sample-interval", type=float, default=60.0, help="seconds")
    parser.add_argument("--ready-steps", type=int, default=READY_STEPS)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.camera_gap_seconds >= args.minutes * 60 * (1 - GAP_AT):
        parser.error("--camera-gap-seconds must end before the run does")
    return args


def soak(args: argparse.Namespace) -> tuple[SoakResult, str]:
    """Run the soak; returns the result and its markdown report (also written to --out)."""
    os.environ.setdefault("ROS_DOMAIN_ID", DEFAULT_DOMAIN_ID)
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    from lerf_ros.ros.dds import apply_dds_environment

    apply_dds_environment()  # before rclpy creates a participant in this process
    import torch

    from benchmarks.common import machine_info

    workdir = Path(tempfile.mkdtemp(prefix="lerf_soak_"))
    print(f"soak: {args.minutes:g} min, files in {workdir}", flush=True)
    run = Soak(args, workdir)
    try:
        result = run.run()
    finally:
        run.close()
    print(f"loading {result.saved} saved checkpoints back", flush=True)
    load_saved(result, run.saved_dir, run.params, run.overrides)
    text = report(result, machine_info(torch.device("cpu")))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    if args.keep:
        print(f"kept {workdir}", flush=True)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return result, text


def soak_rows(options) -> list:
    """``benchmarks.run --only soak``: 60 minutes (3 with --quick); the rows summarise the
    report, which goes to out/soak.md."""
    from benchmarks.common import Row

    args = parse_args(["--minutes", str(options.pick(3, 60))])
    if options.quick:
        args.camera_gap_seconds = 10.0
    result, _ = soak(args)
    device = options.device_label()
    failed = sum(calls.kinds["failed"] for calls in result.calls.values())
    busy = sum(calls.kinds["busy"] for calls in result.calls.values())
    named = {s.label: s.process for s in result.samples}
    start, end = named.get("start", {}), named.get("end", {})
    note = f"{args.minutes:g} min; report in {args.out}"
    return [
        Row("soak", "node crashes", len(result.crashes), "", device, note=note),
        Row("soak", "failed calls", failed, "calls", device, note=f"busy answers: {busy}"),
        Row("soak", "saved checkpoints loaded back", f"{result.loaded} / {result.saved}"),
        Row("soak", "node RSS start", start.get("rss_mb"), "MiB", device),
        Row("soak", "node RSS end", end.get("rss_mb"), "MiB", device),
        Row("soak", "node fds start / end", f"{start.get('fds')} / {end.get('fds')}"),
        Row("soak", "node threads start / end", f"{start.get('threads')} / {end.get('threads')}"),
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _, text = soak(args)
    print(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
