"""`expect_webhook`: waiting for the order's `ota_cm_order_processed` events at the run's receiver."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.checks.webhooks import EVENT_NAME
from contracts.scenarios import Step, render
from contracts.scenarios.results import Failure, StepFailed, human

if TYPE_CHECKING:
    from contracts.scenarios.steps import ScenarioRun


def expect_webhook(run: "ScenarioRun", step: Step, label: str) -> None:
    """Wait for `count` events of the order, then for `quiet` more time; require exactly `count`."""
    receiver = run.runner.webhooks()
    if isinstance(receiver, str):
        raise StepFailed([Failure(label, "webhook", receiver)])
    order_id = str(render(step.order, run.variables))
    want = step.count if step.count is not None else 1
    within = step.within if step.within is not None else run.options.deadline
    every = step.every if step.every is not None else run.options.poll_interval
    warp = run.client.warp
    start = run.client.now()

    def mine() -> list[Any]:
        return [e for e in receiver.events() if e.order_id == order_id]

    def settle_wait(seconds: float) -> None:
        """Let time pass, then give a delivery that came due a moment of real time to arrive."""
        before = len(receiver.events())
        run.client.wait(seconds)
        if warp and not run.client.deliveries_idle(run.options.webhook_grace):
            receiver.wait_for_events(before + 1, timeout=0.05)

    while want > 0 and len(mine()) < want:
        elapsed = run.client.now() - start
        if elapsed >= within:
            if warp and not run.client.deliveries_idle(run.options.webhook_grace):
                # a delivery may still be on its way over the network
                receiver.wait_for_events(len(receiver.events()) + 1, timeout=run.options.webhook_grace)
            if len(mine()) >= want:
                break
            got = mine()
            raise StepFailed([Failure(
                label, "webhook",
                f"expected {want} {EVENT_NAME} event(s) for order {order_id} within {human(within)}"
                + (f" (the last with status {' or '.join(step.statuses)})" if step.statuses else "")
                + f"; got {len(got)}" + (f": {[e.summary() for e in got]}" if got else "")
                + f". The receiver at {run.runner.webhook_url} got {len(receiver.events())} event(s) in all.")])
        settle_wait(min(every, within - elapsed))
    if step.quiet > 0:
        waited = 0.0
        while waited < step.quiet:
            settle_wait(min(every, step.quiet - waited))
            waited += min(every, step.quiet - waited)
        if warp and not run.client.deliveries_idle(run.options.webhook_grace):
            receiver.wait_for_events(len(receiver.events()) + 1, timeout=min(0.2, run.options.webhook_grace))
    events = mine()
    failures = []
    if len(events) != want:
        failures.append(Failure(label, "webhook",
                                f"expected exactly {want} {EVENT_NAME} event(s) for order {order_id} "
                                f"(one per settle), got {len(events)}: {[e.summary() for e in events]}"))
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
    if failures:
        raise StepFailed(failures)
    if events:  # as docs/004 advises: on the event, getOrder once for the full order
        exchange = run.request("getOrder", {"orderId": order_id})
        run._observe_call("getOrder", {"orderId": order_id}, exchange)
    document = {"events": [e.data for e in events], "count": len(events)}
    document.update(run._document(events[-1].data) if events else {})
    failures = run._check_fields(step.expect, label, document, None)
    if failures:
        raise StepFailed(failures)
    run._save(step, label, document, None)
