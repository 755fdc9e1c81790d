"""Checks on every listOrdersByPartner answer: the envelope, the partner's rows only, compact summaries.

These judge the shape of any list answer, Schemathesis' included. What a
page must contain is judged only on the probe's own queries
(contracts.checks.listing_walks), whose answers are known.

Doc 002 shows the list as a bare array of summaries; the server answers a
paginated envelope (CONTRACT.md). The documented level accepts both; the
envelope and `pageSize` are `strict`.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from contracts.checks.documents import shown
from contracts.checks.registry import Finding, check

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import CheckContext, Evidence

SUMMARY_KEYS = ("orderId", "status", "sellToOrderReference")
NO_NEXT_KEY = "gives no nextPageKey"  # why a walk stopped when a page says more follow but not how to ask
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


SUMMARY_REQUIRED = ("orderId", "partnerId", "sellToOrderReference", "buyFromOrderReference", "status",
                    "statusMessage", "receivedAt")  # the spec's OrderSummary
SUMMARY_STRICT = SUMMARY_REQUIRED + ("sellToEmail", "sellToName", "sellToLanguage", "paymentReference", "jobId",
                                     "manifestUrl")  # CONTRACT.md: every key, "" if none


def _keys_missing(evidence: "Evidence", keys: tuple[str, ...]) -> list[Finding] | None:
    def judge(exchange: "Exchange") -> list[Finding]:
        short = [(r.get("orderId"), [k for k in keys if k not in r]) for r in rows(exchange) or []]
        short = [(order_id, missing) for order_id, missing in short if missing]
        return [shown(exchange, f"{len(short)} row(s) lack summary keys, e.g. {short[0][0]} lacks "
                                f"{', '.join(short[0][1])}")] if short else []
    return _over_lists(evidence, judge)


@check(family="listing", subject="run", rules=["listing.summary-keys"])
def list_summary_keys(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """Every row carries orderId, partnerId, both references, status, statusMessage and receivedAt."""
    return _keys_missing(evidence, SUMMARY_REQUIRED)


@check(family="listing", subject="run", rules=["listing.summary-keys-strict"], level="strict")
def list_summary_keys_strict(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """Every row also carries sellToEmail, sellToName, sellToLanguage, paymentReference, jobId and manifestUrl."""
    return _keys_missing(evidence, SUMMARY_STRICT)
