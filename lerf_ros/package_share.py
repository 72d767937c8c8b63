"""Where lerf_ros's data files (``config/``, ``launch/``) are: one answer for every caller.

Run from the source tree (``pip install -e``, ``scripts/setup.sh``), they sit beside the
Python package. A ``colcon build`` installs the sources to
``<prefix>/lib/python3.X/site-packages/lerf_ros`` and the data to ``<prefix>/share/lerf_ros``,
where ``ros2 run lerf_ros lerf-ros ...`` must find them: looking beside the sources there found
nothing, so every command that read a shipped file failed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

PACKAGE = "lerf_ros"
MARKER = "package.xml"
"""A share directory (and the source tree) holds the package manifest: ament_package()
installs it to ``share/lerf_ros``."""


class PackageShareNotFound(FileNotFoundError):
    """No directory with lerf_ros's data files was found."""


def share_candidates(
    module_file: str | os.PathLike = __file__, environ: Mapping[str, str] | None = None
) -> list[Path]:
    """Directories that may hold the data, best first: the source tree this module runs from,
    the install prefix it was installed to, then every ``AMENT_PREFIX_PATH`` prefix."""
    environ = os.environ if environ is None else environ
    package_dir = Path(module_file).resolve().parent  # .../lerf_ros
    candidates = [package_dir.parent]  # the source tree: lerf_ros/ beside package.xml
    # <prefix>/lib/python3.X/{site,dist}-packages/lerf_ros: the prefix is three levels up
    # from the package's parent. The install matching the running code comes before others.
    if len(package_dir.parents) > 3:
        candidates.append(package_dir.parents[3] / "share" / PACKAGE)
    for prefix in environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if prefix:
            candidates.append(Path(prefix) / "share" / PACKAGE)
    return list(dict.fromkeys(candidates))


def package_share(
    module_file: str | os.PathLike = __file__, environ: Mapping[str, str] | None = None
) -> Path:
    """The directory holding ``config/`` and ``launch/`` (see :func:`share_candidates`).

    Raises :class:`PackageShareNotFound`, naming where it looked, when none has them.
    """
    candidates = share_candidates(module_file, environ)
    for candidate in candidates:
        if (candidate / MARKER).is_file() and (candidate / "config").is_dir():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise PackageShareNotFound(
        f"lerf_ros's data files (config/, launch/) were not found; looked in: {looked}. "
        "Run from the source tree (pip install -e .), or colcon build the package and "
        "source install/setup.bash so that AMENT_PREFIX_PATH names its install prefix."
    )


def share_file(*parts: str) -> Path:
    """A shipped file, e.g. ``share_file("config", "lerf.yaml")``; raises
    :class:`PackageShareNotFound` when the package's data, or that file, is missing."""
    path = package_share().joinpath(*parts)
    if not path.exists():
        raise PackageShareNotFound(f"{path} is missing from lerf_ros's data files")
    return path
