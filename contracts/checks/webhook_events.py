"""The webhook checks of contracts.checks.webhooks, registered over what the probe's one receiver got.

Deliveries are judged one by one (envelope, clientState, status against the
order at arrival, only after a settle); the counts (once per background
settle, none for confirm or delete) are judged over the whole run, after the
single quiet window.
"""

from __future__ import annotations

from collections import Counter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from contracts.checks import webhooks as pure
from contracts.checks.order_lifecycle import background_settles
from contracts.checks.registry import Finding, check
from contracts.checks.webhook_arrivals import arrival_lines, stamp

if TYPE_CHECKING:
    from contracts.verify.evidence import CheckContext, Evidence, OrderHistory


def _history_of(evidence: Evidence, order_id: str | None) -> OrderHistory | None:
    wanted = (order_id or "").lower()
    return next((h for h in evidence.histories if h.order_id and h.order_id.lower() == wanted), None)


def _found(ctx: CheckContext, delivery: Any, event: Any, message: str) -> Finding:
    """A finding about one event: where it sat, and when it (and each copy of it) arrived."""
    history = _history_of(ctx.evidence, event.order_id)
    copies = [e for e in (history.events if history else [event]) if pure.announcement(e) == pure.announcement(event)]
    return Finding(message, f"delivery #{delivery.sequence} {event.where}", arrival_lines(copies or [event], history))


def _moved_by_a_call(history: OrderHistory) -> bool:
    """Replaced or deleted: a late event's look at the order (at arrival) may see it moved on."""
    return any(e.ok for e in history.exchanges if e.operation in ("replaceOrder", "deleteOrder"))


@check(family="webhooks", subject="delivery", rules=["webhooks.envelope"])
def webhook_conformance(ctx: CheckContext, delivery: Any) -> list[Finding] | None:
    """The POST is the documented envelope `{"values": [events]}` with the event's fields."""
    found = pure.webhook_conformance(delivery.body, None, ctx.strictness == "strict")
    return [Finding(v.message, f"delivery #{delivery.sequence} {v.where}", (_arrived(delivery),)) for v in found]


def _arrived(delivery: Any) -> str:
    return f"POST #{delivery.sequence} arrived at {stamp(delivery.received_at)} (answered {delivery.answered})"


@check(family="webhooks", subject="delivery", rules=["webhooks.client-state"])
def webhook_client_state(ctx: CheckContext, delivery: Any) -> list[Finding] | None:
    """Every event mirrors the subscription's clientState.

    Judged against `ctx.client_state`; without it, what the receiver (which
    knew the subscription's) found at arrival.
    """
    if not delivery.events:
        return None
    if not ctx.client_state:
        return [Finding(v.message, f"delivery #{delivery.sequence} {v.where}", (_arrived(delivery),))
                for v in delivery.violations if v.where.endswith(".clientState")]
    return [_found(ctx, delivery, e, f"clientState {e.client_state!r}; the subscription's is {ctx.client_state!r}")
            for e in delivery.events if e.client_state != ctx.client_state]


@check(family="webhooks", subject="delivery",
       rules=["webhooks.event-name", "webhooks.event-version", "webhooks.company-name", "webhooks.timestamp"])
def webhook_event_values(ctx: CheckContext, delivery: Any) -> list[Finding] | None:
    """Each event carries what the run knows it must: eventName, the subscription's eventVersion (and appId if it
    sent one), the base address's company decoded as companyName, and an ISO 8601 timestamp."""
    if not delivery.events:
        return None
    version, app_id = subscribed(ctx)
    company = target_company(ctx.evidence)
    return [_found(ctx, delivery, e, v.message) for e in delivery.events
            for v in pure.webhook_event_values(e, company, version, app_id)]


def subscribed(ctx: CheckContext) -> tuple[str, str | None]:
    """(eventVersion, appId) of the probe's subscription, the one whose events the checks judge.

    The probe subscribes with notificationUrl, eventName, clientState and an
    appId of its own (without it when the target refused it), never an
    eventVersion, so eventVersion is the default "1.0"; appId is judged only
    when the subscription sent one. Subscriptions in the run's calls are
    Schemathesis' random ones (or the scenarios'): never read.
    """
    return pure.EVENT_VERSION, ctx.evidence.subscription_app_id or None


# where the company segment sits in each order path, counted from the end (the spec's paths)
_COMPANY_SEGMENT = MappingProxyType({"createOrder": -2, "getOrder": -3, "replaceOrder": -3, "deleteOrder": -3,
                                     "confirmOrder": -4})


def target_company(evidence: Evidence) -> str | None:
    """The company of the target's base address, decoded, as the run's own order calls addressed it.

    Every call is built from the one base (contracts.target.address), the
    company encoded once, so one unquote gives the name back whatever form
    (%20, + or %2520) the base was pasted in. None when no call shows it.
    """
    for exchange in (e for h in evidence.histories for e in h.exchanges if e.operation in _COMPANY_SEGMENT):
        segments, at = [s for s in urlsplit(exchange.url).path.split("/") if s], _COMPANY_SEGMENT[exchange.operation]
        if len(segments) >= 2 - at and segments[at + 1] == "channelManager":  # tenant and environment before it
            return unquote(segments[at])
    return None


@check(family="webhooks", subject="delivery", rules=["webhooks.status-matches"])
def webhook_matches_status(ctx: CheckContext, delivery: Any) -> list[Finding] | None:
    """Each event carries its order's orderId and buyFromOrderReference and a status the order settled to in the
    background."""
    judged, findings = False, []
    for event in delivery.events:
        history = _history_of(ctx.evidence, event.order_id)
        if history is None:  # another client's order (the target announces every settle): nothing known of it
            continue
        judged = True
        findings += [_found(ctx, delivery, event, text) for text in _payload_problems(event, history)]
    return findings if judged else None


def _payload_problems(event: Any, history: OrderHistory) -> list[str]:
    settled = {status for _, status in background_settles(history)}
    problems = []
    if settled and event.status not in settled:
        problems.append(f"event status {event.status!r} for order {history.order_id}, which settled "
                        f"{' and '.join(sorted(settled))}")
    reference = _reference_of(history, event.status)
    if reference and event.buy_from_order_reference != reference:
        problems.append(f"event buyFromOrderReference {event.buy_from_order_reference!r}; order "
                        f"{history.order_id} has {reference!r} (its createOrder/getOrder answers)")
    return problems


def _reference_of(history: OrderHistory, status: Any) -> str | None:
    """The order's buyFromOrderReference when it showed `status` (else its first one)."""
    answered = [d for e in history.exchanges if e.ok and isinstance(d := e.response, dict)
                and isinstance(d.get("buyFromOrderReference"), str) and d.get("buyFromOrderReference")]
    at_status = [d for d in answered if d.get("status") == status]
    chosen = (at_status or answered)[-1 if at_status else 0] if answered else None
    return chosen["buyFromOrderReference"] if chosen else None


@check(family="webhooks", subject="delivery", rules=["webhooks.after-settle"])
def webhook_after_terminal(ctx: CheckContext, delivery: Any) -> list[Finding] | None:
    """The event arrives once the order has settled: getOrder at its arrival shows it settled, not in flight.

    Orders the probe replaced or deleted are not judged here: a late event
    would see them moved on by the probe's own call.
    """
    events = {e.where: e for e in delivery.events}
    judged = [e for e in events.values() if (h := _history_of(ctx.evidence, e.order_id)) and not _moved_by_a_call(h)]
    if not judged:
        return None
    return [_found(ctx, delivery, events[v.where], v.message) for v in delivery.violations
            if v.check == "webhook_after_terminal" and events.get(v.where) in judged]


def _watched(evidence: Evidence) -> list[OrderHistory]:
    """The orders whose events can be counted: a receiver listened through one quiet window."""
    if evidence.webhook_problem or evidence.quiet_window <= 0:
        return []
    return [h for h in evidence.histories if h.order_id]


@check(family="webhooks", subject="run", rules=["webhooks.once-per-settle"])
def webhook_once_per_settle(ctx: CheckContext, evidence: Evidence) -> list[Finding] | None:
    """One event per background settle of each order, announcing that settle's status: none missing, no
    duplicates (after the quiet window).

    A copy of an earlier event (same order, same payload) is counted here,
    whenever it arrived: it is this rule's failure, not an event a later
    call caused.
    """
    watched = [h for h in _watched(evidence) if h.background_settles or h.events]
    if not watched:
        return None
    events = [e for h in watched for e in h.events]
    found = pure.webhook_once_per_settle(events, {h.order_id: h.background_settles for h in watched})
    by_order = {h.order_id: h for h in watched}
    counted = {v.where for v in found}
    return [Finding(v.message.removeprefix(f"{v.where}: "), v.where,
                    _order_arrivals(by_order.get(v.where.removeprefix("order ")))) for v in found] + \
        [f for h in watched if f"order {h.order_id}" not in counted for f in _settles_unannounced(h)]


def _settles_unannounced(history: OrderHistory) -> list[Finding]:
    """As many events as settles, but not one per settle: each settle's status must be announced (after a
    replace the second event says the second outcome, not the first one again)."""
    settled = Counter(status for _, status in background_settles(history))
    if sum(settled.values()) != history.background_settles:
        return []  # the polls and the answers disagree on the settles: nothing certain to compare
    announced = Counter(str(e.status) for e in history.events)
    missing = settled - announced
    if not missing:
        return []
    return [Finding(f"order {history.order_id} settled {_listed(settled)} in the background, but its events say "
                    f"{_listed(announced)}: no event announced its settle to {', '.join(sorted(missing))}",
                    f"order {history.order_id}", arrival_lines(history.events, history))]


def _listed(statuses: Counter[str]) -> str:
    return " and ".join(f"{status} ×{count}" if count > 1 else status for status, count in sorted(statuses.items()))


def _order_arrivals(history: OrderHistory | None) -> tuple[str, ...]:
    if history is None:
        return ()
    if not history.events:
        missing = (f"no event arrived for order {history.order_id} (it settled {history.background_settles} "
                   "time(s) in the background)")
        return (missing, *arrival_lines([], history))
    return arrival_lines(history.events, history)


@check(family="webhooks", subject="order", rules=["webhooks.not-on-calls"])
def no_webhook_on_confirm_or_delete(ctx: CheckContext, history: OrderHistory) -> list[Finding] | None:
    """confirmOrder and deleteOrder fire no event: every event is a background settle's.

    Copies of an earlier event (same order, same payload) are left to
    webhook_once_per_settle: a settle announced twice is that rule's
    failure, even when the second copy arrives after the confirm or delete.
    """
    moved = [e for e in history.exchanges if e.operation in ("confirmOrder", "deleteOrder") and e.ok]
    if not moved or history not in _watched(ctx.evidence):
        return None
    firsts, copies = pure.split_copies(history.events)
    settled = [status for _, status in background_settles(history)]
    extra = []
    for event in firsts:
        if event.status in settled:
            settled.remove(event.status)  # each background settle explains one event
        else:
            extra.append(event)
    if not extra:
        return []
    note = (f" ({len(copies)} exact cop{'y' if len(copies) == 1 else 'ies'} of earlier events not counted: see "
            "webhook_once_per_settle)") if copies else ""
    return [Finding(f"event(s) with status {[e.status for e in extra]} that no background settle explains; "
                    f"confirmOrder and deleteOrder fire no webhook{note}", f"order {history.order_id}",
                    arrival_lines(extra, history))]
