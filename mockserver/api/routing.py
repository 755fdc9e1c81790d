"""The URL table, built from the spec's paths: which operation a raw path names.

`urls.py` wires each operation to its handler; this module only matches.
Flask's router is case-sensitive and decodes `%2F` before matching, while the
server matches literal segments case-insensitively and the company segment
arrives URL-encoded in three ways. So the API is not a Flask route: every
API request reaches `urls.dispatch`, and this table matches the raw path
against the spec's templates, in the server's order (CONTRACT.md).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, Optional
from urllib.parse import unquote, unquote_plus

from contracts.spec import Operation, Spec

# The path parameters that name the scope, the same on every request of a client.
SCOPE_PARAMS = frozenset({"tenant", "environment", "company"})
# The server tries its routes in this order; operations not listed (webhook
# subscriptions) follow in spec order.
ROUTE_ORDER = ("listOrdersByPartner", "getOrder", "confirmOrder", "createOrder", "replaceOrder", "deleteOrder")


@dataclass(frozen=True)
class Route:
    operation: Operation
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Match:
    operation: Operation
    params: Mapping[str, str]  # read-only: handlers only read it


class UrlTable:
    """The spec's operations as raw-path patterns, tried in the server's order."""

    def __init__(self, spec: Spec) -> None:
        ordered = sorted(
            spec.operations.values(),
            key=lambda op: ROUTE_ORDER.index(op.operation_id) if op.operation_id in ROUTE_ORDER else len(ROUTE_ORDER),
        )
        self.routes = [Route(op, _compile(op.path)) for op in ordered]
        # Tenant, environment and company repeat on every request, and their
        # decoding (`unquote`, twice for the company) costs ~5 us a request.
        self._decode_scope = functools.lru_cache(maxsize=4096)(_decode)

    def match(self, method: str, raw_path: str) -> Optional[Match]:
        for route in self.routes:
            if route.operation.method != method:
                continue
            found = route.pattern.fullmatch(raw_path)
            if found:
                params = {k: self._decode(k, v) for k, v in found.groupdict().items()}
                return Match(route.operation, MappingProxyType(params))
        return None

    def _decode(self, name: str, raw: str) -> str:
        """The scope's segments from the kept decodings; ids vary and hold no
        `%`, so they are decoded each time, at no cost."""
        return self._decode_scope(name, raw) if name in SCOPE_PARAMS else _decode(name, raw)


def _compile(template: str) -> re.Pattern[str]:
    """`/{tenant}/x/{id}` → a regex: parameters are one raw segment each,
    literal segments match in any case."""
    parts = []
    for segment in template.strip("/").split("/"):
        name = re.fullmatch(r"\{(\w+)\}", segment)
        parts.append(f"(?P<{name.group(1)}>[^/]+)" if name else f"(?i:{re.escape(segment)})")
    return re.compile("/" + "/".join(parts) + "/?")


def _decode(name: str, raw: str) -> str:
    """Path parameters arrive URL-encoded; the company may be double-encoded
    (`%2520`, as the docs show) or use `+` for spaces."""
    if name == "company":
        return unquote_plus(unquote(raw))
    return unquote(raw)
