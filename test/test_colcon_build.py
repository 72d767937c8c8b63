"""A ROS 2 workspace build of this package with colcon (the pip-installed toolchain stands in
for a ROS install): interfaces and Python sources land merged in one importable package, and
the installed ``lerf-ros`` (``ros2 run lerf_ros lerf-ros ...``) finds its data in the install's
share directory, not beside the sources it was built from."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE_FILES = (
    "CMakeLists.txt",
    "package.xml",
    "msg",
    "srv",
    "lerf_ros",
    "scripts",
    "launch",
    "config",
)

pytestmark = pytest.mark.slow


def test_colcon_build_installs_interfaces_sources_and_executables(tmp_path):
    venv = Path(sys.prefix)
    colcon = venv / "bin" / "colcon"
    if not colcon.exists():
        pytest.skip("colcon is not installed in this environment (run scripts/setup.sh)")
    source = tmp_path / "src" / "lerf_ros"
    source.mkdir(parents=True)
    for name in PACKAGE_FILES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    env = {
        **os.environ,
        "AMENT_PREFIX_PATH": str(venv),
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
    }
    build = subprocess.run(
        [
            str(colcon),
            "build",
            "--packages-select",
            "lerf_ros",
            "--cmake-args",
            f"-DPython3_EXECUTABLE={venv / 'bin' / 'python'}",
            "-DBUILD_TESTING=OFF",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    install = tmp_path / "install" / "lerf_ros"
    assert (install / "lib" / "lerf_ros" / "lerf_trainer").exists()
    assert (install / "share" / "lerf_ros" / "launch" / "lerf.launch.py").exists()
    assert (install / "share" / "lerf_ros" / "config" / "lerf.yaml").exists()
    site = next(install.glob("lib/python3*/site-packages"))
    share = install / "share" / "lerf_ros"
    # The installed code first, whatever else is on the path (the dev venv has lerf_ros
    # installed editable from the source tree).
    installed_env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "LD_LIBRARY_PATH": f"{install / 'lib'}:{os.environ.get('LD_LIBRARY_PATH', '')}",
        "AMENT_PREFIX_PATH": f"{install}:{venv}",
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
    }
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import lerf_ros, lerf_ros.engine; from lerf_ros.srv import Query, GetTargets; "
            "from lerf_ros.msg import TrainingStatus, RelevancyPeak; "
            "import lerf_ros.package_share as s, lerf_ros.cli.ros_commands as c; "
            "print(lerf_ros.__path__[0]); print(Query.Request(text='mug').text); "
            "print(s.__file__); print(c.__file__); print(s.package_share())",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=installed_env,
    )
    assert check.returncode == 0, check.stderr[-3000:]
    first_path, text, resolver, commands, found_share = check.stdout.split()
    assert first_path == str(site / "lerf_ros") and text == "mug"
    assert Path(resolver).is_relative_to(site) and Path(commands).is_relative_to(site)
    assert found_share == str(share)

    lerf_ros = install / "lib" / "lerf_ros" / "lerf-ros"  # what `ros2 run lerf_ros lerf-ros` runs

    def run_installed(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(lerf_ros), *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env=installed_env,
        )

    listing = run_installed("--help")
    assert listing.returncode == 0, listing.stderr[-3000:]
    for command in ("bringup", "demo", "play", "stream"):
        assert command in listing.stdout, command
    if "status" in listing.stdout:  # `lerf-ros status` (issue #17) once it is there
        status = run_installed("status", "--help")
        assert status.returncode == 0, status.stderr[-3000:]
    demo = run_installed("demo", "--help")
    assert demo.returncode == 0, demo.stderr[-3000:]
    # argparse wraps the long default: compare without whitespace (paths here have none).
    assert str(share / "config" / "demo.yaml") in "".join(demo.stdout.split())
    _bringup_from_the_install(lerf_ros, installed_env, share, tmp_path)


def _bringup_from_the_install(lerf_ros: Path, env: dict, share: Path, tmp_path: Path) -> None:
    """The installed ``lerf-ros bringup`` starts the node with the install's parameter file
    and DDS profile, and stops cleanly on SIGINT once the node says it is up."""
    light = ["encoder:=colour-minilm", "dino:=none", "device:=cpu", "preset:=cpu"]
    overrides = [arg for item in [*light, "torch_threads:=1"] for arg in ("-p", item)]
    log_path = tmp_path / "bringup.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(lerf_ros), "bringup", "--localhost-only", "--name", "lerf_colcon", *overrides],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 180
        while "engine ready" not in log_path.read_text() and process.poll() is None:
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.5)
        text = log_path.read_text()
        assert "engine ready" in text, text[-3000:]
        assert f"with {share / 'config' / 'lerf.yaml'};" in text, text[:2000]
        assert f"Fast DDS profile {share / 'config' / 'fastdds_localhost.xml'}" in text
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, log_path.read_text()[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in log_path.read_text(), log_path.read_text()[-3000:]
