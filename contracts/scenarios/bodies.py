"""Request bodies from fixtures: `{fixture: file.name, with: {...}, without: [paths]}`."""

from __future__ import annotations

import copy
from typing import Any, Mapping

from contracts.scenarios.model import ScenarioFormatError


# -- bodies from fixtures ------------------------------------------------------------
def build_body(raw: Any, fixtures: Mapping[str, Any]) -> Any:
    """A step's body: inline, or `{fixture: file.name, with: {...}, without: [paths]}`.

    `with` is merged into the fixture (mappings deeply, anything else replaced);
    `without` removes dotted paths (`paymentReference`, `items.0.wallet`).
    """
    if not (isinstance(raw, dict) and "fixture" in raw):
        return copy.deepcopy(raw)
    unknown = set(raw) - {"fixture", "with", "without"}
    if unknown:
        raise ScenarioFormatError(f"body: unknown key(s) {sorted(unknown)} next to `fixture` (with, without)")
    body = copy.deepcopy(fixtures[raw["fixture"]])
    body = _merge(body, copy.deepcopy(raw.get("with") or {}))
    for dotted in _paths(raw.get("without", [])):
        _remove(body, dotted.split("."))
    return body


def _merge(base: Any, overlay: Any) -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return overlay


def _remove(node: Any, parts: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    if isinstance(node, list) and head.isascii() and head.isdigit() and int(head) < len(node):
        if rest:
            _remove(node[int(head)], rest)
        else:
            del node[int(head)]
    elif isinstance(node, dict) and head in node:
        if rest:
            _remove(node[head], rest)
        else:
            del node[head]


def _paths(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioFormatError("body.without: expected a string or a list of strings")
    return list(value)
