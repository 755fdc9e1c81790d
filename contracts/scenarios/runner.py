"""Run scenarios (contracts.scenarios) against the embedded mock or any base URL.

Against a target that offers the mock's clock control (`/_mock/clock`) every
wait warps time: the runner polls, then advances the clock by the polling
interval, so an hour of background work costs milliseconds. Against a real
implementation it polls on real time at the configured cadence (default 10 s,
as docs/001 advises) up to each wait's deadline.

Every status the runner sees for an order is kept as an `Observation`
(contracts.checks.lifecycle); after each step the order's timeline is checked
with `transition_legality` and `terminal_sticky`, so an illegal move fails the
scenario even when the end status is right. Failures name the step, show the
request and the response and say what was expected, in plain words.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Sequence

import requests

from contracts.checks.lifecycle import Observation, terminal_sticky, transition_legality
from contracts.scenarios import (
    MISSING,
    Library,
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
from contracts.spec import load_spec
from contracts.target import Exchange, SubscriptionFailed, Target, TargetClient
from contracts.checks.violations import Violation
from contracts.checks.webhooks import EVENT_NAME, describe_schema_error

DEFAULT_POLL_INTERVAL = 10.0  # docs/001: "a polling cadence of 10–15 seconds is reasonable"
DEFAULT_DEADLINE = 180.0  # pickup every ~60 s, then a few seconds to settle
VISIT_DAYS_AHEAD = 30
STRICTNESS = ("documented", "strict")
ORDER_CALLS = {"createOrder", "replaceOrder", "confirmOrder", "deleteOrder", "getOrder"}


# -- options and results ----------------------------------------------------------------
@dataclass
class RunOptions:
    strictness: str = "documented"
    api_mode: str = "async"
    poll_interval: float = DEFAULT_POLL_INTERVAL
    deadline: float = DEFAULT_DEADLINE  # for waits that name no `within`
    jobs: int | None = None  # None: 1 when warping (the clock is global), else 4
    warp: bool | None = None  # None: warp when the target has clock control
    webhooks: bool = True
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 0
    webhook_url: str | None = None  # the URL the target must call (default: the receiver's own)
    webhook_grace: float = 1.0  # real seconds a warped run still waits for a late delivery
    variables: dict[str, Any] = field(default_factory=dict)
    request_timeout: float = 30.0
    progress: Callable[["ScenarioResult", int, int], None] | None = None


@dataclass
class Failure:
    """What went wrong at one step: the check, plain words, and the exchange."""

    step: str
    check: str
    message: str
    exchange: Exchange | None = None

    def render(self) -> str:
        text = f"  {self.step}: [{self.check}] {self.message}"
        return text + ("\n" + self.exchange.render() if self.exchange else "")


@dataclass
class ScenarioResult:
    scenario: Scenario
    outcome: str  # passed | failed | skipped
    reason: str = ""  # why skipped
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    skipped_assertions: int = 0
    timelines: dict[str, list[Observation]] = field(default_factory=dict)

    def render(self) -> str:
        head = f"{self.outcome.upper():7} {self.scenario.name}"
        if self.outcome == "skipped":
            return f"{head} — {self.reason}"
        head += f" ({self.seconds:.2f} s)"
        if self.outcome == "failed":
            where = f"  from {self.scenario.source}" + (f": {self.scenario.title}" if self.scenario.title else "")
            return "\n".join([head, where, *(f.render() for f in self.failures)])
        return head


@dataclass
class RunReport:
    results: list[ScenarioResult]
    seconds: float
    target: Target
    options: RunOptions
    not_selected: int = 0

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def summary(self) -> str:
        parts = [f"{self.count('passed')} passed", f"{self.count('failed')} failed", f"{self.count('skipped')} skipped"]
        strict_skips = sum(r.skipped_assertions for r in self.results)
        extra = f", {strict_skips} strict-only assertion(s) not checked" if strict_skips else ""
        unselected = f"; {self.not_selected} scenario(s) of the other API mode not selected" if self.not_selected else ""
        return f"{', '.join(parts)} in {self.seconds:.2f} s{extra}{unselected}"


# -- selection ------------------------------------------------------------------------------
def skip_reason(scenario: Scenario, target: Target, options: RunOptions, warp: bool) -> str:
    """Why a selected scenario cannot run against this target ("" when it can)."""
    if "strict" in scenario.tags and options.strictness != "strict":
        return "strict only (a server fact or project decision per CONTRACT.md); run with --strictness strict"
    if "mock-only" in scenario.tags and not target.is_mock:
        return "mock only (uses the mock's Prefer directives or key-to-partner binding)"
    if "clock" in scenario.requires and not warp:
        return "needs time warp: the target has no clock control (/_mock/clock)" if not target.clock_control \
            else "needs time warp, which --no-warp turned off"
    if "webhook" in scenario.requires and not options.webhooks:
        return "needs webhooks, which --no-webhooks turned off"
    return ""


def select(scenarios: Sequence[Scenario], api_mode: str) -> tuple[list[Scenario], int]:
    """The scenarios of this API mode, and how many belong to the other mode only."""
    chosen = [s for s in scenarios if api_mode in s.modes]
    return chosen, len(scenarios) - len(chosen)


# -- running ----------------------------------------------------------------------------------------
class _StepFailed(Exception):
    def __init__(self, failures: list[Failure]) -> None:
        super().__init__(failures[0].message if failures else "")
        self.failures = failures


class ScenarioRun:
    """One scenario's execution: its variables, its orders' timelines, its failures."""

    def __init__(self, runner: "Runner", scenario: Scenario) -> None:
        self.runner, self.scenario = runner, scenario
        self.target, self.options = runner.target, runner.options
        self.client = TargetClient(runner.target, runner.options.request_timeout, runner.warp, runner.stop)
        self.timelines: dict[str, list[Observation]] = {}
        self.references: dict[str, str] = {}  # orderId → buyFromOrderReference
        self.reported: dict[str, int] = {}  # orderId → lifecycle violations already reported
        self.skipped_assertions = 0
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
            self.variables = {**self.runner.library.variables, **self._builtins(), **self.options.variables}
            for step in self.scenario.steps:
                self._run_step(step)
        except _StepFailed as failed:
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
            raise _StepFailed([Failure(label, "scenario", f"the scenario itself is wrong: {error}")]) from None
        except requests.RequestException as error:
            raise _StepFailed([Failure(label, "request", f"the request failed: {error}")]) from None
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
            raise _StepFailed([Failure(label, "request", "the target did not answer", exchange)])
        if step.auth == "default":  # another key's view (404 for isolation) says nothing of the order's state
            self._observe_call(step.operation, params, exchange)
        failures = self._lifecycle_failures(label, exchange) + self._check_response(step, label, exchange)
        if failures:
            raise _StepFailed(failures)
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
        if expect.status and exchange.status not in expect.status:
            wanted = " or ".join(map(str, expect.status))
            hint = ""
            if isinstance(exchange.response, dict) and exchange.response.get("message"):
                hint = f" (the target says: {exchange.response['message']})"
            failures.append(Failure(label, "status_code",
                                    f"expected HTTP {wanted}, got {exchange.status}{hint}", exchange))
            return failures  # the body of an unexpected answer has nothing the rest could check
        document = self._document(exchange.response)
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
                raise _StepFailed([Failure(label, "save", f"cannot save {name!r}: no field {path!r} in the answer",
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
                raise _StepFailed([Failure(label, "status_code",
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
                raise _StepFailed([Failure(
                    label, "deadline",
                    f"expected order {order_id} to reach {' or '.join(step.statuses)} within {_human(within)} "
                    f"(on the target's clock); after {_human(elapsed)} it is still {status}. "
                    f"Statuses seen: {' → '.join(seen)}", exchange)])
            self.client.wait(min(every, within - elapsed))
        document = {**self._document(exchange.response), "@seen": seen}
        failures = self._check_fields(step.expect, label, document, exchange)
        if failures:
            raise _StepFailed(failures)
        self._save(step, label, document, exchange)

    # -- expect_webhook ------------------------------------------------------------------------------
    def _expect_webhook(self, step: Step, label: str) -> None:
        receiver = self.runner.webhooks()
        if isinstance(receiver, str):
            raise _StepFailed([Failure(label, "webhook", receiver)])
        order_id = str(render(step.order, self.variables))
        want = step.count if step.count is not None else 1
        within = step.within if step.within is not None else self.options.deadline
        every = step.every if step.every is not None else self.options.poll_interval
        warp = self.client.warp
        start = self.client.now()

        def mine() -> list[Any]:
            return [e for e in receiver.events() if e.order_id == order_id]

        def settle_wait(seconds: float) -> None:
            """Let time pass, then give a delivery that came due a moment of real time to arrive."""
            before = len(receiver.events())
            self.client.wait(seconds)
            if warp and not self.client.deliveries_idle(self.options.webhook_grace):
                receiver.wait_for_events(before + 1, timeout=0.05)

        while want > 0 and len(mine()) < want:
            elapsed = self.client.now() - start
            if elapsed >= within:
                if warp and not self.client.deliveries_idle(self.options.webhook_grace):
                    # a delivery may still be on its way over the network
                    receiver.wait_for_events(len(receiver.events()) + 1, timeout=self.options.webhook_grace)
                if len(mine()) >= want:
                    break
                got = mine()
                raise _StepFailed([Failure(
                    label, "webhook",
                    f"expected {want} {EVENT_NAME} event(s) for order {order_id} within {_human(within)}"
                    + (f" (the last with status {' or '.join(step.statuses)})" if step.statuses else "")
                    + f"; got {len(got)}" + (f": {[e.summary() for e in got]}" if got else "")
                    + f". The receiver at {self.runner.webhook_url} got {len(receiver.events())} event(s) in all.")])
            settle_wait(min(every, within - elapsed))
        if step.quiet > 0:
            waited = 0.0
            while waited < step.quiet:
                settle_wait(min(every, step.quiet - waited))
                waited += min(every, step.quiet - waited)
            if warp and not self.client.deliveries_idle(self.options.webhook_grace):
                receiver.wait_for_events(len(receiver.events()) + 1, timeout=min(0.2, self.options.webhook_grace))
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
            known = self.references.get(order_id)
            if known and last.buy_from_order_reference != known:
                failures.append(Failure(label, "webhook", f"expected payload.buyFromOrderReference {known!r} "
                                        f"(what getOrder shows), got {last.buy_from_order_reference!r}"))
            for event in events:
                for violation in event.violations:
                    failures.append(Failure(label, violation.check, f"{violation.where}: {violation.message}"))
        if failures:
            raise _StepFailed(failures)
        if events:  # as docs/004 advises: on the event, getOrder once for the full order
            exchange = self.request("getOrder", {"orderId": order_id})
            self._observe_call("getOrder", {"orderId": order_id}, exchange)
        document = {"events": [e.data for e in events], "count": len(events)}
        document.update(self._document(events[-1].data) if events else {})
        failures = self._check_fields(step.expect, label, document, None)
        if failures:
            raise _StepFailed(failures)
        self._save(step, label, document, None)

    # -- lifecycle ----------------------------------------------------------------------------------
    def _check_lifecycle(self, label: str, exchange: Exchange | None = None) -> None:
        failures = self._lifecycle_failures(label, exchange)
        if failures:
            raise _StepFailed(failures)

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


def _human(seconds: float) -> str:
    if seconds >= 3600 and seconds % 60 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


# -- the runner ------------------------------------------------------------------------------------------
class Runner:
    def __init__(self, library: Library, target: Target, options: RunOptions) -> None:
        self.library, self.target, self.options = library, target, options
        warp = target.clock_control if options.warp is None else (options.warp and target.clock_control)
        self.warp = warp
        self.stop = threading.Event()
        self.client = TargetClient(target, options.request_timeout, warp, self.stop)
        self.run_id = secrets.token_hex(3).upper()
        self._number = 0
        self._lock = threading.Lock()
        self._receiver: Any = None
        self._subscription = contextlib.ExitStack()
        self._webhook_problem = ""
        self.webhook_url = ""

    def next_number(self) -> int:
        with self._lock:
            self._number += 1
            return self._number

    # -- webhooks ----------------------------------------------------------------------------
    def webhooks(self) -> Any:
        """The run's receiver, subscribed through the API; or a string saying why there is none."""
        with self._lock:
            if self._receiver is None and not self._webhook_problem:
                self._start_webhooks()
            return self._receiver if self._receiver is not None else self._webhook_problem

    def _start_webhooks(self) -> None:
        from contracts.webhooks.receiver import WebhookReceiver

        client_state = f"otacm-scenarios-{self.run_id}"
        receiver = WebhookReceiver(self.options.webhook_host, self.options.webhook_port,
                                   expected_client_state=client_state,
                                   strict=self.options.strictness == "strict").start()
        self.webhook_url = self.options.webhook_url or receiver.url
        try:
            self._subscription.enter_context(self.client.subscription(self.webhook_url, client_state))
        except SubscriptionFailed as error:
            receiver.stop()
            self._webhook_problem = f"could not subscribe the webhook receiver: {error}"
            return
        self._receiver = receiver

    def _stop_webhooks(self) -> None:
        self._subscription.close()
        if self._receiver is not None:
            self._receiver.stop()

    # -- running ------------------------------------------------------------------------------
    def run(self, scenarios: Sequence[Scenario]) -> RunReport:
        started = time.monotonic()
        chosen, not_selected = select(scenarios, self.options.api_mode)
        total = len(chosen)
        results: list[ScenarioResult | None] = [None] * total
        done = [0]

        def one(index: int, scenario: Scenario) -> None:
            reason = skip_reason(scenario, self.target, self.options, self.warp)
            result = ScenarioResult(scenario, "skipped", reason) if reason else ScenarioRun(self, scenario).run()
            with self._lock:
                results[index] = result
                done[0] += 1
                position = done[0]
            if self.options.progress:
                self.options.progress(result, position, total)

        jobs = self.options.jobs or (1 if self.warp else 4)
        if self.options.webhooks and any("webhook" in s.requires for s in chosen):
            self.webhooks()  # subscribe before any order is submitted, so no settle is missed
        try:
            if jobs <= 1:
                for index, scenario in enumerate(chosen):
                    one(index, scenario)
            else:
                with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="otacm-scenario") as pool:
                    for future in [pool.submit(one, i, s) for i, s in enumerate(chosen)]:
                        future.result()
        finally:
            self.stop.set()
            self._stop_webhooks()
        final = [r for r in results if r is not None]
        return RunReport(final, time.monotonic() - started, self.target, self.options, not_selected)


def run_scenarios(library: Library, target: Target, options: RunOptions | None = None,
                  scenarios: Sequence[Scenario] | None = None) -> RunReport:
    """Run `scenarios` (default: the library's) against `target`; never raises for a failing scenario."""
    options = options or RunOptions()
    if options.strictness not in STRICTNESS:
        raise ValueError(f"strictness must be one of {', '.join(STRICTNESS)}")
    return Runner(library, target, options).run(library.scenarios if scenarios is None else scenarios)

