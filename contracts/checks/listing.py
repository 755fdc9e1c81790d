"""Checks on listOrdersByPartner: the envelope, the filters, the partner's rows only, compact summaries.

Doc 002 shows the list as a bare array of summaries; the server answers a
paginated envelope (CONTRACT.md). The documented level accepts both; the
envelope and `pageSize` are `strict`.
"""

from __future__ import annotations

from types import MappingProxyType

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from contracts.checks.documents import shown
from contracts.checks.registry import Finding, check

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import CheckContext, Evidence

SUMMARY_KEYS = ("orderId", "status", "sellToOrderReference")
SETTLED = frozenset({"Issued", "Draft", "Error", "Cancelled"})  # no status changes by itself from these
FILTERS = ("status", "sellToOrderReference", "receivedAtFrom", "receivedAtTo")
ENVELOPE = MappingProxyType({"morePages": bool, "nextPageKey": str, "nextPageURL": str, "data": list})


def lists(evidence: "Evidence") -> list["Exchange"]:
    return [e for e in evidence.all_exchanges() if e.operation == "listOrdersByPartner" and e.status == 200]


def rows(exchange: "Exchange") -> list[dict[str, Any]] | None:
    """The summaries of a list answer (envelope or bare array); None when it is neither."""
    body = exchange.response
    found = body.get("data") if isinstance(body, dict) else body
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else None


def partner_of(exchange: "Exchange") -> str:
    """The partner a list is for: its path parameter, else the last segment of its URL."""
    found = exchange.params.get("partnerId") or urlsplit(exchange.url).path.rstrip("/").rsplit("/", 1)[-1]
    return str(found).lower()


def _over_lists(evidence: "Evidence", judge: Callable[["Exchange"], list[Finding] | None]) -> list[Finding] | None:
    judged = [(e, judge(e)) for e in lists(evidence)]
    found = [f for _, findings in judged if findings is not None for f in findings]
    return found if any(findings is not None for _, findings in judged) else None


@check(family="listing", subject="run", rules=["listing.envelope"])
def list_envelope(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """The list answers `{morePages, nextPageKey, nextPageURL, data}` or a bare array of summaries."""
    def judge(exchange: "Exchange") -> list[Finding]:
        body = exchange.response
        if isinstance(body, list):
            return []
        wrong = [k for k, kind in ENVELOPE.items() if not isinstance(body, dict) or not isinstance(body.get(k), kind)]
        return [shown(exchange, f"the list is neither a bare array nor the envelope {{morePages, nextPageKey, "
                                f"nextPageURL, data}} (wrong or missing: {', '.join(wrong)})")] if wrong else []
    return _over_lists(evidence, judge)


@check(family="listing", subject="run", rules=["listing.paginated"], level="strict")
def list_paginated_envelope(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """The server's list is the paginated envelope, never a bare array."""
    return _over_lists(evidence, lambda e: [shown(e, "the list is a bare array; the server answers the paginated "
                                                     "envelope {morePages, nextPageKey, nextPageURL, data}")]
                       if isinstance(e.response, list) else [])


@check(family="listing", subject="run", rules=["listing.partner"])
def list_rows_of_partner(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """Every row belongs to the partner the list is for."""
    def judge(exchange: "Exchange") -> list[Finding]:
        partner = partner_of(exchange)
        others = sorted({str(r.get("partnerId")) for r in rows(exchange) or []
                         if str(r.get("partnerId")).lower() != partner})
        if not others or not partner:
            return []
        return [shown(exchange, f"the list for partner {partner} has rows of partner(s) {others}")]
    return _over_lists(evidence, judge)


@check(family="listing", subject="run", rules=["listing.summaries"])
def list_summaries(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """Rows are compact summaries: orderId, status, references, no items."""
    def judge(exchange: "Exchange") -> list[Finding]:
        bad = [r.get("orderId") for r in rows(exchange) or []
               if "items" in r or not all(isinstance(r.get(k), str) for k in SUMMARY_KEYS)]
        return [shown(exchange, f"rows {bad[:5]} are not compact summaries (orderId, status, sellToOrderReference; "
                                "no items)")] if bad else []
    return _over_lists(evidence, judge)


def _instant(text: Any) -> datetime | None:
    """An ISO 8601 instant (a value without an offset is taken as UTC); None when it is not one."""
    try:
        found = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=timezone.utc)


def _filter_problems(exchange: "Exchange", evidence: "Evidence") -> list[str] | None:
    query, found = exchange.query, rows(exchange)
    if found is None or not any(k in query for k in FILTERS):
        return None
    problems = []
    if query.get("status"):
        wanted = set(query["status"].split(","))
        problems += [f"row {r.get('orderId')} is {r.get('status')}" for r in found if r.get("status") not in wanted]
        listed = {r.get("orderId") for r in found}
        problems += [f"order {order_id}, {status} throughout, is missing"
                     for order_id, status in _settled_at(exchange, evidence).items()
                     if status in wanted and order_id not in listed and _whole_status_list(exchange)]
    if query.get("sellToOrderReference"):
        ref = query["sellToOrderReference"].casefold()
        problems += [f"row {r.get('orderId')} has reference {r.get('sellToOrderReference')}" for r in found
                     if str(r.get("sellToOrderReference")).casefold() != ref]
        partner = partner_of(exchange)
        ours = [h.order_id for h in evidence.histories if h.order_id and not _removed(h)
                and str(h.request.get("partnerId", "")).lower() == partner
                and str(h.request.get("sellToOrderReference")).casefold() == ref]
        if ours and ours[0] not in {r.get("orderId") for r in found}:
            problems.append(f"order {ours[0]} with that reference is missing")
    low, high = _instant(query.get("receivedAtFrom")), _instant(query.get("receivedAtTo"))
    for row in found if low or high else []:
        at = _instant(row.get("receivedAt"))
        if at is None or (low and at < low) or (high and at > high):
            problems.append(f"row {row.get('orderId')} was received at {row.get('receivedAt')}")
    return problems


def _whole_status_list(exchange: "Exchange") -> bool:
    """A status-only first page whose answer says it is complete (the
    envelope's `morePages` false): every order in those statuses must be on
    it. A later page (`pageKey`) starts past some rows, and a bare array says
    nothing of pages, so neither is judged this way."""
    body = exchange.response
    others = [k for k in (*FILTERS, "pageKey") if k != "status" and exchange.query.get(k)]
    return not others and isinstance(body, dict) and body.get("morePages") is False


def _settled_at(exchange: "Exchange", evidence: "Evidence") -> dict[str, str]:
    """The partner's orders known to rest in a settled status when the list was
    answered: read (getOrder) in that status strictly before it, and nothing
    but reads sent to them since. On a frozen or warped clock many calls share
    an instant, so a tie with the list counts as "maybe after" and is not used."""
    partner, known = partner_of(exchange), {}
    for history in evidence.histories:
        if not history.order_id or str(history.request.get("partnerId", "")).lower() != partner:
            continue
        reads = [o for o in history.observations if o.via == "getOrder" and o.at < exchange.at]
        if not reads or reads[-1].status not in SETTLED:
            continue
        since = reads[-1].at
        if all(e.operation == "getOrder" for e in history.exchanges if since <= e.at <= exchange.at):
            known[history.order_id] = reads[-1].status
    return known


def _removed(history: Any) -> bool:
    return any(o.status == "removed" for o in history.observations)


@check(family="listing", subject="run", rules=["listing.filters"])
def list_filters_honoured(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """status (comma list), sellToOrderReference (any letter case) and the receivedAt window filter the rows."""
    def judge(exchange: "Exchange") -> list[Finding] | None:
        problems = _filter_problems(exchange, evidence)
        if problems is None:
            return None
        return [shown(exchange, f"filter {exchange.query} not honoured: {'; '.join(problems[:5])}")] if problems else []
    return _over_lists(evidence, judge)


@check(family="listing", subject="run", rules=["listing.page-size"], level="strict")
def list_page_size(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """pageSize bounds the rows of a page."""
    def judge(exchange: "Exchange") -> list[Finding] | None:
        size = exchange.query.get("pageSize", "")
        if not size.isdigit() or int(size) < 1 or rows(exchange) is None:
            return None
        found = rows(exchange) or []
        if len(found) > int(size):
            return [shown(exchange, f"pageSize={size} answered {len(found)} rows")]
        return []
    return _over_lists(evidence, judge)
