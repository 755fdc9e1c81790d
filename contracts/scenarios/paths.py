"""Field paths into a JSON answer: `items[0].wallets[*].externalReferenceNumber`."""

from __future__ import annotations

import re
from typing import Any

from contracts.scenarios.model import ScenarioFormatError


# -- field paths ------------------------------------------------------------------------
class _Missing:
    def __repr__(self) -> str:
        return "(absent)"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
_PATH_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[(\*|-?\d+)\]")


def parse_path(path: str) -> list[str | int]:
    """`items[0].wallets[*].walletId` → ['items', 0, 'wallets', '*', 'walletId'].

    `$` (or an empty path) is the whole body. Keys are plain names; `@rows`
    and `@seen` are pseudo-fields the runner adds (see scenarios/README.md).
    """
    path = path.strip()
    if path in ("", "$"):
        return []
    tokens: list[str | int] = []
    position = 0
    for match in _PATH_TOKEN.finditer(path):
        if match.start() != position:
            break
        key, index = match.groups()
        tokens.append(key if key is not None else (index if index == "*" else int(index)))
        position = match.end()
    if position != len(path):
        raise ScenarioFormatError(f"field path {path!r} is not valid (e.g. items[0].wallets[*].walletId)")
    return tokens


def has_wildcard(path: str) -> bool:
    return "*" in parse_path(path)


def resolve(document: Any, path: str) -> Any:
    """The value at `path`: one value (or MISSING), or with `[*]` the list of every match."""
    tokens = parse_path(path)
    values = _walk([document], tokens)
    if "*" in tokens:
        return [v for v in values if v is not MISSING]
    return values[0] if values else MISSING


def _walk(nodes: list[Any], tokens: list[str | int]) -> list[Any]:
    for token in tokens:
        following: list[Any] = []
        for node in nodes:
            if token == "*":
                following.extend(node if isinstance(node, list) else [MISSING])
            elif isinstance(token, int):
                ok = isinstance(node, list) and -len(node) <= token < len(node)
                following.append(node[token] if ok else MISSING)
            else:
                following.append(node[token] if isinstance(node, dict) and token in node else MISSING)
        nodes = following
    return nodes


