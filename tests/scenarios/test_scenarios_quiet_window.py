"""`expect_webhook` counts are re-checked once, after the run's quiet window.

A target that sends a duplicate event after the step counted its events must
fail in that final re-count: on a warped mock (the window is a clock advance)
and on a real-clock target without `/_mock/` (the window is real seconds).
The duplicate is sent by the broken target itself while it answers the
getOrder the step makes after counting, so it lands deterministically between
the step's count and the final one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import requests

from contracts.scenarios import load_file, load_library
from contracts.scenarios.runner import RunOptions, RunReport, run_scenarios
from contracts.target import Target, TargetOptions, open_target
from mockserver.config import MockConfig
from mockserver.server import MockServer
from rewriting import Rewrite, broken  # noqa: F401 (the fixture)

ONE_EVENT = """
scenarios:
  - name: case
    doc: test
    steps:
      - call: createOrder
        body: {fixture: orders.paid}
        expect: {status: 201}
        save: {orderId: orderId}
      - expect_webhook: {order: "{{orderId}}", status: Issued, count: 1}
"""


def late_duplicate(method: str, path: str, status: int, body: Any, state: dict) -> Any:
    """Keep the subscription; on the first getOrder showing an order Issued, POST its event once more."""
    if method == "POST" and path.endswith("/webhook") and status == 201:
        state["subscription"] = body
    elif method == "GET" and status == 200 and isinstance(body, dict) and body.get("status") == "Issued" \
            and body["orderId"] not in state:
        state[body["orderId"]] = True
        subscription = state["subscription"]
        event = {"appId": "", "clientState": subscription.get("clientState", ""), "companyId": "c",
                 "companyName": "CRONUS", "eventName": "ota_cm_order_processed", "eventVersion": "1.0",
                 "initiatingUserAADObjectId": "u", "timestamp": "2026-05-15T09:30:00Z",
                 "payload": {"orderId": body["orderId"], "buyFromOrderReference": body["buyFromOrderReference"],
                             "status": "Issued"}}
        requests.post(subscription["notificationUrl"], json={"values": [event]}, timeout=5)
    return None


def run_one(tmp_path: Path, target: Target, **options: Any) -> RunReport:
    path = tmp_path / "case.yaml"
    path.write_text(ONE_EVENT, encoding="utf-8")
    return run_scenarios(load_library(), target, RunOptions(**{"strictness": "strict", **options}), load_file(path))


def late_failure(report: RunReport) -> str:
    (result,) = report.results
    assert result.outcome == "failed" and not report.ok, result.render()
    (failure,) = result.failures
    assert failure.step == "step 2 (expect_webhook Issued)" and failure.check == "webhook"
    assert "expected exactly 1 ota_cm_order_processed event(s) for order" in failure.message
    assert "2 arrived by the end of the run's quiet window" in failure.message
    return failure.message


def test_a_correct_target_passes_the_final_count(tmp_path: Path, broken: Callable[[Rewrite], Target]) -> None:
    report = run_one(tmp_path, broken(lambda *a: None))
    assert report.ok, report.results[0].render()


def test_a_late_duplicate_fails_in_the_final_count_on_a_warped_mock(
    tmp_path: Path, broken: Callable[..., Target]
) -> None:
    target = broken(late_duplicate)
    assert target.clock_control
    message = late_failure(run_one(tmp_path, target, webhook_grace=0.2))
    assert "(20 s on the target's clock after the last scenario)" in message


def test_a_late_duplicate_fails_in_the_final_count_on_a_real_clock(
    tmp_path: Path, broken: Callable[..., Target]
) -> None:
    config = MockConfig.load(control=False, pickup_seconds=0.3, scheduled_to_processing_seconds=0.1,
                             processing_seconds=0.2)
    target = broken(late_duplicate, config)
    assert not target.clock_control and not target.is_mock
    started = time.monotonic()
    message = late_failure(run_one(tmp_path, target, strictness="documented", poll_interval=0.1,
                                   deadline=20, quiet_window=0.3))
    assert "(0.3 s after the last scenario)" in message
    assert time.monotonic() - started < 20


def test_the_library_on_a_real_time_target_with_short_pickups() -> None:
    """The real-time path end to end: every scenario at once, one quiet window, no failure."""
    with MockServer(control=False, pickup_seconds=1) as mock:
        options = TargetOptions(mock.base_url, mock.api_key, mock.partner_id)
        with open_target(options) as target:
            assert not target.clock_control
            started = time.monotonic()
            report = run_scenarios(load_library(), target, RunOptions(
                strictness="strict", poll_interval=0.5, deadline=30, quiet_window=1))
    wall = time.monotonic() - started
    failed = [r.render() for r in report.results if r.outcome == "failed"]
    assert not failed, "\n".join(failed)
    assert report.count("passed") >= 30
    assert wall < 45, f"the library took {wall:.1f} s on a real-time target with 1 s pickups"
