"""Start lerf_ros's node(s) without ``ros2 launch`` (launch_ros is not on PyPI).

``lerf-ros bringup --params config/lerf.yaml`` starts the same executable with the same
parameter file that ``launch/lerf.launch.py`` uses; tests and the demo use
:func:`start_trainer` to run the node in its own process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path


def __getattr__(name: str):
    # REPO_CONFIG, resolved when used: the source tree's or the install's config/lerf.yaml
    # (a missing share directory is an error for whoever needs the file, not at import).
    if name == "REPO_CONFIG":
        from lerf_ros.package_share import share_file

        return share_file("config", "lerf.yaml")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


ABORT_MARKERS = (
    "terminate called",
    "Fatal Python error",
    "Segmentation fault",
    "Traceback (most recent call last)",
)
"""Log lines that mean a process did not end cleanly: a C++ ``std::terminate`` (e.g. a daemon
thread still inside torch when the interpreter finalized), a crash of the interpreter, or an
exception that escaped. A clean stop leaves none of them."""


def exit_problems(returncode: int | None, log: str) -> list[str]:
    """Why an exit with ``returncode`` and output ``log`` was not clean ([] if it was)."""
    problems = []
    if returncode is None:
        problems.append("still running")
    elif returncode < 0:
        problems.append(f"killed by {signal.Signals(-returncode).name}")
    elif returncode != 0:
        problems.append(f"exit code {returncode}")
    problems += [f"log contains {marker!r}" for marker in ABORT_MARKERS if marker in log]
    return problems


def _ros_value(value: object) -> str:
    """Render a parameter override in the YAML syntax ``--ros-args -p`` expects."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_ros_value(v) for v in value) + "]"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


@dataclass
class NodeProcess:
    """A node running in a child process."""

    process: subprocess.Popen
    log_path: Path | None = None
    name: str = "lerf_trainer"
    extra: dict = field(default_factory=dict)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> int:
        """SIGINT, then SIGTERM, then SIGKILL: gives the node the chance to autosave.
        Returns the exit code (negative: the signal that ended it)."""
        for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            if self.process.poll() is not None:
                break
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        return self.process.wait()

    def log(self) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")
        return ""

    def exit_problems(self) -> list[str]:
        """Why this process did not end cleanly ([] if it did, or is still running and its
        log shows no crash so far): see :func:`exit_problems`."""
        returncode = self.process.poll()
        problems = exit_problems(returncode, self.log())
        return [p for p in problems if p != "still running"]

    def assert_clean_exit(self) -> None:
        """Raise AssertionError, with the end of the log, unless the process ended with
        code 0 and its log shows no abort, crash or escaped exception."""
        if self.alive():
            raise AssertionError(f"{self.name} is still running")
        problems = self.exit_problems()
        if problems:
            raise AssertionError(f"{self.name}: {'; '.join(problems)}\n{self.log()[-3000:]}")


def trainer_command(
    params_file: Path | None = None,
    overrides: dict | None = None,
    node_name: str = "lerf_trainer",
    python: str = sys.executable,
) -> list[str]:
    """The command line that runs ``lerf_trainer`` with a parameter file and overrides."""
    cmd = [python, "-m", "lerf_ros.ros.trainer_node", "--ros-args", "-r", f"__node:={node_name}"]
    if params_file is not None:
        cmd += ["--params-file", str(params_file)]
    for key, value in (overrides or {}).items():
        cmd += ["-p", f"{key}:={_ros_value(value)}"]
    return cmd


SHIPPED = "shipped"
"""``start_trainer``'s default parameter file: the package's ``config/lerf.yaml``."""


def start_trainer(
    params_file: Path | str | None = SHIPPED,
    overrides: dict | None = None,
    node_name: str = "lerf_trainer",
    log_path: Path | None = None,
    env: dict | None = None,
) -> NodeProcess:
    """Start ``lerf_trainer`` in a child process; its output goes to ``log_path``. The DDS
    environment is loopback-only (:func:`lerf_ros.ros.dds.dds_environment`): the demo's and the
    tests' nodes stay on this machine."""
    if params_file == SHIPPED:
        params_file = __getattr__("REPO_CONFIG")
    return _spawn(trainer_command(params_file, overrides, node_name), log_path, node_name, env)


def start_cli(args: list[str], log_path: Path | None = None, env: dict | None = None):
    """Run ``lerf-ros ARGS`` (e.g. ``stream``, ``play``) as a child process."""
    return _spawn([sys.executable, "-m", "lerf_ros.cli.main", *args], log_path, args[0], env)


_DIE_WITH_PARENT = """
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG, kept over exec
if os.getppid() != int(sys.argv[1]):
    sys.exit(1)  # the parent died before prctl took effect
os.execvp(sys.argv[2], sys.argv[2:])
"""


def die_with_parent(cmd: list[str]) -> list[str]:
    """``cmd`` wrapped so that on Linux the child gets SIGINT (a node autosaves on it) when the
    process that started it dies, even by SIGKILL or ``os._exit`` (e.g. pytest-timeout):
    before, such a death left nodes training and competing for the cores. Linux delivers the
    signal when the *thread* that started the child exits, so start nodes from a thread that
    lives as long as they should (the main thread, in the demo and the tests)."""
    if not sys.platform.startswith("linux"):
        return cmd
    return [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *cmd]


def _spawn(cmd: list[str], log_path: Path | None, name: str, env: dict | None) -> NodeProcess:
    from lerf_ros.ros.dds import dds_environment

    cmd = die_with_parent(cmd)

    # Spinning OpenMP workers starve the other processes of a small machine (measured ~5x
    # slower training steps on 2 shared cores); passive waiting costs nothing when alone.
    env = {"OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"), **(env or {})}
    if log_path is not None:
        with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **dds_environment(), **(env or {})},
            )
    else:
        process = subprocess.Popen(cmd, env={**os.environ, **dds_environment(), **(env or {})})
    return NodeProcess(process=process, log_path=log_path, name=name)
