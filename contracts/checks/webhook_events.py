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


def _receiver_found(delivery: Any, name: str) -> list[Finding]:
    """What the receiver found at arrival for one of the getOrder-based checks."""
    return [Finding(v.message, f"delivery #{delivery.sequence} {v.where}") for v in delivery.violations
            if v.check == name or (name == "webhook_matches_status" and v.check == "order_lookup")]


@check(family="webhooks", subject="delivery", rules=["webhooks.envelope"])
def webhook_conformance(ctx: "CheckContext", delivery: Any) -> list[Finding] | None:
    """The POST is the documented envelope `{"values": [events]}` with the event's fields."""
    found = pure.webhook_conformance(delivery.body, None, ctx.strictness == "strict")
    return [Finding(v.message, f"delivery #{delivery.sequence} {v.where}") for v in found]


@check(family="webhooks", subject="delivery", rules=["webhooks.client-state"])
def webhook_client_state(ctx: "CheckContext", delivery: Any) -> list[Finding] | None:
    """Every event mirrors the subscription's clientState."""
    if not ctx.client_state or not delivery.events:
        return None
    return [Finding(f"clientState {e.client_state!r}; the subscription's is {ctx.client_state!r}",
                    f"delivery #{delivery.sequence} {e.where}") for e in delivery.events if e.client_state != ctx.client_state]


@check(family="webhooks", subject="delivery", rules=["webhooks.status-matches"])
def webhook_matches_status(ctx: "CheckContext", delivery: Any) -> list[Finding] | None:
    """The event's status and buyFromOrderReference are the order's when it arrives."""
    return _receiver_found(delivery, "webhook_matches_status") if delivery.events else None


@check(family="webhooks", subject="delivery", rules=["webhooks.after-settle"])
def webhook_after_terminal(ctx: "CheckContext", delivery: Any) -> list[Finding] | None:
    """The event arrives once the order has settled, never while it is in flight."""
    return _receiver_found(delivery, "webhook_after_terminal") if delivery.events else None


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
