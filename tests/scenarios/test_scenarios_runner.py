"""The scenario runner against the embedded mock and against broken targets.

Broken targets (tests/rewriting.py) are the mock's own Flask app behind a WSGI
middleware that rewrites answers, served on 127.0.0.1; each breaks one kind of assertion and
the runner must fail with a message that says what was expected. Waits warp
the mock's clock, so nothing here sleeps.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest

from contracts.cli import main as otacm
from contracts.scenarios.runner import RunOptions, RunReport, run_scenarios
from broken_targets import wrap_sender
from contracts.target import Target, TargetOptions, embedded_mock, open_target
from mockserver.server import MockServer
from contracts.scenarios import load_file, load_library
from rewriting import Rewrite, broken  # noqa: F401 (the fixture)


def run_text(tmp_path: Path, text: str, target: Target, **options: Any) -> RunReport:
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    library = load_library()
    return run_scenarios(library, target, RunOptions(**{"strictness": "strict", **options}), load_file(path))


def only_failure(report: RunReport) -> Any:
    (result,) = report.results
    assert result.outcome == "failed", result.render()
    assert not report.ok and report.exit_code == 1
    return result


SETTLE = """
scenarios:
  - name: case
    doc: test
    steps:
      - call: createOrder
        body: {fixture: orders.paid}
        expect: {status: 201, order_status: Submitted}
        save: {orderId: orderId}
      - wait_until: {order: "{{orderId}}", status: [Issued, Draft, Error], within: 3m}
        expect:
          order_status: Issued
          fields:
            items[0].wallets[*].externalReferenceNumber: ["{{unique}}-W1", "{{unique}}-W2"]
      - call: getOrder
        params: {orderId: "{{orderId}}"}
        expect: {status: 200, schema: false}
      - wait_until: {order: "{{orderId}}", status: Issued, within: 3m}
"""


def test_a_correct_target_passes(tmp_path: Path, broken: Callable[[Rewrite], Target]) -> None:
    report = run_text(tmp_path, SETTLE, broken(lambda *a: None))
    assert report.ok, report.results[0].render()
    (result,) = report.results
    [timeline] = result.timelines.values()
    assert [o.status for o in timeline][0] == "Submitted" and timeline[-1].status == "Issued"


def test_wrong_status_code(tmp_path: Path, broken: Callable[[Rewrite], Target]) -> None:
    def rewrite(method: str, path: str, status: int, body: Any, state: dict) -> Any:
        if method == "POST" and path.endswith("/channelManager") and status:
            return 200, body
        return None

    result = only_failure(run_text(tmp_path, SETTLE, broken(rewrite)))
    failure = result.failures[0]
    assert failure.step == "step 1 (call createOrder)" and failure.check == "status_code"
    assert failure.message == "expected HTTP 201, got 200"
    text = result.render()
    assert "request:  POST http://127.0.0.1:" in text and '"sellToOrderReference": "OTACM-' in text
    assert "response: 200 {" in text


def test_wrong_field(tmp_path: Path, broken: Callable[[Rewrite], Target]) -> None:
    def rewrite(method: str, path: str, status: int, body: Any, state: dict) -> Any:
        if method == "GET" and isinstance(body, dict) and body.get("status") == "Issued":
            body["items"][0]["wallets"][1]["externalReferenceNumber"] = "SOMETHING-ELSE"
            return status, body
        return None

    result = only_failure(run_text(tmp_path, SETTLE, broken(rewrite)))
    (failure,) = result.failures
    assert failure.step.startswith("step 2 (wait_until") and failure.check == "field"
    assert failure.message.startswith("items[0].wallets[*].externalReferenceNumber: expected ['OTACM-")
    assert "got ['OTACM-" in failure.message and "'SOMETHING-ELSE']" in failure.message


def test_illegal_transition_fails_even_when_the_end_status_is_right(
    tmp_path: Path, broken: Callable[[Rewrite], Target]
) -> None:
    def rewrite(method: str, path: str, status: int, body: Any, state: dict) -> Any:
        """Issued → Processing → Issued: the second look at an Issued order says Processing."""
        if method == "GET" and isinstance(body, dict) and body.get("status") == "Issued":
            state[body["orderId"]] = state.get(body["orderId"], 0) + 1
            if state[body["orderId"]] == 2:
                return status, {**body, "status": "Processing"}
        return None

    result = only_failure(run_text(tmp_path, SETTLE, broken(rewrite)))
    checks = {f.check: f for f in result.failures}
    assert set(checks) == {"transition_legality", "terminal_sticky"}
    legality = checks["transition_legality"]
    assert legality.step == "step 3 (call getOrder)"
    assert "status went Issued → Processing with no call in between" in legality.message
    assert "Statuses seen for order" in legality.message and "→ Issued → Processing" in legality.message


def test_missing_webhook(tmp_path: Path, broken: Callable[[Rewrite], Target]) -> None:
    def rewrite(method: str, path: str, status: int, body: Any, state: dict) -> Any:
        """Subscriptions are answered but never reach the mock: no event is ever sent."""
        if method == "POST" and path.endswith("/webhook") and status == 0:
            return 201, {"id": str(uuid.uuid4()), "notificationUrl": "x", "eventName": "ota_cm_order_processed",
                         "timestamp": "2026-05-15T09:30:00Z"}
        return None

    text = """
scenarios:
  - name: case
    doc: test
    steps:
      - call: createOrder
        body: {fixture: orders.paid}
        expect: {status: 201}
        save: {orderId: orderId}
      - expect_webhook: {order: "{{orderId}}", status: Issued, within: 3m}
"""
    result = only_failure(run_text(tmp_path, text, broken(rewrite), webhook_grace=0.2))
    (failure,) = result.failures
    assert failure.step == "step 2 (expect_webhook Issued)" and failure.check == "webhook"
    assert "expected 1 ota_cm_order_processed event(s) for order" in failure.message
    assert "within 3 min (the last with status Issued); got 0" in failure.message
    # where things stand at the deadline: the order settled, no POST came, the subscription is unknown
    assert "got 0 event(s) in all, in no POST" in failure.message
    assert "getOrder now: 200, status Issued" in failure.message
    assert re.search(r"the run's subscription [0-9a-f-]{36}: getWebhookSubscription answered 404", failure.message)


def test_deadline_passes(tmp_path: Path, broken: Callable[[Rewrite], Target]) -> None:
    def rewrite(method: str, path: str, status: int, body: Any, state: dict) -> Any:
        """The order never leaves Submitted."""
        if method == "GET" and isinstance(body, dict) and "status" in body:
            return status, {**body, "status": "Submitted"}
        return None

    result = only_failure(run_text(tmp_path, SETTLE, broken(rewrite)))
    (failure,) = result.failures
    assert failure.step.startswith("step 2 (wait_until") and failure.check == "deadline"
    assert "to reach Issued or Draft or Error within 3 min (on the target's clock); after 3 min it is still " \
           "Submitted. Statuses seen: Submitted" in failure.message


def test_spec_shape_is_checked(tmp_path: Path, broken: Callable[[Rewrite], Target]) -> None:
    def rewrite(method: str, path: str, status: int, body: Any, state: dict) -> Any:
        if method == "POST" and path.endswith("/channelManager") and isinstance(body, dict):
            return status, {k: v for k, v in body.items() if k != "buyFromOrderReference"}
        return None

    result = only_failure(run_text(tmp_path, SETTLE, broken(rewrite)))
    failure = result.failures[0]
    assert failure.check == "response_schema" and "buyFromOrderReference" in failure.message


def test_no_clock_control_skips_warp_scenarios_and_polls_the_rest(
    tmp_path: Path, broken: Callable[[Rewrite], Target]
) -> None:
    def rewrite(method: str, path: str, status: int, body: Any, state: dict) -> Any:
        if path.startswith("/_mock/") and not status:  # a "real" implementation: no control API
            return 404, {"code": "resource_not_found", "message": "Not Found"}
        return None

    target = broken(rewrite)
    assert not target.clock_control and not target.is_mock
    library = load_library()
    chosen = [s for s in library.scenarios if s.name in (
        "scheduled-stall-recovers", "partner-isolation", "duplicate-create-rejected", "unknown-order-404",
        "list-filter-reference", "duplicate-create-case-insensitive")]
    report = run_scenarios(library, target, RunOptions(strictness="documented", jobs=3), chosen)
    outcome = {r.scenario.name: (r.outcome, r.reason) for r in report.results}
    assert outcome["scheduled-stall-recovers"][0] == "skipped"
    assert outcome["partner-isolation"] == ("skipped", outcome["partner-isolation"][1])
    assert "strict only" in outcome["duplicate-create-case-insensitive"][1]
    assert {outcome[n][0] for n in ("duplicate-create-rejected", "unknown-order-404", "list-filter-reference")} == {
        "passed"}
    assert report.ok and report.count("skipped") == 3


# -- the library against the embedded mock --------------------------------------------------
@pytest.mark.parametrize("api_mode", ["async", "sync"])
def test_the_whole_library_passes_against_the_embedded_mock(api_mode: str) -> None:
    library = load_library()
    started = time.monotonic()
    with embedded_mock(api_mode) as target:
        assert target.clock_control and target.is_mock
        report = run_scenarios(library, target, RunOptions(strictness="strict", api_mode=api_mode))
    wall = time.monotonic() - started
    failed = [r.render() for r in report.results if r.outcome != "passed"]
    assert not failed, "\n".join(failed)
    assert len(report.results) >= (35 if api_mode == "async" else 25)
    assert wall < 15, f"the library took {wall:.1f} s against the embedded mock"


def test_documented_run_skips_strict_scenarios_and_assertions() -> None:
    library = load_library()
    with embedded_mock() as target:
        report = run_scenarios(library, target, RunOptions(strictness="documented"),
                               [s for s in library.scenarios if s.name in ("partner-isolation", "delete-error-removes")])
    outcome = {r.scenario.name: r for r in report.results}
    assert outcome["partner-isolation"].outcome == "skipped"
    assert outcome["delete-error-removes"].outcome == "passed"
    assert outcome["delete-error-removes"].skipped_assertions == 2  # the exact 404 and its message
    assert "2 strict-only assertion(s) not checked" in report.summary()


# -- the CLI --------------------------------------------------------------------------------------
def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert otacm(["scenarios", "list", "--api-mode", "sync"]) == 0
    out = capsys.readouterr().out
    assert "sync-create-issued  [modes sync]" in out and "from docs/003" in out
    assert "submitted-settles-issued" not in out


def test_cli_run_reports_progress_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 broken: Callable[[Rewrite], Target]) -> None:
    scenario = str(scenarios_file("confirm_delete.yaml"))
    assert otacm(["scenarios", "run", scenario, "-k", "confirm-issued"]) == 0
    out = capsys.readouterr().out
    assert "against the embedded mock (warping its clock)" in out
    assert "[1/1] PASSED  confirm-issued-is-noop" in out and "1 passed, 0 failed, 0 skipped" in out

    target = broken(lambda m, p, s, b, st: (200, b) if m == "POST" and p.endswith("/channelManager") and s else None)
    code = otacm(["scenarios", "run", scenario, "-k", "confirm-issued", "--base-url", target.server])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED  confirm-issued-is-noop" in out and "[status_code] expected HTTP 201, got 200" in out

    bad = tmp_path / "bad.yaml"
    bad.write_text("scenarios: nope\n")
    assert otacm(["scenarios", "run", str(bad)]) == 2
    assert "expected `scenarios:` with a list" in capsys.readouterr().err


def scenarios_file(name: str) -> Path:
    from contracts.scenarios import scenarios_dir

    return scenarios_dir() / name


def test_a_settle_announced_twice_fails_at_the_webhook_step_for_that_reason() -> None:
    """A target that POSTs every event twice: the once-per-settle scenario fails at its expect_webhook step,
    naming the copy, not later at a confirmOrder that raced the real second settle."""
    with MockServer() as mock:
        wrap_sender(mock, lambda body: [body, body])
        with open_target(TargetOptions(mock.base_url, mock.api_key, mock.partner_id)) as target:
            library = load_library()
            chosen = [s for s in library.scenarios if s.name == "webhook-once-per-settle"]
            report = run_scenarios(library, target, RunOptions(strictness="strict"), chosen)
    (result,) = report.results
    assert result.outcome == "failed", result.render()
    text = result.render()
    assert "expect_webhook" in text and "arrived twice" in text and "once per settle" in text, text
    assert "confirmOrder" not in text.split("arrived twice")[0].splitlines()[-1], text
