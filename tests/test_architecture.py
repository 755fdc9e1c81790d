"""The layout's promises: no import cycle, no module-level mutable state, modules of a readable size.

State lives in objects an app or a run owns (`create_app`, `verify`), never in a
module: a second app or run in the same process must not see the first's.
"""

from __future__ import annotations

import ast
import collections
import importlib
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mockserver", "contracts")
MUTABLE = (list, dict, set, bytearray, collections.deque)
MAX_LINES = 420


def modules() -> list[str]:
    names = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        names.append(package)
        names += [m.name for m in pkgutil.walk_packages(root.__path__, package + ".") if not m.name.endswith("__main__")]
    return names


@pytest.mark.parametrize("name", modules())
def test_no_module_level_mutable_state(name: str) -> None:
    module = importlib.import_module(name)
    mutable = [key for key, value in vars(module).items() if not key.startswith("__") and isinstance(value, MUTABLE)]
    assert not mutable, f"{name} keeps mutable module state {mutable}: use a tuple, frozenset or MappingProxyType " \
                        "for constants, or an object the app/run owns for state"


# Cycles known and being removed (issue 18) would be listed here, each a frozenset of module names; the
# two that were (scenarios.runner ↔ steps ↔ waits, verify.flows ↔ probe) are gone, so none is allowed.
KNOWN_CYCLES: tuple[frozenset[str], ...] = ()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(node: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of a tree, inside functions too, but not under `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            found.append(child)
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                found += _import_nodes(other) if not isinstance(other, (ast.Import, ast.ImportFrom)) else [other]
        else:
            found += _import_nodes(child)
    return found


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules a file imports, at module level or inside a function (a deferred import is still a
    dependency: it only hides the cycle from the interpreter). `from pkg import mod` depends on `pkg.mod`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] in PACKAGES}
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            parts = parts[:len(parts) - node.level + 1]
            base = ".".join(parts + ([node.module] if node.module else []))
        if base.split(".")[0] not in PACKAGES:
            continue
        subs = {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known}
        found |= subs if subs and len(subs) == len(node.names) else subs | {base}
    return found


def _graph() -> dict[str, set[str]]:
    graph = {}
    names = modules()
    for name in names:
        module = importlib.import_module(name)
        path = Path(module.__file__ or "")
        graph[name] = {m for m in _imports(path, name, set(names)) if m != name}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The graph's strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(frozenset(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def test_no_import_cycle() -> None:
    """No cycle between project modules, function-level imports included (`if TYPE_CHECKING:` excluded)."""
    cycles = [sorted(c) for c in import_cycles(_graph()) if c not in KNOWN_CYCLES]
    assert not cycles, f"import cycles: {cycles}"


def test_the_cycle_finder_sees_function_level_imports(tmp_path: Path) -> None:
    """A deferred import counts; one under `if TYPE_CHECKING:` does not."""
    source = tmp_path / "m.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from contracts.spec import Spec\n"
                      "def f():\n    from contracts.target import client\n", encoding="utf-8")
    found = _imports(source, "contracts.m", {"contracts.target.client"})
    assert found == {"contracts.target.client"}
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset({"a", "b", "c"})]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_the_size_limit(package: str) -> None:
    long = [f"{p.relative_to(ROOT)} ({n} lines)" for p in sorted((ROOT / package).rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, f"modules over {MAX_LINES} lines: {long}"
