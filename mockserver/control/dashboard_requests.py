"""The dashboard's Requests view: what the API was sent and what it answered.

The entries come from the request log (`state().request_log`, newest first,
filtered and paged by the log itself); this module turns the query string into
its filters and an entry into what the templates show. Nothing here writes.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from mockserver.api.request_entries import BadFilter

REQUESTS_PAGE_SIZE = 50
MAX_REQUESTS_PAGE_SIZE = 500
ORDER_REQUESTS = 50  # on an order's page: the newest requests that touched it
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")


def page_args(args: Mapping[str, str], default_size: int, largest: int) -> tuple[Optional[int], int]:
    """A dashboard view's page key (`before`, none when empty) and page size (`size`, the default when empty),
    the same for the Orders and the Requests views; BadFilter for one that is not a whole number in range."""
    try:
        before = int(args["before"]) if args.get("before") else None
        size = int(args.get("size") or default_size)
    except ValueError:
        raise BadFilter("before and size must be whole numbers") from None
    if not 1 <= size <= largest:
        raise BadFilter(f"size must be between 1 and {largest} (got {size})")
    return before, size


def requests_query(args: Mapping[str, str]) -> dict[str, Any]:
    """The filters and page key from the query string; BadFilter for a page key or size that is not a number."""
    before, size = page_args(args, REQUESTS_PAGE_SIZE, MAX_REQUESTS_PAGE_SIZE)
    return {"status": args.get("status", "").strip(), "operation": args.get("operation", "").strip(),
            "partner": args.get("partner", "").strip(), "before": before, "size": size}


def empty_query() -> dict[str, Any]:
    return {"status": "", "operation": "", "partner": "", "before": None, "size": REQUESTS_PAGE_SIZE}


def requests_context(mock: Any, query: dict[str, Any]) -> dict[str, Any]:
    """One page of the log, newest first, and the key of the next (older) page; the log's BadFilter for a
    filter it refuses (a status such as 6xx)."""
    entries = mock.request_log.entries(status=query["status"], operation=query["operation"],
                                       partner=query["partner"], before=query["before"], limit=query["size"] + 1)
    more = len(entries) > query["size"]
    rows = rows_of(mock, entries[:query["size"]])
    older = rows[-1]["id"] if more and rows else None
    return {"requests": rows, "requests_older": older, "requests_query": query, "requests_kept": kept(mock)}


def kept(mock: Any) -> int | None:
    """How many requests the log keeps (0: it is off), when it says."""
    limit = getattr(mock.request_log, "limit", None)
    return limit if isinstance(limit, int) else None


def filter_context(mock: Any) -> dict[str, Any]:
    """What the filter form offers: the status classes and the spec's operationIds."""
    return {"status_classes": STATUS_CLASSES, "operations": list(mock.spec.operations)}


def order_requests(mock: Any, order_id: str) -> list[dict[str, Any]]:
    """The newest requests that touched an order."""
    return rows_of(mock, mock.request_log.entries(order=order_id, limit=ORDER_REQUESTS))


def rows_of(mock: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    partners = mock.config.partners
    return [{**entry, "partnerName": _partner_name(partners, entry.get("partnerId")),
             "shortPath": short_path(entry["path"]), "statusClass": f"{entry['status'] // 100}xx"}
            for entry in entries]


def short_path(path: str) -> str:
    """A path without its scope (tenant, environment, company: the same on every row), for the table."""
    parts = path.split("/", 4)
    return "…/" + parts[4] if len(parts) == 5 else path


def _partner_name(partners: Mapping[str, Any], partner_id: str | None) -> str:
    if not partner_id:
        return ""
    partner = partners.get(partner_id) or partners.get(partner_id.lower())
    return (partner.name or partner_id) if partner is not None else partner_id


def exchange_context(mock: Any, entry: dict[str, Any]) -> dict[str, Any]:
    """One exchange, as the detail shows it: the request line, bodies pretty-printed when JSON."""
    row = rows_of(mock, [entry])[0]
    target = entry["path"] + ("?" + entry["query"] if entry.get("query") else "")
    order_id = entry.get("orderId")
    return {
        "entry": row,
        "request_line": f"{entry['method']} {target}",
        "request_body": pretty(entry.get("requestBody") or ""),
        "response_body": pretty(entry.get("responseBody") or ""),
        "order_known": bool(order_id) and mock.backend.order(order_id) is not None,
    }


def pretty(text: str) -> str:
    """A JSON body indented; anything else (a broken or truncated body) as it was sent."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return text
