"""The server's shapes at `strict`: its formats (the spec's `x-strict` schemas) and its key order.

Both judge every answer of the run, the probe's and Schemathesis' alike, with
the pure functions of contracts.checks.strict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.checks.documents import shown
from contracts.checks.registry import Finding, check
from contracts.checks.strict import strict_key_order, strict_response_schema

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import CheckContext


@check(family="strict", subject="exchange", rules=["shapes.server-formats"], level="strict")
def server_formats(ctx: "CheckContext", exchange: "Exchange") -> list[Finding] | None:
    """An answer has the server's formats: lower-case GUIDs, `Z` times, `CM-<yyMMddHHmmss>-<4 hex>`, 32-hex jobId, shells."""
    if not exchange.operation or exchange.status is None or not isinstance(exchange.response, (dict, list)):
        return None
    return [shown(exchange, v.message, v.where) for v in strict_response_schema(exchange.operation, exchange.status,
                                                                                  exchange.response)]


@check(family="strict", subject="exchange", rules=["shapes.key-order"], level="strict")
def server_key_order(ctx: "CheckContext", exchange: "Exchange") -> list[Finding] | None:
    """An order, line, wallet, asset, summary or error lists its keys in the server's order."""
    if not exchange.operation or exchange.status is None or not isinstance(exchange.response, (dict, list)):
        return None
    return [shown(exchange, v.message, v.where) for v in strict_key_order(exchange.operation, exchange.status,
                                                                            exchange.response)]
