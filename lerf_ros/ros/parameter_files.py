"""Which sections of a ROS 2 parameter file apply to a node, by rcl's matching rules.

A parameter file's top-level keys name the nodes its parameters are for; a node renamed
(``__node:=``, ``lerf-ros bringup --name``) or put in a namespace no longer matches a key
written for its default name and silently keeps its defaults. The shipped files are keyed
``/**`` for that reason; the node warns at start-up when a file it was given matches nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml


def _key_pattern(key: str) -> re.Pattern:
    """rcl's node-name wildcards: ``/**`` is any number of name tokens (none included), ``*``
    one token; a key without a leading slash is taken from the root."""
    key = key if key.startswith("/") else "/" + key
    parts = re.split(r"(/\*\*|\*)", key)
    regex = ""
    for part in parts:
        if part == "/**":
            regex += r"(/[^/]+)*"
        elif part == "*":
            regex += r"[^/]+"
        else:
            regex += re.escape(part)
    return re.compile(regex)


def key_matches(key: str, node_fqn: str) -> bool:
    """Whether a parameter-file key (``lerf_trainer``, ``/**``, ``/robot1/*``) names the node
    with fully qualified name ``node_fqn`` (``/lerf_trainer``, ``/robot1/lerf_trainer``)."""
    return _key_pattern(str(key)).fullmatch(node_fqn) is not None


def _sections(path: Path | str) -> dict:
    data = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a ROS 2 parameter file (top level is not a mapping)")
    return data


def parameters_for(path: Path, node_fqn: str = "/lerf_trainer") -> dict:
    """The parameters ``path`` gives the node ``node_fqn``: every matching section's
    ``ros__parameters``, later sections overriding earlier ones as rcl applies them."""
    values: dict = {}
    for key, section in _sections(path).items():
        if key_matches(key, node_fqn) and isinstance(section, dict):
            values.update(section.get("ros__parameters") or {})
    return values


def params_files(argv: list[str]) -> list[str]:
    """The ``--params-file PATH`` arguments of a ROS command line."""
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--params-file"]


def unmatched_params_files(argv: list[str], node_fqn: str) -> list[str]:
    """A warning for each parameter file on the command line with no section for ``node_fqn``
    (its parameters are all ignored by rcl, without a word)."""
    warnings = []
    for path in params_files(argv):
        try:
            keys = [str(key) for key in _sections(path)]
        except (OSError, ValueError, yaml.YAMLError):
            continue  # rcl has already refused an unreadable file before the node exists
        if not any(key_matches(key, node_fqn) for key in keys):
            warnings.append(
                f"parameter file {path} has no section for node {node_fqn} (its sections: "
                f"{', '.join(keys) or 'none'}): none of its parameters apply. Key the file "
                f"'/**:' (any node name) or '{node_fqn}:', or start the node under a name it has."
            )
    return warnings
