"""One scenario's execution: calls, waits on the order's status, checks of every answer.

Every status seen for an order is kept as an `Observation`; after each step the
order's timeline is checked with `transition_legality` and `terminal_sticky`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from contracts.checks.lifecycle import Observation, terminal_sticky, transition_legality
from contracts.checks.violations import Violation
from contracts.checks.webhooks import describe_schema_error
from contracts.scenarios import (
    MISSING,
    Scenario,
    ScenarioFormatError,
    Step,
    TemplateError,
    build_body,
    is_strict,
    match,
    render,
    resolve,
    show,
)
from contracts.scenarios.context import RunContext
from contracts.scenarios.model import status_matches
from contracts.scenarios.results import (
    ExactCount,
    Failure,
    ScenarioResult,
    StepFailed,
    human,
)
from contracts.scenarios.waits import expect_webhook
from contracts.spec import load_spec
from contracts.target import Exchange, TargetClient

VISIT_DAYS_AHEAD = 30
ORDER_CALLS = frozenset({"createOrder", "replaceOrder", "confirmOrder", "deleteOrder", "getOrder"})


class ScenarioRun:
    """One scenario's execution: its variables, its orders' timelines, its failures."""

    def __init__(self, runner: RunContext, scenario: Scenario) -> None:
        self.runner, self.scenario = runner, scenario
        self.target, self.options = runner.target, runner.options
        self.client = TargetClient(runner.target, runner.options.request_timeout, runner.warp, runner.stop)
        self.timelines: dict[str, list[Observation]] = {}
        self.references: dict[str, str] = {}  # orderId → buyFromOrderReference
        self.reported: dict[str, int] = {}  # orderId → lifecycle violations already reported
        self.skipped_assertions = 0
        self.exact_counts: dict[str, ExactCount] = {}  # orderId → the count its last expect_webhook saw
        self.variables: dict[str, Any] = {}

    # -- setup ---------------------------------------------------------------------
    def _builtins(self) -> dict[str, Any]:
        now = self.client.now()
        today = datetime.fromtimestamp(now, tz=timezone.utc).date()
        unique = f"OTACM-{self.runner.run_id}-{self.runner.next_number():03d}"
        return {
            "partner_id": self.target.partner_id,
            "other_partner_id": self.target.other_partner_id or "",
            "unique": unique,
            "today": today.isoformat(),
            "visit_date": (today + timedelta(days=VISIT_DAYS_AHEAD)).isoformat(),
            "now": datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def run(self) -> ScenarioResult:
        started = time.monotonic()
        failures: list[Failure] = []
        try:
            self.variables = {**self._builtins(), **self.runner.venue()}  # a venue may pin e.g. visit_date
            for step in self.scenario.steps:
                self._run_step(step)
        except StepFailed as failed:
            failures = failed.failures
        except (requests.RequestException, RuntimeError) as error:
            failures = [Failure("setup", "request", f"could not talk to the target: {error}")]
        finally:
            self.client.close()
        return ScenarioResult(
            self.scenario,
            "failed" if failures else "passed",
            failures=failures,
            seconds=time.monotonic() - started,
            skipped_assertions=self.skipped_assertions,
            timelines=self.timelines,
            exact_counts=self.exact_counts,
            ended=time.monotonic(),
        )

    def _run_step(self, step: Step) -> None:
        label = step.label()
        try:
            if step.kind == "call":
                self._call(step, label)
            elif step.kind == "wait_until":
                self._wait_until(step, label)
            elif step.kind == "expect_webhook":
                self._expect_webhook(step, label)
            else:
                self.client.advance(step.seconds)
        except (TemplateError, ScenarioFormatError) as error:
            raise StepFailed([Failure(label, "scenario", f"the scenario itself is wrong: {error}")]) from None
        except requests.RequestException as error:
            raise StepFailed([Failure(label, "request", f"the request failed: {error}")]) from None
        self._check_lifecycle(label)

    # -- call ----------------------------------------------------------------------------
    def request(self, operation_id: str, params: Mapping[str, Any], query: Mapping[str, Any] | None = None,
                headers: Mapping[str, Any] | None = None, body: Any = None, auth: str = "default") -> Exchange:
        try:
            return self.client.call(operation_id, params, query=query, headers=headers, body=body, auth=auth)
        except (KeyError, ValueError) as error:  # a path parameter or the other partner's key is missing
            raise ScenarioFormatError(f"{operation_id}: {error}") from None

    def _call(self, step: Step, label: str) -> None:
        params = render(step.params, self.variables)
        body = render(build_body(step.body, self.runner.library.fixtures), self.variables) \
            if step.body is not None else None
        exchange = self.request(step.operation, params, render(step.query, self.variables),
                                render(step.headers, self.variables), body, step.auth)
        if exchange.error:
            raise StepFailed([Failure(label, "request", "the target did not answer", exchange)])
        if step.auth == "default":  # another key's view (404 for isolation) says nothing of the order's state
            self._observe_call(step.operation, params, exchange)
        failures = self._lifecycle_failures(label, exchange) + self._check_response(step, label, exchange)
        if failures:
            raise StepFailed(failures)
        self._save(step, label, self._document(exchange.response), exchange)

    def _observe_call(self, operation_id: str, params: Mapping[str, Any], exchange: Exchange) -> None:
        """Record the order status an answer shows (or `removed` for a 404 of a known order)."""
        if operation_id not in ORDER_CALLS or exchange.status is None:
            return
        body = exchange.response
        order_id = str(params.get("orderId") or (body.get("orderId") if isinstance(body, dict) else "") or "")
        if not order_id:
            return
        if 200 <= exchange.status < 300 and isinstance(body, dict) and isinstance(body.get("status"), str):
            self._observe(order_id, body["status"], operation_id)
            if body.get("buyFromOrderReference"):
                self.references[order_id] = body["buyFromOrderReference"]
        elif exchange.status == 404 and operation_id == "getOrder" and order_id in self.timelines:
            self._observe(order_id, "removed", operation_id)

    def _observe(self, order_id: str, status: str, via: str) -> None:
        at = self.client.now()
        self.timelines.setdefault(order_id, []).append(Observation(status, at, via))

    def _document(self, body: Any) -> Any:
        """The body as paths see it: plus `@rows`, the list rows whatever the envelope."""
        if isinstance(body, list):
            return {"@rows": body, "$body": body}
        if isinstance(body, dict):
            rows = body.get("data") if isinstance(body.get("data"), list) else MISSING
            return {**body, "@rows": rows} if rows is not MISSING else dict(body)
        return body

    def _check_response(self, step: Step, label: str, exchange: Exchange) -> list[Failure]:
        expect, failures = step.expect, []
        if expect.status and not any(status_matches(exchange.status, s) for s in expect.status):
            wanted = " or ".join(map(str, expect.status))
            hint = ""
            if isinstance(exchange.response, dict) and exchange.response.get("message"):
                hint = f" (the target says: {exchange.response['message']})"
            failures.append(Failure(label, "status_code",
                                    f"expected HTTP {wanted}, got {exchange.status}{hint}", exchange))
            return failures  # the body of an unexpected answer has nothing the rest could check
        document = self._document(exchange.response)
        if isinstance(document, dict):  # `@status`: the HTTP code, for a strict-only exact code next to `4xx`
            document["@status"] = exchange.status
        failures += self._check_fields(expect, label, document, exchange)
        if expect.schema:
            failures += self._check_schema(step.operation, label, exchange)
        return failures

    def _check_fields(self, expect: Any, label: str, document: Any, exchange: Exchange | None) -> list[Failure]:
        failures = []
        if expect.order_status:
            seen = document.get("status", MISSING) if isinstance(document, dict) else MISSING
            if seen not in expect.order_status:
                failures.append(Failure(label, "order_status",
                                        f"expected the order status {' or '.join(expect.order_status)}, "
                                        f"got {show(seen)}", exchange))
        for path, matcher in expect.fields.items():
            if is_strict(matcher) and self.options.strictness != "strict":
                self.skipped_assertions += 1
                continue
            matcher = render(matcher, self.variables)
            value = resolve(document, path)
            for problem in match(value, matcher):
                because = f" — {matcher['because']}" if isinstance(matcher, dict) and matcher.get("because") else ""
                failures.append(Failure(label, "field", f"{path}: {problem}{because}", exchange))
        return failures

    def _check_schema(self, operation_id: str, label: str, exchange: Exchange) -> list[Failure]:
        spec = load_spec()
        strict = self.options.strictness == "strict"
        if str(exchange.status) not in spec.operations[operation_id].status_codes:
            if not strict:  # the spec's codes are the server's (CONTRACT); the step's own expectation allowed it
                self.skipped_assertions += 1
                return []
            listed = ", ".join(sorted(spec.operations[operation_id].status_codes))
            return [Failure(label, "response_schema",
                            f"{operation_id} answered {exchange.status}, which the spec does not list ({listed})",
                            exchange)]
        validator = spec.response_validator(operation_id, str(exchange.status), strict)
        if validator is None:
            return []
        errors = sorted(validator.iter_errors(exchange.response),
                        key=lambda e: list(map(str, e.absolute_path)))
        if not errors:
            return []
        described = "; ".join(describe_schema_error(e) for e in _leaf_errors(errors)[:5])
        level = "strict" if strict else "documented"
        return [Failure(label, "response_schema",
                        f"the body does not have the spec's {operation_id} {exchange.status} shape "
                        f"({level}): {described}", exchange)]

    def _save(self, step: Step, label: str, document: Any, exchange: Exchange | None) -> None:
        for name, path in step.save.items():
            value = resolve(document, path)
            if value is MISSING:
                raise StepFailed([Failure(label, "save", f"cannot save {name!r}: no field {path!r} in the answer",
                                           exchange)])
            self.variables[name] = value

    # -- wait_until ---------------------------------------------------------------------------
    def _wait_until(self, step: Step, label: str) -> None:
        order_id = str(render(step.order, self.variables))
        within = step.within if step.within is not None else self.options.deadline
        every = step.every if step.every is not None else self.options.poll_interval
        start = self.client.now()
        seen: list[str] = []
        while True:
            exchange = self.request("getOrder", {"orderId": order_id})
            if exchange.error or exchange.status != 200:
                self._observe_call("getOrder", {"orderId": order_id}, exchange)
                raise StepFailed([Failure(label, "status_code",
                                           f"polling getOrder for order {order_id}: expected HTTP 200, got "
                                           f"{exchange.status or exchange.error}", exchange)])
            status = exchange.response.get("status") if isinstance(exchange.response, dict) else None
            self._observe_call("getOrder", {"orderId": order_id}, exchange)
            if not seen or seen[-1] != status:
                seen.append(str(status))
            self._check_lifecycle(label, exchange)
            if status in step.statuses:
                break
            elapsed = self.client.now() - start
            if elapsed >= within:
                raise StepFailed([Failure(
                    label, "deadline",
                    f"expected order {order_id} to reach {' or '.join(step.statuses)} within {human(within)} "
                    f"(on the target's clock); after {human(elapsed)} it is still {status}. "
                    f"Statuses seen: {' → '.join(seen)}", exchange)])
            self.client.wait(min(every, within - elapsed))
        document = {**self._document(exchange.response), "@seen": seen}
        failures = self._check_fields(step.expect, label, document, exchange)
        if failures:
            raise StepFailed(failures)
        self._save(step, label, document, exchange)


    # -- expect_webhook ------------------------------------------------------------------------------
    def _expect_webhook(self, step: Step, label: str) -> None:
        expect_webhook(self, step, label)

    # -- lifecycle ----------------------------------------------------------------------------------
    def _check_lifecycle(self, label: str, exchange: Exchange | None = None) -> None:
        failures = self._lifecycle_failures(label, exchange)
        if failures:
            raise StepFailed(failures)

    def _lifecycle_failures(self, label: str, exchange: Exchange | None = None) -> list[Failure]:
        """New lifecycle violations of any order's timeline (each is reported once)."""
        include_sync = self.options.api_mode == "sync" or self.target.capabilities.api_mode == "sync" or self._used_sync()
        failures = []
        for order_id, timeline in self.timelines.items():
            violations: list[Violation] = transition_legality(timeline, include_sync, order_id)
            violations += terminal_sticky(timeline, order_id, include_sync)
            new = violations[self.reported.get(order_id, 0):]
            self.reported[order_id] = len(violations)
            seen = " → ".join(f"{o.status}" + (f" ({o.via})" if o.via != "getOrder" else "") for o in timeline)
            for violation in new:
                failures.append(Failure(label, violation.check,
                                        f"{violation.message}. Statuses seen for order {order_id}: {seen}", exchange))
        return failures

    def _used_sync(self) -> bool:
        return any(str(s.query.get("sync", "")).lower() in ("1", "true") for s in self.scenario.steps)


def _leaf_errors(errors: list[Any]) -> list[Any]:
    """The innermost errors of oneOf/anyOf failures: they say what is wrong."""
    leaves = []
    for error in errors:
        if error.context:
            best = min(error.context, key=lambda e: len(list(e.context or [])))
            leaves.extend(_leaf_errors([best]))
        else:
            leaves.append(error)
    return leaves

