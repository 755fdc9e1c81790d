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


def _imports(path: Path, package: str) -> set[str]:
    """The project modules a file imports at module level (imports inside functions are deferred, not cycles)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] in PACKAGES}
    return found


def _graph() -> dict[str, set[str]]:
    graph = {}
    for name in modules():
        module = importlib.import_module(name)
        path = Path(module.__file__ or "")
        graph[name] = {m for m in _imports(path, name) if m != name}
    return graph


def test_no_import_cycle() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(node: str, stack: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in stack:
                pytest.fail(f"import cycle: {' → '.join(stack[stack.index(nxt):] + [nxt])}")
            if nxt in graph and nxt not in done:
                visit(nxt, stack + [nxt])
        done.add(node)

    for name in sorted(graph):
        if name not in done:
            visit(name, [name])


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_the_size_limit(package: str) -> None:
    long = [f"{p.relative_to(ROOT)} ({n} lines)" for p in sorted((ROOT / package).rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, f"modules over {MAX_LINES} lines: {long}"
