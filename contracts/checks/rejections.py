"""Checks on requests that must be refused: invalid input, duplicates, unknown orders, and the error body.

What makes a request invalid is read from the request itself (the partnerId,
the items, the visit date against the target's clock at the call), so the
checks judge any call the probe made, not a list of cases it promised.
The documented level asserts the status and the flat `{code, message}` body;
the exact wording of CONTRACT.md's messages is `strict`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from contracts.checks.documents import error_shape, request_lines, shown
from contracts.checks.message_cases import known_for, request_of
from contracts.checks.orders import expected_wallets
from contracts.checks.registry import Finding, check
from contracts.checks.strict import strict_error_message
from contracts.spec import load_spec

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import CheckContext, Evidence

NOT_JUDGED = frozenset({401, 403, 413})  # refused for the key, the partner scope or the size: not these rules
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ORDER_OPERATIONS = ("getOrder", "confirmOrder", "replaceOrder", "deleteOrder")


def _visit_in_past(line: dict[str, Any], at: float) -> bool:
    """Before the target's today (a day of slack for the server's local time zone); never when the target's
    time of the answer is not known (at 0.0: a fuzz answer of a warped target), as this machine's date is
    not the target's."""
    try:
        visit = date.fromisoformat(str(line.get("visitDate")))
    except ValueError:
        return False
    if not at:
        return False
    return visit < datetime.fromtimestamp(at, tz=timezone.utc).date() - timedelta(days=1)


def _line_problem(line: dict[str, Any], venue: dict[str, Any], at: float) -> str:
    quantity = line.get("quantity", 1)
    if isinstance(quantity, int) and quantity < 1:
        return f"quantity {quantity} (must be >= 1)"
    if _visit_in_past(line, at):
        return f"visitDate {line.get('visitDate')} in the past"
    wallet = line.get("wallet")
    if not isinstance(wallet, dict):
        wallet = {}
    for field in ("names", "externalReferenceNumbers"):
        values = wallet.get(field)
        if isinstance(values, list) and len(values) != expected_wallets(line, venue):
            return f"wallet.{field} with {len(values)} entries for {expected_wallets(line, venue)} wallet(s)"
    return ""


def invalid_reason(body: Any, venue: dict[str, Any], at: float) -> str:
    """Why a createOrder body must be refused ("" when it is valid as far as the docs say)."""
    if not isinstance(body, dict):
        return ""
    if not GUID.match(str(body.get("partnerId", ""))):
        return f"partnerId {body.get('partnerId')!r} is not a GUID"
    if "items" not in body:
        return "no items"
    if body["items"] == []:
        return "an empty items array"
    return next((p for p in (_line_problem(line, venue, at) for line in request_lines(body)) if p), "")


def _refused(exchange: "Exchange", why: str, status: int) -> list[Finding]:
    if exchange.status != status:
        return [shown(exchange, f"{why}: expected {status}, got {exchange.status}")]
    problem = error_shape(exchange.response)
    return [shown(exchange, f"{why}: {problem}")] if problem else []


@check(family="rejections", subject="exchange", rules=["rejections.invalid-input"])
def invalid_input_refused(ctx: "CheckContext", exchange: "Exchange") -> list[Finding] | None:
    """A createOrder with invalid input (partnerId not a GUID, no or empty items, quantity 0, past visit date,
    wallet names of the wrong length) answers 400."""
    if exchange.operation != "createOrder" or exchange.status in NOT_JUDGED:
        return None
    why = invalid_reason(exchange.body, ctx.venue, exchange.at)
    return _refused(exchange, f"createOrder with {why}", 400) if why else None


@check(family="rejections", subject="exchange", rules=["rejections.unknown-partner"])
def unknown_partner_refused(ctx: "CheckContext", exchange: "Exchange") -> list[Finding] | None:
    """A createOrder for a partnerId (a GUID) the target does not know is refused with 400."""
    body = exchange.body if isinstance(exchange.body, dict) else {}
    partner = str(body.get("partnerId", "")).lower()
    known = {str(h.request.get("partnerId", "")).lower() for h in ctx.evidence.histories}
    if exchange.operation != "createOrder" or exchange.status in NOT_JUDGED or not GUID.match(partner) \
            or not known or partner in known:
        return None
    if invalid_reason(body, ctx.venue, exchange.at):
        return None
    return _refused(exchange, f"createOrder for the unknown partner {partner}", 400)


@check(family="rejections", subject="run", rules=["rejections.duplicate", "rejections.duplicate-case"])
def duplicate_reference_refused(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """A second createOrder with an existing sellToOrderReference answers 400 (at `strict` also in other case)."""
    created = {str(h.request.get("sellToOrderReference")): h for h in evidence.histories
               if any(e.status == 201 for e in h.calls("createOrder"))}
    findings, judged = [], False
    for exchange in evidence.exchanges:
        sent = str(exchange.body.get("sellToOrderReference", "")) if isinstance(exchange.body, dict) else ""
        if exchange.operation != "createOrder" or invalid_reason(exchange.body, ctx.venue, exchange.at):
            continue
        original = created.get(sent) or next((h for r, h in created.items() if r.casefold() == sent.casefold()), None)
        if original is None or (sent not in created and ctx.strictness != "strict"):
            continue
        judged = True
        state = " (an Error order)" if original.facts.get("expect") == "Error" else ""
        case = "" if sent in created else " in other letter case"
        findings += _refused(exchange, f"createOrder repeating the sellToOrderReference of order {original.order_id}"
                                       f"{state}{case}", 400)
    return findings if judged else None


@check(family="rejections", subject="run", rules=["rejections.duplicate-per-partner"])
def reference_unique_per_partner(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """The reference is unique per partner only: our order with the reference another partner's order has is
    accepted (doc 002: "unique per partner"; doc 000: the pair is unique)."""
    ours = [h for h in evidence.histories if h.facts.get("same_reference") and h.calls("createOrder")]
    findings = []
    for history in ours:
        created = history.calls("createOrder")[0]
        if not created.ok or not isinstance(created.response, dict) or not created.response.get("orderId"):
            findings.append(shown(created, f"createOrder of our order with the sellToOrderReference of another "
                                           f"partner's order answered {created.status}; the reference is unique per "
                                           "partner, so ours is no duplicate"))
    return findings if ours else None


def known_order_ids(evidence: "Evidence") -> set[str]:
    """Every order id the run saw exist: its own orders, and any an answer carried (the fuzzer's, listed rows)."""
    known = {h.order_id.lower() for h in evidence.histories if h.order_id}
    for exchange in evidence.all_exchanges():
        body = exchange.response if exchange.ok else None
        rows: list[Any]
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            rows = body["data"]
        elif isinstance(body, list):
            rows = body
        else:
            rows = [body]
        known |= {str(r["orderId"]).lower() for r in rows if isinstance(r, dict) and r.get("orderId")}
    return known


@check(family="rejections", subject="run", rules=["rejections.unknown-order"])
def unknown_order_not_found(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """getOrder, confirmOrder, replaceOrder and deleteOrder of an order id that never existed answer 404.

    Over the run: which ids existed is read once from every answer.
    """
    known = known_order_ids(evidence)
    unknown = [e for e in evidence.all_exchanges() if e.operation in ORDER_OPERATIONS
               and GUID.match(e.params.get("orderId", "")) and e.status not in NOT_JUDGED
               and e.params["orderId"].lower() not in known and _judged_for_unknown(ctx, e)]
    if not unknown:
        return None
    return [f for e in unknown for f in _refused(e, f"{e.operation} of the unknown order {e.params['orderId']}", 404)]


def _judged_for_unknown(ctx: "CheckContext", exchange: "Exchange") -> bool:
    """Whether 404 is the one right answer: CONTRACT.md does not order a server's checks."""
    if exchange.status == 415 and ctx.strictness != "strict":
        return False  # an odd Content-Type refused: "no 415" is a server fact, judged at strict
    if exchange.status == 400 and not _valid_request_body(exchange):
        return False  # an invalid body may be refused before the order is looked up
    return True


def _valid_request_body(exchange: "Exchange") -> bool:
    """Whether the call's body (if the operation takes one) is valid by the spec's request schema."""
    schema = load_spec().request_schema(exchange.operation)
    return schema is None or load_spec().validator_for(schema).is_valid(exchange.body)


@check(family="rejections", subject="exchange", rules=["rejections.error-body"])
def error_body_flat(ctx: "CheckContext", exchange: "Exchange") -> list[Finding] | None:
    """A 400 or 404 answer is the flat error body `{code, message}` (at `strict` every 4xx: 401, 403, 413 too)."""
    judged = (400, 404) if ctx.strictness != "strict" else tuple(range(400, 500))
    if exchange.status not in judged:
        return None
    problem = error_shape(exchange.response)
    return [shown(exchange, f"{exchange.status} answer: {problem}")] if problem else []


@check(family="rejections", subject="exchange", rules=["rejections.error-message"], level="strict")
def error_message_wording(ctx: "CheckContext", exchange: "Exchange") -> list[Finding] | None:
    """An error's message is CONTRACT.md's text for the case (matched loosely: case, spaces, %N any value).

    Only where the request is, with certainty, a case CONTRACT.md names a message for; elsewhere a message
    that reads like one of its messages but is not is a warning (CONTRACT.md: any message for such a case)."""
    if exchange.status is None or exchange.status < 400 or not isinstance(exchange.response, dict):
        return None
    known = known_for(exchange, ctx.venue, ctx.evidence.all_exchanges()) if exchange.operation == "createOrder" \
        else None  # duplicates, partners, fresh references: only a create's message depends on them
    found = strict_error_message(exchange.operation or None, exchange.status, exchange.response, exchange.params,
                                 request_of(exchange), known)
    return [shown(exchange, v.message, warning=v.warning) for v in found]



def own_exchanges(evidence: "Evidence") -> list["Exchange"]:
    """The calls the probe made itself: its orders', its list walks', its recorded invalid and address cases
    (never Schemathesis', whose answers share `evidence.exchanges`)."""
    walked = [page for walk in evidence.listings for page in walk.pages]
    cases = [exchange for _, exchange in evidence.rejections + evidence.address_cases]
    return [e for h in evidence.histories for e in h.exchanges] + walked + cases


@check(family="rejections", subject="run", rules=["rejections.error-code"], level="strict")
def error_code_of_status(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """An error body's code is the one CONTRACT.md gives its status: 400 generic_error (unsupported_http_method for
    a method the API has not), 401 unauthorized, 404 resource_not_found. Judged on the probe's own calls."""
    judged = [e for e in own_exchanges(evidence) if e.status in (400, 401, 404) and isinstance(e.response, dict)
              and isinstance(e.response.get("code"), str)]  # a body without a code is error_body_flat's
    return [f for e in judged for f in _code_problem(e)][:5] if judged else None


def _code_problem(exchange: "Exchange") -> list[Finding]:
    if exchange.status == 400:
        other_method = not exchange.operation and exchange.method.upper() not in ("GET", "POST", "PUT", "PATCH",
                                                                                   "DELETE")
        wanted = "unsupported_http_method" if other_method else "generic_error"
    else:
        wanted = "unauthorized" if exchange.status == 401 else "resource_not_found"
    code = exchange.response["code"]
    if code == wanted:
        return []
    return [shown(exchange, f"{exchange.status} answer with code {code!r}; CONTRACT.md gives it {wanted!r}")]
