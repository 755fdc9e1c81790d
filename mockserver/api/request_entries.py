"""The request log's rows as the control API, the dashboard and `otacm mock --log` show them, and the query
that picks them (filters, pages by id): what request_log.py keeps, read.

A row is a plain tuple in `LoggedRequest`'s field order (store/base.py); the
store keeps them oldest first, ids increasing.
"""

from __future__ import annotations

import functools
import json
import re
import time
from bisect import bisect_left
from itertools import islice
from operator import itemgetter
from typing import Any, Callable, Optional, Sequence

from mockserver.store.base import LoggedRequest, RequestRow

_STATUS = re.compile(r"([1-5])(xx|\d\d)")
_BY_ID = itemgetter(0)  # a RequestRow's id
_STATUS_AT, _OPERATION_AT, _PARTNER_AT, _ORDER_AT, _RESPONSE_AT = (
    LoggedRequest._fields.index(name) for name in ("status", "operation", "partner_id", "order_id", "response_body"))


class BadFilter(ValueError):
    """A filter the log cannot apply; the message says what it takes."""


# -- the query ---------------------------------------------------------------------------------
def matcher(status: str, operation: str, partner: str, order: str,
            operations: frozenset[str]) -> Callable[[RequestRow], bool]:
    """What a row must be to match the filters (see RequestLog.entries); a BadFilter for a status or an
    operation that cannot match."""
    tests: list[Callable[[RequestRow], bool]] = []
    if status:
        found = _STATUS.fullmatch(status.lower())
        if found is None:
            raise BadFilter(f"status must be a class such as 4xx or a code such as 404 (got {status!r})")
        if found.group(2) == "xx":
            low = int(found.group(1)) * 100
            tests.append(lambda row: low <= row[_STATUS_AT] < low + 100)
        else:
            code = int(status)
            tests.append(lambda row: row[_STATUS_AT] == code)
    if operation:
        if operation not in operations:
            raise BadFilter(f"operation must be an operationId of the API ({', '.join(sorted(operations))}); "
                            f"got {operation!r}")
        tests.append(lambda row: row[_OPERATION_AT] == operation)
    if partner:
        partner_id = partner.lower()
        tests.append(lambda row: partner_of(row) == partner_id)
    if order:
        tests.append(lambda row: row[_ORDER_AT] == order)
    return lambda row: all(test(row) for test in tests)


def newest(kept: Sequence[RequestRow], wanted: Callable[[RequestRow], bool], before: Optional[int],
           limit: int) -> list[RequestRow]:
    """The rows `wanted` picks, newest first, below id `before` (none: from the newest), at most `limit`."""
    top = len(kept) if before is None else bisect_left(kept, before, key=_BY_ID)
    newest_first = islice(reversed(kept), len(kept) - top, None)
    return list(islice(filter(wanted, newest_first), max(0, limit)))


def found_by_id(kept: Sequence[RequestRow], entry_id: int) -> Optional[RequestRow]:
    """The row of that id, or None (never logged, or no longer kept)."""
    index = bisect_left(kept, entry_id, key=_BY_ID)
    return kept[index] if index < len(kept) and kept[index][0] == entry_id else None


# -- rows into entries and lines ---------------------------------------------------------------
def entry_of(row: LoggedRequest) -> dict[str, Any]:
    """A logged request as the control API and the dashboard show it."""
    return {**summary(row),
            "requestBody": row.request_body.decode("utf-8", "replace"), "requestBodyTruncated": row.request_truncated,
            "responseBody": row.response_body.decode("utf-8", "replace"),
            "responseBodyTruncated": row.response_truncated}


def partner_of(row: RequestRow) -> Optional[str]:
    """The partner a logged request concerns: the one its path or body named, else the one its answer (an
    order) names, found here rather than on the request's thread."""
    partner = row[_PARTNER_AT]
    if partner is None:
        partner = value_in(row[_RESPONSE_AT], b'"partnerId": "', 400)
        partner = partner.lower() if partner else None
    return partner


def summary(row: LoggedRequest) -> dict[str, Any]:
    """The entry without its bodies (`--log json`'s line)."""
    return {"id": row.id, "at": iso_millis(row.at), "sandboxAt": iso_millis(row.sandbox_at), "method": row.method,
            "path": row.path, "query": row.query, "operation": row.operation, "partnerId": partner_of(row),
            "orderId": row.order_id, "status": row.status, "code": row.code, "message": row.message,
            "latencyMs": round(row.latency_ms, 3), "requestHeaders": json.loads(row.request_headers)}


def text_line(row: LoggedRequest) -> str:
    """`--log text`: `2026-12-07T01:02:03.456Z 127.0.0.1 "POST /…/channelManager" 400 createOrder 1.3ms
    generic_error: <message>`, as servers log a request."""
    target = row.path + ("?" + row.query if row.query else "")
    line = f'{iso_millis(row.at)} {row.client} "{row.method} {target}" {row.status} {row.operation or "-"} ' \
           f'{row.latency_ms:.1f}ms'
    if row.code is not None:
        line += f" {row.code}: {row.message}"
    return line


def iso_millis(timestamp: float) -> str:
    """UTC ISO 8601 with milliseconds and `Z`."""
    second, millis = divmod(round(timestamp * 1000), 1000)
    return f"{_second(second)}.{millis:03d}Z"


@functools.lru_cache(maxsize=16)
def _second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def value_in(body: bytes, key: bytes, within: int) -> Optional[str]:
    """The mock's own JSON (json.dumps' separators): the short string after `key`, if that is in its first
    `within` bytes (where the order representation has its ids)."""
    start = body.find(key, 0, within)
    if start < 0:
        return None
    start += len(key)
    end = body.find(b'"', start, start + 101)
    return body[start:end].decode("utf-8", "replace") if end > start else None
