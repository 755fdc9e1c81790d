"""The URL table, built from the spec's paths: which operation a raw path names.

`urls.py` wires each operation to its handler; this module only matches.
Flask's router is case-sensitive and decodes `%2F` before matching, while the
server matches literal segments case-insensitively and the company segment
arrives URL-encoded in three ways. So the API blueprint has one catch-all
rule and this table matches the raw path against the spec's templates, in
the server's order (CONTRACT.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional
from urllib.parse import unquote, unquote_plus

from contracts.spec import Operation, Spec

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
    params: dict[str, str]


class UrlTable:
    """The spec's operations as raw-path patterns, tried in the server's order."""

    def __init__(self, spec: Spec) -> None:
        ordered = sorted(
            spec.operations.values(),
            key=lambda op: ROUTE_ORDER.index(op.operation_id) if op.operation_id in ROUTE_ORDER else len(ROUTE_ORDER),
        )
        self.routes = [Route(op, _compile(op.path)) for op in ordered]

    def match(self, method: str, raw_path: str) -> Optional[Match]:
        for route in self.routes:
            if route.operation.method != method:
                continue
            found = route.pattern.fullmatch(raw_path)
            if found:
                return Match(route.operation, {k: _decode(k, v) for k, v in found.groupdict().items()})
        return None


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
