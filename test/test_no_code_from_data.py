"""Nothing that arrives over the network or from a file can run code: a static check of the
package's source for eval/exec, pickle, unsafe torch/numpy/yaml loading, and for service
handlers that import modules."""

from __future__ import annotations

import ast
from pathlib import Path

import lerf_ros

PACKAGE = Path(lerf_ros.__file__).resolve().parent
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "msg" not in p.parts and "srv" not in p.parts)


def keyword(call: ast.Call, name: str):
    for item in call.keywords:
        if item.arg == name:
            return item.value
    return None


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return ""


def problems_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(
                n.split(".")[0] in ("pickle", "cPickle", "dill", "marshal", "shelve") for n in names
            ):
                found.append(f"{path.name}:{node.lineno}: imports a pickle-like module")
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
        if name in ("eval", "exec", "compile", "__import__"):
            found.append(f"{where}: {name}()")
        if name == "torch.load":
            value = keyword(node, "weights_only")
            if not (isinstance(value, ast.Constant) and value.value is True):
                found.append(f"{where}: torch.load without weights_only=True")
        if name in ("np.load", "numpy.load"):
            value = keyword(node, "allow_pickle")
            if value is not None and not (isinstance(value, ast.Constant) and not value.value):
                found.append(f"{where}: np.load with allow_pickle")
        if name == "yaml.load" or name == "yaml.unsafe_load":
            found.append(f"{where}: {name} (use yaml.safe_load)")
    return found


def test_no_source_file_evaluates_or_unpickles_data():
    assert len(SOURCES) > 30  # the walk found the package
    problems = [p for path in SOURCES for p in problems_in(path)]
    assert problems == []


def test_service_handlers_never_import_what_a_request_names():
    """Encoder and plug-in import paths come from start-up parameters only: the node's
    service callbacks contain no dynamic import."""
    handlers = [
        node
        for module in ("trainer_node.py", "service_calls.py", "lifecycle.py")
        for node in ast.walk(ast.parse((PACKAGE / "ros" / module).read_text()))
        if isinstance(node, ast.FunctionDef) and node.name.startswith(("_on_", "on_"))
    ]
    names = {h.name for h in handlers}
    assert {"_on_query", "_on_get_targets", "_on_save", "_on_load", "on_configure"} <= names
    for handler in handlers:
        for node in ast.walk(handler):
            if isinstance(node, ast.Call):
                name = dotted(node.func)
                assert "import_module" not in name and "load_encoder" not in name, (
                    handler.name,
                    name,
                )
