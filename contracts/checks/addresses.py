"""Checks on how the API is addressed and what it reads: CONTRACT.md's server and decision lines, `strict` only.

The probe sends these requests at `--strictness strict` only
(contracts.verify.strict_flows) and records each with the case it was built
for (`Evidence.address_cases`, "rule id: what"): the company in its three
encodings, literal segments in another letter case, undeclared routes and a
method the API has not, the API key as a Bearer token or missing, a body
over 1 MiB; and orders whose JSON body is sent as text/plain or without a
Content-Type. Each check judges its own recorded cases and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from contracts.checks.documents import document, error_shape, shown
from contracts.checks.listing import rows
from contracts.checks.registry import Finding, check

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import CheckContext, Evidence

Judge = Callable[[str, "Exchange"], list[Finding]]


def recorded(evidence: Evidence, rule: str) -> list[tuple[str, Exchange]]:
    """The run's address cases built for `rule` (the case's part before the colon)."""
    return [(case, exchange) for case, exchange in evidence.address_cases if case.partition(":")[0].strip() == rule]


def judged(evidence: Evidence, rule: str, judge: Judge) -> list[Finding] | None:
    cases = recorded(evidence, rule)
    return [finding for case, exchange in cases for finding in judge(case, exchange)] if cases else None


def _what(case: str) -> str:
    return case.partition(":")[2].strip() or case


def answers_the_order(case: str, exchange: Exchange) -> list[Finding]:
    """200 with the order the call names."""
    order, wanted = document(exchange), exchange.params.get("orderId", "")
    if exchange.status == 200 and order is not None and str(order.get("orderId", "")).lower() == wanted.lower():
        return []
    got = exchange.status if exchange.status is not None else f"no answer ({exchange.error})"
    return [shown(exchange, f"getOrder with {_what(case)} answered {got}; expected 200 with order {wanted}")]


def refused_with(exchange: Exchange, what: str, status: int, code: str) -> list[Finding]:
    """`status` with the flat error body whose code is `code`."""
    if exchange.status != status:
        got = exchange.status if exchange.status is not None else f"no answer ({exchange.error})"
        return [shown(exchange, f"{what} answered {got}; expected {status} {code}")]
    problem = error_shape(exchange.response)
    if problem:
        return [shown(exchange, f"{what}: {problem}")]
    if exchange.response.get("code") != code:
        return [shown(exchange, f"{what}: code {exchange.response.get('code')!r}, expected {code!r}")]
    return []


@check(family="addresses", subject="run", rules=["addresses.company-encodings"], level="strict")
def company_encodings_accepted(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """The company segment is read alike as %20, + and the docs' double encoding %2520: getOrder through each
    answers the order."""
    return judged(evidence, "addresses.company-encodings", answers_the_order)


@check(family="addresses", subject="run", rules=["addresses.letter-case"], level="strict")
def literal_segments_any_case(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """Literal path segments match in any letter case: /CHANNELMANAGER/{orderId}, /channelmanager/ORDERS/{partner}."""
    def judge(case: str, exchange: Exchange) -> list[Finding]:
        if exchange.operation == "getOrder":
            return answers_the_order(case, exchange)
        if exchange.status == 200 and rows(exchange) is not None:
            return []
        return [shown(exchange, f"{_what(case)} answered {exchange.status or exchange.error}; expected 200 with the "
                                "partner's list (literal segments match in any letter case)")]
    return judged(evidence, "addresses.letter-case", judge)


@check(family="addresses", subject="run", rules=["addresses.routes"], level="strict")
def undeclared_routes_answered(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """GET, POST, PUT, PATCH or DELETE on a route the API has not is 404 resource_not_found (never 405); another
    method (OPTIONS) is 400 unsupported_http_method."""
    def judge(case: str, exchange: Exchange) -> list[Finding]:
        if exchange.method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            return refused_with(exchange, _what(case), 404, "resource_not_found")
        return refused_with(exchange, _what(case), 400, "unsupported_http_method")
    return judged(evidence, "addresses.routes", judge)


@check(family="addresses", subject="run", rules=["addresses.api-key"], level="strict")
def api_key_forms(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """The key is taken as `Authorization: Bearer <key>` too; a call with no key or an unknown one is
    401 unauthorized."""
    def judge(case: str, exchange: Exchange) -> list[Finding]:
        if "Bearer" in case:
            return answers_the_order(case, exchange)
        return refused_with(exchange, f"getOrder with {_what(case)}", 401, "unauthorized")
    return judged(evidence, "addresses.api-key", judge)


@check(family="addresses", subject="run", rules=["addresses.content-type"], level="strict")
def body_read_whatever_its_type(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """A createOrder body is read as JSON whatever its Content-Type (text/plain, none): no 415, the order taken."""
    sent = [h for h in evidence.histories if h.facts.get("content_type") and h.calls("createOrder")]
    findings = []
    for history in sent:
        created = history.calls("createOrder")[0]
        if created.status != 201 or document(created) is None:
            findings.append(shown(created, f"createOrder of a valid order sent with Content-Type "
                                           f"{history.facts['content_type']} answered {created.status}; the body is "
                                           "read as JSON whatever its Content-Type (201 with the order)"))
    return findings if sent else None


@check(family="rejections", subject="run", rules=["rejections.body-size"], level="strict")
def body_size_limited(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """A request body over 1 MiB is refused with 413."""
    def judge(case: str, exchange: Exchange) -> list[Finding]:
        if exchange.status == 413:
            return []
        return [shown(exchange, f"createOrder with {_what(case)} answered {exchange.status or exchange.error}; a "
                                "body over 1 MiB is 413")]
    return judged(evidence, "rejections.body-size", judge)
