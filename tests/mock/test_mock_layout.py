"""The mock's module rules (issue 11), checked on the source so they hold as it grows:
one module wires handlers to routes, handler modules never import each other,
no import cycles, and the spec is never loaded at import time."""

from __future__ import annotations

import ast
from pathlib import Path

MOCKSERVER = Path(__file__).resolve().parents[2] / "mockserver"
HANDLER_MODULES = {"mockserver.api.responses", "mockserver.api.webhook_responses"}


def module_name(path: Path) -> str:
    """`mockserver/api/urls.py` → `mockserver.api.urls` (a package's `__init__.py` is the package)."""
    parts = path.relative_to(MOCKSERVER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """mockserver module → the mockserver modules it imports (also inside functions)."""
    graph: dict[str, set[str]] = {}
    for path in MOCKSERVER.rglob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mockserver") and \
                    (MOCKSERVER.parent / node.module.replace(".", "/")).is_dir():  # type: ignore[union-attr]
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mockserver."):
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name.startswith("mockserver.")}
        graph[module_name(path)] = found
    return graph


def test_only_urls_imports_the_handler_modules() -> None:
    importers = {module for module, found in imports().items() if found & HANDLER_MODULES}
    assert importers == {"mockserver.api.urls"}


def test_no_import_cycles() -> None:
    graph = imports()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " → ".join(path[path.index(module):] + [module]))
        if module in done:
            return
        for imported in graph.get(module, ()):
            visit(imported, path + [module])
        done.add(module)

    for module in graph:
        visit(module, [])


def test_the_spec_is_not_loaded_at_import_time() -> None:
    """Module-level statements never call `load_spec()` (create_app loads it)."""
    for path in MOCKSERVER.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for statement in tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            calls = [n for n in ast.walk(statement) if isinstance(n, ast.Call)]
            names = {getattr(call.func, "id", getattr(call.func, "attr", "")) for call in calls}
            assert "load_spec" not in names, f"{path.name} loads the spec at import time"


def test_http_handlers_never_hold_the_backend_lock() -> None:
    """An operation of the backend is atomic by itself (`answered` renders inside it): the HTTP side takes no lock."""
    for path in (MOCKSERVER / "api").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            assert not (isinstance(node, ast.Attribute) and node.attr == "lock"), \
                f"{path.name}:{node.lineno} reaches for a lock; call the backend (e.g. backend.answered) instead"
