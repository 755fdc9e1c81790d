"""The lifecycle checks of contracts.checks.lifecycle, registered over each probe order, and what a payment decides.

The pure functions judge a timeline of `Observation`s; here each one becomes
a registered check on an `OrderHistory`, skipped when the history holds
nothing it judges (an empty timeline never passes vacuously).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.checks import lifecycle as timeline
from contracts.checks.documents import IN_FLIGHT, SETTLED, document, sent_body, shown
from contracts.checks.registry import Finding, check

if TYPE_CHECKING:
    from contracts.verify.evidence import CheckContext, Evidence, OrderHistory


def _findings(violations: list, history: "OrderHistory") -> list[Finding]:
    statuses = " → ".join(o.status + ("" if o.via == "getOrder" else f" ({o.via})") for o in history.observations)
    return [Finding(v.message, v.where, (f"statuses seen: {statuses[:1500]}",)) for v in violations]


@check(family="lifecycle", subject="order", rules=["lifecycle.transitions"])
def transition_legality(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """Every status change seen is a move of the lifecycle table (by the call made, or in the background)."""
    if len(history.observations) < 2:
        return None
    return _findings(timeline.transition_legality(history.observations, history.sync, history.order_id), history)


@check(family="lifecycle", subject="order", rules=["lifecycle.sticky"])
def terminal_sticky(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """Issued and Cancelled change only by a call."""
    states = timeline.effective_states(history.observations, history.sync)
    if not any(s in ("Issued", "Cancelled") for s in states[:-1]):
        return None
    return _findings(timeline.terminal_sticky(history.observations, history.order_id, history.sync), history)


@check(family="lifecycle", subject="order", rules=["lifecycle.settles"])
def settles_within(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """After its last async submission the order settles within a pickup interval and a few seconds."""
    submissions = [o for o in history.observations if o.via in timeline.SUBMITTING_CALLS and o.status in IN_FLIGHT]
    if not submissions:
        return None
    found = timeline.settles_within(history.observations, ctx.settle_deadline, history.order_id)
    return _findings(found, history)


def background_settles(history: "OrderHistory") -> list[tuple[dict, str]]:
    """(the body submitted, the status it settled to) for each async submission seen to settle."""
    settles, pending = [], None
    for exchange in history.exchanges:
        order = document(exchange)
        if order is None:
            continue
        if exchange.operation in ("createOrder", "replaceOrder"):
            pending = sent_body(history, exchange) if order["status"] in IN_FLIGHT else None
        elif pending is not None and exchange.operation == "getOrder" and order["status"] in SETTLED:
            settles.append((pending, order["status"]))
            pending = None
    return settles


@check(family="lifecycle", subject="order", rules=["lifecycle.paid-issued", "lifecycle.unpaid-draft"])
def settles_by_payment(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """Issuance settles Issued with a paymentReference, Draft without."""
    judged = [(b, s) for i, (b, s) in enumerate(background_settles(history))
              if not (i == 0 and history.facts.get("expect") == "Error")]
    findings = []
    for body, status in judged:
        wanted = "Issued" if body.get("paymentReference") else "Draft"
        if status != wanted:
            paid = "with" if wanted == "Issued" else "without"
            findings.append(Finding(f"an order submitted {paid} a paymentReference settled {status}; expected {wanted}",
                                    f"order {history.order_id}"))
    return findings if judged else None


@check(family="lifecycle", subject="order", rules=["lifecycle.failure-error"])
def failed_issuance_errors(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """An order the venue cannot issue (the venue's failing visit time) settles Error."""
    settled = background_settles(history)
    if history.facts.get("expect") != "Error" or not settled:
        return None
    status = settled[0][1]
    first = next(iter(history.calls("createOrder")))
    return [] if status == "Error" else [shown(first, f"an order the venue cannot issue settled {status}; "
                                                      "expected Error with the reason in statusMessage")]


@check(family="lifecycle", subject="run", rules=["lifecycle.shows-states"])
def shows_every_state(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """Orders polled closely through their pickup are seen Scheduled, then Processing, before they settle.

    Settling takes a few seconds after pickup (docs 000, 001), so close polls
    must see the order between Submitted and settled: never seeing either
    state fails. How those seconds split between the two is not documented (a
    job queue may start issuance within milliseconds), so one state never seen
    is only a warning."""
    close = [h for h in evidence.histories if h.polled_closely and background_settles(h)]
    if not close:
        return None
    seen = {o.status for h in close for o in h.observations if o.via == "getOrder"}
    missing = [s for s in ("Scheduled", "Processing") if s not in seen]
    if not missing:
        return []
    where = ", ".join(f"order {h.order_id}" for h in close)
    if len(missing) == 1:
        return [Finding(f"{len(close)} order(s) polled closely from submission to settle never showed {missing[0]}; "
                        "it may have lasted less than a poll interval (--close-poll), which no document forbids",
                        where, warning=True)]
    return [Finding(f"{len(close)} order(s) polled closely from submission to settle went from Submitted to "
                    "settled without ever showing Scheduled or Processing; settling takes a few seconds after "
                    "pickup, through those states (docs 000, 001)", where)]
