"""What every settings dataclass shares: field docstrings read from the source, and checks of
enumerated fields (``Literal[...]`` annotations) with one error text for the CLI and the node.

ROS-free and torch-free: ``lerf_ros.ros.parameters`` builds the node's parameter table (its
descriptions, config/lerf.yaml, the README table) from these docstrings, so a field's docstring
is its only description.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import sys
import textwrap
import typing


class ConfigError(ValueError):
    """A setting outside the values its field accepts (the message names the field)."""


def one_of(choices) -> str:
    """``a, b or c``: how an error lists the accepted values."""
    words = [str(choice) for choice in choices]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def check_choice(name: str, value, choices) -> None:
    """Raise :class:`ConfigError` ``name must be a, b or c, not 'x'`` unless ``value`` is one of
    ``choices`` (the text the node and the CLI both show)."""
    if value not in tuple(choices):
        raise ConfigError(f"{name} must be {one_of(choices)}, not {value!r}")


@functools.cache
def _class_docs(cls: type) -> dict[str, str]:
    """``{field: docstring}`` of one class body (a string right after an annotated field)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # no source (a frozen or dynamically made class)
        return {}
    tree = ast.parse(source)
    node = next((n for n in tree.body if isinstance(n, ast.ClassDef)), None)
    if node is None:
        return {}
    docs: dict[str, str] = {}
    for statement, following in zip(node.body, node.body[1:], strict=False):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs


def field_doc(cls: type, name: str) -> str:
    """The docstring of dataclass field ``name`` of ``cls`` (or of the base defining it), on
    one line; '' when it has none."""
    for klass in cls.__mro__:
        doc = _class_docs(klass).get(name) if dataclasses.is_dataclass(klass) else None
        if doc:
            return " ".join(doc.split())
    return ""


@functools.cache
def _hints(cls: type) -> dict:
    module = sys.modules.get(cls.__module__)
    try:
        return typing.get_type_hints(cls, vars(module) if module else None)
    except Exception:  # an annotation that does not resolve here: no enumerations to check
        return {}


def field_type(cls: type, name: str):
    """The resolved annotation of field ``name`` (None when it does not resolve)."""
    return _hints(cls).get(name)


def literal_choices(cls: type, name: str) -> tuple | None:
    """The values of a ``Literal[...]`` field (None when the field is not an enumeration)."""
    hint = field_type(cls, name)
    if typing.get_origin(hint) is typing.Literal:
        return typing.get_args(hint)
    return None


def check_literals(config, path: str = "") -> None:
    """Check every ``Literal[...]`` field of ``config`` and of the dataclasses it holds (also
    in lists and tuples); an error names the field by its dotted path (``nerf.grid.backend``)."""
    for item in dataclasses.fields(config):
        value = getattr(config, item.name)
        name = f"{path}{item.name}"
        choices = literal_choices(type(config), item.name)
        if choices is not None:
            check_choice(name, value, choices)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            check_literals(value, name + ".")
        elif isinstance(value, list | tuple):
            for index, element in enumerate(value):
                if dataclasses.is_dataclass(element) and not isinstance(element, type):
                    check_literals(element, f"{name}[{index}].")


def get_path(config, path: str):
    """``config.a.b`` for ``path`` ``a.b``."""
    for part in path.split("."):
        config = getattr(config, part)
    return config


def set_path(config, path: str, value) -> None:
    """Set ``config.a.b = value`` for ``path`` ``a.b``."""
    *parents, last = path.split(".")
    for part in parents:
        config = getattr(config, part)
    setattr(config, last, value)


def owner_and_field(config, path: str) -> tuple[type, str]:
    """The dataclass type holding the last field of ``path``, and that field's name."""
    *parents, last = path.split(".")
    for part in parents:
        config = getattr(config, part)
    return type(config), last
