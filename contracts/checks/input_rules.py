"""Checks on the probe's own invalid createOrder requests: each is refused with 400 and the flat error body.

The invalid-input flow (contracts.verify.invalid_cases) records every invalid request it builds together
with the case it built it for (`Evidence.rejections`, "rule id: what is wrong"). These checks judge those
requests and nothing else: the run knows why each one is invalid, so no body is re-read to decide it, and
the bodies Schemathesis makes up are never judged here. One check per rule family; a rule without a
recorded case (a venue fact the venue does not give) leaves its check nothing to judge.

CONTRACT.md marks these 400s **server** (the docs state none of the constraints: doc 002 shows a request,
not its limits), so every check here is `strict`. The wording of each message is `error_message_wording`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.checks.documents import error_shape, shown
from contracts.checks.registry import Finding, check

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import CheckContext, Evidence

NOT_JUDGED = frozenset({401, 403, 413})  # refused for the key, the partner scope or the size: not these rules
CODE = "generic_error"  # CONTRACT.md "Status codes": any rule violation or invalid input


def recorded(evidence: Evidence, rules: tuple[str, ...]) -> list[tuple[str, Exchange]]:
    """The run's own invalid requests built for one of `rules` (their case's part before the colon)."""
    return [(case, exchange) for case, exchange in evidence.rejections
            if case.partition(":")[0].strip() in rules and exchange.status not in NOT_JUDGED]


def refused(case: str, exchange: Exchange) -> list[Finding]:
    """Why the answer to a request built for `case` is not 400 `{code: generic_error, message}` (none if it is)."""
    what = f"createOrder with {case.partition(':')[2].strip() or case}"
    if exchange.status != 400:
        got = exchange.status if exchange.status is not None else f"no answer ({exchange.error})"
        return [shown(exchange, f"{what}: expected 400, got {got}")]
    problem = error_shape(exchange.response)
    if problem:
        return [shown(exchange, f"{what}: {problem}")]
    if exchange.response.get("code") != CODE:
        return [shown(exchange, f"{what}: code {exchange.response.get('code')!r}, CONTRACT.md names {CODE!r}")]
    return []


def judged(evidence: Evidence, *rules: str) -> list[Finding] | None:
    """Every recorded case of `rules` refused (None when the run recorded none)."""
    cases = recorded(evidence, rules)
    return [finding for case, exchange in cases for finding in refused(case, exchange)] if cases else None


@check(family="rejections", subject="run", rules=["rejections.body-object"], level="strict")
def body_object_required(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """A createOrder body that is not a JSON object (a JSON array holding an order, a string) answers 400."""
    return judged(evidence, "rejections.body-object")


@check(family="rejections", subject="run", rules=["rejections.header-fields", "rejections.reference-length"],
       level="strict")
def header_fields_refused(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """A createOrder without partnerId or sellToOrderReference (or with it null or empty), with items not an
    array, or with a sellToOrderReference over 50 characters answers 400."""
    return judged(evidence, "rejections.header-fields", "rejections.reference-length")


@check(family="rejections", subject="run", rules=["rejections.line-fields", "rejections.visit-formats"],
       level="strict")
def line_fields_refused(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """An order line that is not an object, lacks itemNumber, visitDate or visitTime, or has a visitDate not
    YYYY-MM-DD or a visitTime not HH:mm:ss answers 400."""
    return judged(evidence, "rejections.line-fields", "rejections.visit-formats")


@check(family="rejections", subject="run", rules=["rejections.unknown-item"], level="strict")
def unknown_item_refused(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """A line naming an item the venue does not have (venue fact `unknown_item`) answers 400 at submit, never
    201 and an Error later."""
    return judged(evidence, "rejections.unknown-item")


@check(family="rejections", subject="run", rules=["rejections.schedule-package-only", "rejections.schedule-entries"],
       level="strict")
def component_schedule_refused(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """wallet.componentSchedule on a line that is not a package (an empty list too), an entry that is not an
    object, names no component of the package or has a visitDate in the past answers 400."""
    return judged(evidence, "rejections.schedule-package-only", "rejections.schedule-entries")
