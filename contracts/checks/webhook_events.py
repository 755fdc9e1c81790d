"""The webhook checks of contracts.checks.webhooks, registered over what the probe's one receiver got.

Deliveries are judged one by one (envelope, clientState, status against the
order at arrival, only after a settle); the counts (once per background
settle, none for confirm or delete) are judged over the whole run, after the
single quiet window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.checks import webhooks as pure
from contracts.checks.order_lifecycle import background_settles
from contracts.checks.registry import Finding, check

if TYPE_CHECKING:
    from contracts.verify.evidence import CheckContext, Evidence, OrderHistory


def _history_of(evidence: "Evidence", order_id: str | None) -> "OrderHistory | None":
    wanted = (order_id or "").lower()
    return next((h for h in evidence.histories if h.order_id and h.order_id.lower() == wanted), None)


def _moved_by_a_call(history: "OrderHistory") -> bool:
    """Replaced or deleted: a late event's look at the order (at arrival) may see it moved on."""
    return any(e.ok for e in history.exchanges if e.operation in ("replaceOrder", "deleteOrder"))


@check(family="webhooks", subject="delivery", rules=["webhooks.envelope"])
def webhook_conformance(ctx: "CheckContext", delivery: Any) -> list[Finding] | None:
    """The POST is the documented envelope `{"values": [events]}` with the event's fields."""
    found = pure.webhook_conformance(delivery.body, None, ctx.strictness == "strict")
    return [Finding(v.message, f"delivery #{delivery.sequence} {v.where}") for v in found]


@check(family="webhooks", subject="delivery", rules=["webhooks.client-state"])
def webhook_client_state(ctx: "CheckContext", delivery: Any) -> list[Finding] | None:
    """Every event mirrors the subscription's clientState.

    Judged against `ctx.client_state`; without it, what the receiver (which
    knew the subscription's) found at arrival.
    """
    if not delivery.events:
        return None
    if not ctx.client_state:
        return [Finding(v.message, f"delivery #{delivery.sequence} {v.where}") for v in delivery.violations
                if v.where.endswith(".clientState")]
    return [Finding(f"clientState {e.client_state!r}; the subscription's is {ctx.client_state!r}",
                    f"delivery #{delivery.sequence} {e.where}") for e in delivery.events
            if e.client_state != ctx.client_state]


@check(family="webhooks", subject="delivery", rules=["webhooks.status-matches"])
def webhook_matches_status(ctx: "CheckContext", delivery: Any) -> list[Finding] | None:
    """Each event carries its order's buyFromOrderReference and a status the order settled to in the background."""
    judged, findings = False, []
    for event in delivery.events:
        history = _history_of(ctx.evidence, event.order_id)
        if history is None:
            continue
        judged = True
        settled = {status for _, status in background_settles(history)}
        reference = next((d.get("buyFromOrderReference") for e in history.exchanges
                          if isinstance(d := e.response, dict) and e.ok and d.get("buyFromOrderReference")), None)
        where = f"delivery #{delivery.sequence} {event.where}"
        if settled and event.status not in settled:
            findings.append(Finding(f"event status {event.status!r} for order {history.order_id}, which settled "
                                    f"{' and '.join(sorted(settled))}", where))
        if reference and event.buy_from_order_reference != reference:
            findings.append(Finding(f"event buyFromOrderReference {event.buy_from_order_reference!r}; order "
                                    f"{history.order_id} has {reference!r}", where))
    return findings if judged else None


@check(family="webhooks", subject="delivery", rules=["webhooks.after-settle"])
def webhook_after_terminal(ctx: "CheckContext", delivery: Any) -> list[Finding] | None:
    """The event arrives once the order has settled: getOrder at its arrival shows it settled, not in flight.

    Orders the probe replaced or deleted are not judged here: a late event
    would see them moved on by the probe's own call.
    """
    events = {e.where: e for e in delivery.events}
    judged = [e for e in events.values() if (h := _history_of(ctx.evidence, e.order_id)) and not _moved_by_a_call(h)]
    if not judged:
        return None
    return [Finding(v.message, f"delivery #{delivery.sequence} {v.where}") for v in delivery.violations
            if v.check == "webhook_after_terminal" and events.get(v.where) in judged]


def _watched(evidence: "Evidence") -> list["OrderHistory"]:
    """The orders whose events can be counted: a receiver listened through one quiet window."""
    if evidence.webhook_problem or evidence.quiet_window <= 0:
        return []
    return [h for h in evidence.histories if h.order_id]


@check(family="webhooks", subject="run", rules=["webhooks.once-per-settle"])
def webhook_once_per_settle(ctx: "CheckContext", evidence: "Evidence") -> list[Finding] | None:
    """One event per background settle of each order: none missing, no duplicates (after the quiet window)."""
    watched = [h for h in _watched(evidence) if h.background_settles or h.events]
    if not watched:
        return None
    events = [e for h in watched for e in h.events]
    found = pure.webhook_once_per_settle(events, {h.order_id: h.background_settles for h in watched})
    return [Finding(v.message, v.where) for v in found]


@check(family="webhooks", subject="order", rules=["webhooks.not-on-calls"])
def no_webhook_on_confirm_or_delete(ctx: "CheckContext", history: "OrderHistory") -> list[Finding] | None:
    """confirmOrder and deleteOrder fire no event: every event is a background settle's."""
    moved = [e for e in history.exchanges if e.operation in ("confirmOrder", "deleteOrder") and e.ok]
    if not moved or history not in _watched(ctx.evidence):
        return None
    settled = [status for _, status in background_settles(history)]
    extra = [e.status for e in history.events if e.status not in settled or settled.remove(e.status)]
    return [Finding(f"event(s) with status {extra} that no background settle explains; confirmOrder and "
                    "deleteOrder fire no webhook", f"order {history.order_id}")] if extra else []
