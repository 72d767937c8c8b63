"""One resolver for lerf_ros's data files: the source tree, else the install prefix the code
runs from, else AMENT_PREFIX_PATH; a clear error naming where it looked."""

from __future__ import annotations

from pathlib import Path

import pytest

from lerf_ros.package_share import PackageShareNotFound, package_share, share_file

REPO = Path(__file__).resolve().parents[1]


def make_share(root: Path) -> Path:
    (root / "config").mkdir(parents=True)
    (root / "package.xml").write_text("<package/>")
    return root


def installed_module(prefix: Path) -> Path:
    """Where a colcon install puts lerf_ros/package_share.py under ``prefix``."""
    module = prefix / "lib" / "python3.12" / "site-packages" / "lerf_ros" / "package_share.py"
    module.parent.mkdir(parents=True)
    module.write_text("")
    return module


def test_the_source_tree_is_found_when_running_from_it():
    assert package_share() == REPO
    assert share_file("config", "lerf.yaml") == REPO / "config" / "lerf.yaml"
    assert share_file("config", "fastdds.xml").is_file()


def test_an_install_finds_its_own_prefix_before_ament_prefix_path(tmp_path):
    own = make_share(tmp_path / "install" / "share" / "lerf_ros")
    other = make_share(tmp_path / "other" / "share" / "lerf_ros")
    module = installed_module(tmp_path / "install")
    env = {"AMENT_PREFIX_PATH": str(tmp_path / "other")}
    assert package_share(module, env) == own
    # Installed somewhere without its data (e.g. a merged prefix elsewhere): the ament index.
    bare = installed_module(tmp_path / "bare")
    env = {"AMENT_PREFIX_PATH": f"{tmp_path / 'nothing'}:{tmp_path / 'other'}"}
    assert package_share(bare, env) == other


def test_missing_data_is_a_clear_error(tmp_path):
    module = installed_module(tmp_path / "install")
    with pytest.raises(PackageShareNotFound, match=r"not found; looked in: .*install/share"):
        package_share(module, {"AMENT_PREFIX_PATH": ""})
    with pytest.raises(PackageShareNotFound, match=r"no_such\.yaml is missing"):
        share_file("config", "no_such.yaml")
    # The error is a FileNotFoundError: callers that handle a missing file handle this too.
    assert issubclass(PackageShareNotFound, FileNotFoundError)
