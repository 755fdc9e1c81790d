"""Webhook waits: `expect_webhook` steps, and the run's one quiet window that re-counts them.

A step that expects exactly N `ota_cm_order_processed` events for an order
waits only until N arrived (bounded by its deadline) and records the count on
its scenario run. "No more events" is asserted once for the whole run: after
every scenario finished, `recheck_counts` lets one quiet window pass (clock
seconds warped on a mock with clock control, nothing at all where the mock can
say its deliveries are idle, real seconds otherwise) and re-counts every
recorded expectation; a scenario whose order got more events fails then. A
step-by-step quiet window cost minutes per step on a real-time target.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import requests

from contracts.checks.webhooks import EVENT_NAME
from contracts.scenarios import Step, render
from contracts.scenarios.context import RunContext, StepContext
from contracts.scenarios.results import (
    ExactCount,
    Failure,
    ScenarioResult,
    StepFailed,
    human,
)


def expect_webhook(run: StepContext, step: Step, label: str) -> None:
    """Wait until `count` events of the order arrived, check them, record the count for the final re-count."""
    receiver = run.runner.webhooks()
    if isinstance(receiver, str):
        raise StepFailed([Failure(label, "webhook", receiver)])
    order_id = str(render(step.order, run.variables))
    want = step.count if step.count is not None else 1
    events = _wait_for_count(run, receiver, step, label, order_id, want)
    failures = _check_events(run, step, label, order_id, want, events)
    if failures:
        raise StepFailed(failures)
    run.exact_counts[order_id] = ExactCount(want, label, step.quiet)  # a later step for the order supersedes it
    if events:  # as docs/004 advises: on the event, getOrder once for the full order
        exchange = run.request("getOrder", {"orderId": order_id})
        run._observe_call("getOrder", {"orderId": order_id}, exchange)
    document = {"events": [e.data for e in events], "count": len(events)}
    document.update(run._document(events[-1].data) if events else {})
    failures = run._check_fields(step.expect, label, document, None)
    if failures:
        raise StepFailed(failures)
    run._save(step, label, document, None)


def _events_of(receiver: Any, order_id: str) -> list[Any]:
    return [e for e in receiver.events() if e.order_id == order_id]


def _wait_for_count(run: StepContext, receiver: Any, step: Step, label: str, order_id: str,
                    want: int) -> list[Any]:
    """The order's events once `want` arrived; fails the step (`webhook`) at the deadline."""
    within = step.within if step.within is not None else run.options.deadline
    every = step.every if step.every is not None else run.options.poll_interval
    start = run.client.now()
    while want > 0 and len(_events_of(receiver, order_id)) < want:
        elapsed = run.client.now() - start
        if elapsed >= within:
            _last_look(run, receiver)
            if len(_events_of(receiver, order_id)) >= want:
                break
            raise StepFailed([_missing(run, receiver, step, label, order_id, want, within)])
        _let_time_pass(run, receiver, min(every, within - elapsed))
    return _events_of(receiver, order_id)


def _let_time_pass(run: StepContext, receiver: Any, seconds: float) -> None:
    """Warped: advance the clock, then give a delivery that came due a moment of real time to
    arrive. Real time: wait, but wake up as soon as any event arrives."""
    before = len(receiver.events())
    if not run.client.warp:
        receiver.wait_for_events(before + 1, timeout=seconds)
        return
    run.client.wait(seconds)
    if not run.client.deliveries_idle(run.options.webhook_grace):
        receiver.wait_for_events(before + 1, timeout=0.05)


def _last_look(run: StepContext, receiver: Any) -> None:
    """At the deadline of a warped wait, a delivery may still be on its way over the network."""
    if run.client.warp and not run.client.deliveries_idle(run.options.webhook_grace):
        receiver.wait_for_events(len(receiver.events()) + 1, timeout=run.options.webhook_grace)


def _missing(run: StepContext, receiver: Any, step: Step, label: str, order_id: str, want: int,
             within: float) -> Failure:
    got = _events_of(receiver, order_id)
    return Failure(
        label, "webhook",
        f"expected {want} {EVENT_NAME} event(s) for order {order_id} within {human(within)}"
        + (f" (the last with status {' or '.join(step.statuses)})" if step.statuses else "")
        + f"; got {len(got)}" + (f": {[e.summary() for e in got]}" if got else "")
        + f". The receiver at {run.runner.webhook_url} got {len(receiver.events())} event(s) in all"
        + _last_arrival(receiver) + ". " + _where_things_stand(run, order_id))


def _last_arrival(receiver: Any) -> str:
    """When the receiver last heard from the target: tells a silent sender from one that skipped this order."""
    deliveries = receiver.deliveries()
    if not deliveries:
        return ", in no POST"
    last = deliveries[-1].received_at
    return f" in {len(deliveries)} POST(s), the last at {last:%H:%M:%S} UTC"


def _where_things_stand(run: StepContext, order_id: str) -> str:
    """The order's status and the run's subscription, asked at the deadline: an order still in flight is
    a lifecycle problem, a subscription gone means someone removed it, not that the event was skipped."""
    seen = run.request("getOrder", {"orderId": order_id})
    status = seen.response.get("status") if isinstance(seen.response, dict) else None
    parts = [f"getOrder now: {seen.status or seen.error}" + (f", status {status}" if status else "")]
    subscription_id = run.runner.subscription_id
    if subscription_id:
        found = run.request("getWebhookSubscription", {"id": subscription_id})
        parts.append(f"the run's subscription {subscription_id}: "
                     + ("still there" if found.status == 200 else f"getWebhookSubscription answered "
                                                                   f"{found.status or found.error}"))
    return "; ".join(parts) + "."


def _check_events(run: StepContext, step: Step, label: str, order_id: str, want: int,
                  events: list[Any]) -> list[Failure]:
    """Not more than `want` so far; the `want`-th has the step's status and the order's reference;
    every event passes `webhook_conformance`."""
    failures = _copies(label, order_id, events)
    if len(events) > want and not failures:
        failures.append(Failure(label, "webhook", f"expected exactly {want} {EVENT_NAME} event(s) for order "
                                f"{order_id} (one per settle), got {len(events)}: {[e.summary() for e in events]}"))
    if events and want:
        last = events[min(want, len(events)) - 1]
        if step.statuses and last.status not in step.statuses:
            failures.append(Failure(label, "webhook", f"expected the event's payload.status "
                                    f"{' or '.join(step.statuses)}, got {last.status!r}"))
        known = run.references.get(order_id)
        if known and last.buy_from_order_reference != known:
            failures.append(Failure(label, "webhook", f"expected payload.buyFromOrderReference {known!r} "
                                    f"(what getOrder shows), got {last.buy_from_order_reference!r}"))
        for event in events:
            for violation in event.violations:
                failures.append(Failure(label, violation.check, f"{violation.where}: {violation.message}"))
    return failures


def _copies(label: str, order_id: str, events: list[Any]) -> list[Failure]:
    """An event that is the exact copy of an earlier one (payload and timestamp): one settle announced twice.

    Said at the step that sees it, so a scenario whose next call would race
    the real second settle fails here, for the reason, not at that call."""
    seen: dict[str, Any] = {}
    for event in events:
        key = json.dumps(event.data, sort_keys=True)
        if key in seen:
            first = seen[key]
            return [Failure(label, "webhook", f"the same {EVENT_NAME} event for order {order_id} arrived twice "
                            f"(POST #{first.delivery.sequence} at {first.delivery.received_at:%H:%M:%S.%f} and "
                            f"POST #{event.delivery.sequence} at {event.delivery.received_at:%H:%M:%S.%f}, "
                            "identical payload and timestamp): one settle announced twice (once per settle)")]
        seen[key] = event
    return []


# -- the run's one quiet window ------------------------------------------------------------------
def recheck_counts(runner: RunContext, results: Sequence[ScenarioResult]) -> None:
    """After every scenario: one quiet window, then every recorded count again. A passed scenario
    whose order got more events than its last `expect_webhook` allowed becomes failed."""
    waiting = [r for r in results if r.exact_counts and r.outcome == "passed"]
    receiver = runner.webhooks() if waiting else None
    if receiver is None or isinstance(receiver, str):
        return
    try:
        window = _quiet(runner, waiting, receiver)
    except (requests.RequestException, RuntimeError) as error:  # the mock's clock went away: count what came
        window = f"cut short: {error}"
    for result in waiting:
        late = _late_failures(receiver, result, window)
        if late:
            result.failures.extend(late)
            result.outcome = "failed"


def _quiet(runner: RunContext, waiting: Sequence[ScenarioResult], receiver: Any) -> str:
    """Let the quiet window pass; says how, for the failure message."""
    client = runner.client
    if client.warp:
        seconds = max([runner.options.quiet_window] + [c.quiet for r in waiting for c in r.exact_counts.values()])
        client.advance(seconds)
        _settle_deliveries(runner, receiver)
        return f"{human(seconds)} on the target's clock after the last scenario"
    if runner.target.capabilities.webhook_idle_wait:
        _settle_deliveries(runner, receiver)
        return "until the mock's deliveries were idle, after the last scenario"
    remaining = max(r.ended for r in waiting) + runner.options.quiet_window - time.monotonic()
    if remaining > 0:
        runner.stop.wait(remaining)
    return f"{human(runner.options.quiet_window)} after the last scenario"


def _settle_deliveries(runner: RunContext, receiver: Any) -> None:
    """On a mock that tells: wait until nothing is in flight, then a moment for the last POST to land."""
    grace = max(runner.options.webhook_grace, 0.05)
    if not runner.client.deliveries_idle(grace):
        receiver.wait_for_events(len(receiver.events()) + 1, timeout=grace)


def _late_failures(receiver: Any, result: ScenarioResult, window: str) -> list[Failure]:
    failures = []
    for order_id, expected in result.exact_counts.items():
        events = _events_of(receiver, order_id)
        if len(events) > expected.count:
            failures.append(Failure(
                expected.step, "webhook",
                f"expected exactly {expected.count} {EVENT_NAME} event(s) for order {order_id} (one per settle); "
                f"{len(events)} arrived by the end of the run's quiet window ({window}): "
                f"{[e.summary() for e in events]}"))
    return failures
