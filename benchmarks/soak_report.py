"""The soak benchmark's record and report: answers by kind, samples of the node, the markdown.

Kept apart from :mod:`benchmarks.soak`, which drives the node, so each stays readable.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field


def classify(success: bool, message: str) -> str:
    """``ok``, ``busy`` (turned away: too many calls in flight), ``not ready`` (an expected
    refusal: not trained yet, nothing to save yet) or ``failed``."""
    if success:
        return "ok"
    text = message.strip().lower()
    if text.startswith("busy"):
        return "busy"
    if text.startswith("not ready") or text.startswith("nothing to save"):
        return "not ready"
    return "failed"


@dataclass
class ServiceCalls:
    """Answers of one service, by kind; failure messages with their counts."""

    kinds: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    """Client-side time of every answered call."""

    def record(self, kind: str, message: str = "", seconds: float | None = None) -> None:
        self.kinds[kind] += 1
        if kind == "failed":
            self.failures[message[:300]] += 1
        if seconds is not None:
            self.seconds.append(seconds)


@dataclass
class Sample:
    """One look at the node: its ~/status and its process."""

    elapsed: float
    label: str
    step: int
    keyframes: int
    received: int
    dropped: int
    state: str
    ready: bool
    stamp: float
    """~/status stamp (node clock), for steps/s between samples."""
    process: dict[str, float]


@dataclass
class SoakResult:
    minutes: float
    settings: dict[str, str]
    samples: list[Sample] = field(default_factory=list)
    calls: dict[str, ServiceCalls] = field(default_factory=dict)
    events: list[tuple[float, str]] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    node_exit: int | None = None
    exit_log: str = ""
    """The end of the node's log when it did not exit with 0 on SIGINT."""
    shutdown_autosave: bool = False
    """Whether the node wrote its checkpoint as it stopped (autosave on SIGINT)."""
    log_problems: Counter = field(default_factory=Counter)
    """Errors the node logged (exceptions, ERROR lines), with their counts."""
    saved: int = 0
    loaded: int = 0
    load_errors: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0

    def service(self, name: str) -> ServiceCalls:
        return self.calls.setdefault(name, ServiceCalls())


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt)\b.*")


def log_problems(log: str) -> Counter:
    """The node's logged errors: the exception line ending each traceback and every [ERROR]
    line (its stamp cut, so that repeats count as one message)."""
    problems: Counter = Counter()
    for line in log.splitlines():
        if line.startswith("[ERROR]"):
            problems[re.sub(r"^\[ERROR\] \[[\d.]+\] ", "[ERROR] ", line)[:300]] += 1
        elif EXCEPTION_LINE.match(line):
            problems[line[:300]] += 1
    return problems


def steps_per_second(samples: list[Sample]) -> list[float | None]:
    """Training rate between each sample and the one before (None for the first); the
    counter restarts at the reset, which shows as a None."""
    rates: list[float | None] = [None]
    for before, after in itertools.pairwise(samples):
        seconds = after.stamp - before.stamp
        steps = after.step - before.step
        rates.append(round(steps / seconds, 2) if seconds > 0 and steps >= 0 else None)
    return rates


def report(result: SoakResult, machine: dict[str, str]) -> str:
    """The run as markdown: summary, resources, the curve over time, events, failures."""
    lines = [
        f"## Soak: {result.minutes:g} min of the real node",
        "",
        "| | |",
        "|---|---|",
        f"| date | {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} |",
        f"| measured | {result.wall_seconds / 60:.1f} min |",
    ]
    lines += [f"| {key} | {value} |" for key, value in {**machine, **result.settings}.items()]
    failed = sum(calls.kinds["failed"] for calls in result.calls.values())
    lines += [
        "",
        "| outcome | value |",
        "|---|---|",
        f"| node crashes (exits during the run) | {len(result.crashes)} |",
        f"| node exit code at the end (SIGINT) | {result.node_exit} |",
        f"| failed calls | {failed} |",
        f"| checkpoint written by the shutdown autosave | {result.shutdown_autosave} |",
        f"| saved checkpoints loaded back (~/save copies + the shutdown autosave) | "
        f"{result.loaded} / {result.saved} |",
        "",
        "| service | calls | ok | not ready | busy | failed | client time p50 / max (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, calls in sorted(result.calls.items()):
        times = sorted(calls.seconds)
        timing = f"{times[len(times) // 2]:.2f} / {times[-1]:.2f}" if times else "-"
        k = calls.kinds
        lines.append(
            f"| ~/{name} | {sum(k.values())} | {k['ok']} | {k['not ready']} | {k['busy']} | "
            f"{k['failed']} | {timing} |"
        )
    named = {s.label: s for s in result.samples if s.label in ("start", "middle", "end")}
    lines += [
        "",
        "Node process (host):",
        "",
        "| when | elapsed (s) | RSS (MiB) | open fds | threads |",
        "|---|---|---|---|---|",
    ]
    for label in ("start", "middle", "end"):
        if label in named:
            s = named[label]
            p = s.process
            lines.append(
                f"| {label} | {s.elapsed:.0f} | {p['rss_mb']} | {p['fds']} | {p['threads']} |"
            )
    lines += [
        "",
        "Over time (steps/s since the previous row; the step counter restarts at the reset):",
        "",
        "| elapsed (s) | sample | state | ready | step | steps/s | keyframes | frames received "
        "| frames dropped | RSS (MiB) | fds | threads |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s, rate in zip(result.samples, steps_per_second(result.samples), strict=True):
        p = s.process
        lines.append(
            f"| {s.elapsed:.0f} | {s.label} | {s.state} | {s.ready} | {s.step} | "
            f"{'-' if rate is None else rate} | {s.keyframes} | {s.received} | {s.dropped} | "
            f"{p['rss_mb']} | {p['fds']} | {p['threads']} |"
        )
    lines += ["", "Events:", ""]
    lines += [f"- {elapsed:.0f} s: {text}" for elapsed, text in result.events]
    problems = [f"- crash: {text}" for text in result.crashes]
    if not result.shutdown_autosave and not result.crashes:
        problems.append("- the node wrote no checkpoint as it stopped (autosave on SIGINT)")
    if result.node_exit not in (0, None) and not result.crashes:
        problems.append(
            f"- the node exited with {result.node_exit} when stopped with SIGINT (0 expected); "
            f"the end of its log:\n\n```\n{result.exit_log.strip()}\n```\n"
        )
    for name, calls in sorted(result.calls.items()):
        problems += [f"- ~/{name} x{n}: {message}" for message, n in calls.failures.items()]
    problems += [f"- checkpoint did not load: {text}" for text in result.load_errors]
    problems += [f"- node log x{n}: `{line}`" for line, n in result.log_problems.most_common(10)]
    lines += ["", "Problems:", "", *(problems or ["- none"])]
    return "\n".join(lines) + "\n"
