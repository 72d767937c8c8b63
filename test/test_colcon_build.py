"""A ROS 2 workspace build of this package with colcon (the pip-installed toolchain stands in
for a ROS install): interfaces and Python sources land merged in one importable package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import lerf_ros, lerf_ros.engine; from lerf_ros.srv import Query, GetTargets; "
            "from lerf_ros.msg import TrainingStatus, RelevancyPeak; "
            "print(lerf_ros.__path__[0]); print(Query.Request(text='mug').text)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "PYTHONPATH": str(site),
            "LD_LIBRARY_PATH": f"{install / 'lib'}:{os.environ.get('LD_LIBRARY_PATH', '')}",
        },
    )
    assert check.returncode == 0, check.stderr[-3000:]
    first_path, text = check.stdout.split()
    assert first_path == str(site / "lerf_ros") and text == "mug"
