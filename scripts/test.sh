#!/usr/bin/env bash
# The README's test command: set up (fast when already done), lint, then the whole suite.
# DDS stays on loopback with a domain id of its own; pytest-timeout (thread method) guards
# every test and an outer timeout guards the run, so a hanging spin cannot hang CI.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/setup.sh
venv="${LERF_ROS_VENV:-$repo/.venv}"
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$(( (RANDOM % 90) + 10 ))}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export PYTHONDONTWRITEBYTECODE=1
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"  # see lerf_ros/ros/bringup.py
echo "[test] ROS_DOMAIN_ID=$ROS_DOMAIN_ID"
"$venv/bin/ruff" check lerf_ros test benchmarks launch scripts
"$venv/bin/ruff" format --check lerf_ros test benchmarks launch
status=0
timeout --signal=TERM --kill-after=60 "${LERF_ROS_TEST_TIMEOUT:-3600}" \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" || status=$?
# Fast DDS leaves shared-memory segments behind for processes that were killed.
"$venv/bin/python" - <<'PY' || true
import glob, os
for path in glob.glob("/dev/shm/fastrtps_*") + glob.glob("/dev/shm/sem.fastrtps_*"):
    try:
        os.remove(path)
    except OSError:
        pass
PY
exit "$status"
