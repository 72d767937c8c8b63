"""Child processes started by ``bringup`` die with the process that started them, however it
dies (a SIGKILLed demo or a test killed by pytest-timeout used to leave nodes training)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from lerf_ros.ros.bringup import die_with_parent

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead but still listed
        return stat.read().split(") ")[1][0] != "Z"


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return not alive(pid)


def test_a_child_gets_sigint_when_its_parent_is_killed(tmp_path):
    marker = tmp_path / "interrupted"
    # The child: a Python process that records SIGINT (a node autosaves on it) and exits.
    child = textwrap.dedent(f"""
        import signal, sys, time
        def on_sigint(*_):
            open({str(marker)!r}, "w").write("SIGINT")
            sys.exit(0)
        signal.signal(signal.SIGINT, on_sigint)
        print("ready", flush=True)
        time.sleep(60)
    """)
    # The parent starts it through bringup's spawner and is then killed with SIGKILL.
    parent_code = textwrap.dedent(f"""
        import sys, time
        from lerf_ros.ros.bringup import _spawn
        node = _spawn([sys.executable, "-c", {child!r}], None, "child", None)
        print(node.process.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True
    )
    try:
        child_pid = int(parent.stdout.readline())
        assert parent.stdout.readline().strip() == "ready"  # the child's own output
        assert alive(child_pid)
        parent.kill()
        parent.wait(10)
        assert wait_gone(child_pid, 10), "the child outlived its SIGKILLed parent"
        assert marker.read_text() == "SIGINT"
    finally:
        parent.kill()


def test_the_wrapper_runs_the_command_unchanged(tmp_path):
    out = subprocess.run(
        die_with_parent([sys.executable, "-c", "import sys; print(sys.argv[1:])", "a b", "-p"]),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['a b', '-p']"
