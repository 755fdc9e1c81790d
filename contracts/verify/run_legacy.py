"""`otacm verify`: one run that gates a deployment on the API contract.

Against a target (the embedded mock when no base URL is given) it runs up to
four check families and collects one `CheckOutcome` per check and subject
(an operation, a probe order, a scenario):

- `responses` (contracts.verify.schemathesis_run): Schemathesis on the spec — examples,
  coverage, fuzzing and stateful phases with its response checks; at
  `--strictness strict` also the strict checks of contracts.checks.strict.
  The orders the stateful phase makes are judged by `transition_legality`
  and `terminal_sticky` too.
- `lifecycle` (the probe below): a few orders walked through the lifecycle
  (paid → Issued → deleted; unpaid → Draft → confirmed; on a mock a forced
  Error → replaced → removed), polled closely, each timeline judged by
  `transition_legality`, `terminal_sticky` and `settles_within`
  (contracts.checks.lifecycle).
- `webhooks` (the same probe): a receiver (contracts.webhooks.receiver) is
  started and subscribed with `createWebhookSubscription`; every delivery is
  judged by `webhook_conformance`, and each event against getOrder at arrival
  by `webhook_matches_status` and `webhook_after_terminal`; at the end
  `webhook_once_per_settle` counts one event per background settle.
- `scenarios` (contracts.scenarios.runner): the scenario library, whose runner checks
  every order timeline with the lifecycle checks after each step.

A target with the mock's clock control (`/_mock/clock`) is warped, so the
waits cost nothing; any other target is polled on real time.

Public API: `VerifyOptions`, `verify(options) -> VerifyReport`, the exit codes
`EXIT_*`, `FAMILIES`, `CHECKS_BY_FAMILY`.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable

import requests

from contracts.verify.schemathesis_run import ALL_CHECKS, PHASES, SCHEMATHESIS_CHECKS, STRICT_CHECK_NAMES, FuzzOptions, FuzzTarget, run_fuzz
from contracts.lifecycle import load_lifecycle
from contracts.target import Target, TargetClient, TargetOptions, SubscriptionFailed, Unreachable, UsageProblem, open_target, reach
from contracts.checks.lifecycle import Observation, effective_states, settles_within, terminal_sticky, transition_legality
from contracts.spec import load_spec
from contracts.checks.strict import STRICTNESS_LEVELS, strict_violations
from contracts.checks.violations import Violation

EXIT_OK = 0
EXIT_VIOLATION = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_ERROR = 4
EXIT_CODES = {
    EXIT_OK: "every selected check passed",
    EXIT_VIOLATION: "the contract was violated: at least one check failed",
    EXIT_USAGE: "bad options, or the target rejected the API key (401) so nothing could be checked",
    EXIT_UNREACHABLE: "could not reach the target (connection refused, DNS, timeout, no HTTP answer)",
    EXIT_ERROR: "otacm verify itself failed (a bug: please report it with the output)",
}

LIFECYCLE_CHECKS = ("transition_legality", "terminal_sticky", "settles_within", "lifecycle_calls")
WEBHOOK_CHECKS = ("webhook_conformance", "webhook_matches_status", "webhook_after_terminal", "webhook_once_per_settle")
SCENARIO_CHECKS = ("scenario_steps", "transition_legality", "terminal_sticky", "webhook_conformance")
FAMILIES = ("responses", "lifecycle", "webhooks", "scenarios")
CHECKS_BY_FAMILY: dict[str, tuple[str, ...]] = {
    "responses": ALL_CHECKS + ("transition_legality", "terminal_sticky"),
    "lifecycle": LIFECYCLE_CHECKS + STRICT_CHECK_NAMES,
    "webhooks": WEBHOOK_CHECKS,
    "scenarios": SCENARIO_CHECKS,
}
KNOWN_CHECKS = tuple(dict.fromkeys(c for checks in CHECKS_BY_FAMILY.values() for c in checks))
VISIT_DAYS_AHEAD = 30


# -- options, outcomes, report -----------------------------------------------------------------
@dataclass
class VerifyOptions:
    base_url: str | None = None  # the server root; None: the embedded mock
    api_key: str | None = None
    partner_id: str | None = None
    tenant: str | None = None
    environment: str | None = None
    company: str | None = None
    strictness: str = "documented"
    checks: tuple[str, ...] = ()  # check names or family names; empty: everything
    phases: tuple[str, ...] = PHASES
    operations: tuple[str, ...] = ()  # Schemathesis: only these operationIds
    max_examples: int = 25
    max_time: float | None = 90.0  # Schemathesis' share, seconds
    seed: int | None = None
    scenarios: bool = True
    scenario_filter: str | None = None  # only scenarios whose name contains this
    webhooks: bool = True
    poll_interval: float | None = None  # default: 1 s warped, 2 s real
    settle_within: float = 10.0  # seconds after pickup (x-lifecycle's pickup interval is added)
    webhook_wait: float = 30.0  # real seconds to wait for a delivery on a target without /_mock/webhooks/wait
    request_timeout: float = 15.0
    progress: Callable[[str], None] | None = None

    def family_selected(self, family: str) -> bool:
        if family == "scenarios" and not self.scenarios:
            return False
        if family == "webhooks" and not self.webhooks:
            return False
        if not self.checks:
            return True
        return family in self.checks or any(c in CHECKS_BY_FAMILY[family] for c in self.checks)

    def check_selected(self, family: str, check: str) -> bool:
        if not self.family_selected(family):
            return False
        if not self.checks or family in self.checks:
            return True
        return check in self.checks


@dataclass
class CheckOutcome:
    """One check on one subject: passed, failed (with messages) or skipped (with the reason)."""

    family: str
    check: str
    subject: str
    status: str  # passed | failed | skipped
    messages: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # how to reproduce (curl), the statuses seen, ...
    count: int = 1  # how many times the check ran on this subject

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass
class Coverage:
    operations_total: list[str]
    operations_covered: set[str]
    responses_total: list[str]  # "operationId status" documented
    responses_covered: set[str]
    transitions_total: list[str]  # "from → to"
    transitions_covered: set[str]
    links_total: list[str]
    links_covered: set[str]

    @staticmethod
    def percent(covered: int, total: int) -> float:
        return 100.0 * covered / total if total else 100.0

    def rows(self) -> list[tuple[str, int, int, float, list[str]]]:
        """(what, covered, total, percent, missing)."""
        def row(name: str, total: list[str], covered: set[str]) -> tuple[str, int, int, float, list[str]]:
            hit = [x for x in total if x in covered]
            return name, len(hit), len(total), self.percent(len(hit), len(total)), [x for x in total if x not in covered]

        return [
            row("operations", self.operations_total, self.operations_covered),
            row("documented responses", self.responses_total, self.responses_covered),
            row("lifecycle transitions", self.transitions_total, self.transitions_covered),
            row("stateful links", self.links_total, self.links_covered),
        ]


@dataclass
class VerifyReport:
    target: str
    embedded: bool
    strictness: str
    seed: int | None
    families: list[str]
    outcomes: list[CheckOutcome]
    coverage: Coverage
    seconds: float
    warped: bool = False
    problem: str = ""  # why nothing (or not everything) could run
    exit_code: int = EXIT_OK
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    fuzz_requests: int = 0

    @property
    def failed(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if o.failed]

    def check_names(self) -> list[str]:
        return list(dict.fromkeys(o.check for o in self.outcomes))

    def by_check(self) -> dict[str, dict[str, int]]:
        table: dict[str, dict[str, int]] = {}
        for outcome in self.outcomes:
            row = table.setdefault(outcome.check, {"passed": 0, "failed": 0, "skipped": 0, "families": 0})
            row[outcome.status] += 1
        return table


# -- the target -------------------------------------------------------------------------------------
def _target_options(options: VerifyOptions) -> TargetOptions:
    return TargetOptions(options.base_url, options.api_key, options.partner_id, options.tenant,
                         options.environment, options.company, timeout=options.request_timeout)


# -- lifecycle transitions seen -----------------------------------------------------------------------
def lifecycle_edges() -> list[str]:
    lifecycle = load_lifecycle()
    edges = [f"{t.source} → {t.target}" for t in lifecycle.transitions]
    edges += [f"{t.source} → {t.target} (sync)" for t in lifecycle.sync_transitions]
    return list(dict.fromkeys(edges))


def edges_seen(observations: list[Observation], include_sync: bool = False) -> set[str]:
    """The x-lifecycle edges a timeline shows directly (a move by a call, or one background step)."""
    lifecycle = load_lifecycle()
    calls = load_spec().operations
    states = effective_states(observations, include_sync)
    seen: set[str] = set()
    previous: str | None = None
    for observation, state in zip(observations, states):
        if previous is not None:
            if observation.is_call and observation.via != "createOrder":
                for t in lifecycle.transitions:
                    if t.source == previous and t.target == state and t.trigger == observation.via:
                        seen.add(f"{t.source} → {t.target}")
            elif not observation.is_call:
                for t in lifecycle.transitions:
                    if t.source == previous and t.target == state and t.trigger not in calls:
                        seen.add(f"{t.source} → {t.target}")
        if observation.via in ("createOrder", "replaceOrder") and observation.status in lifecycle.settled:
            if include_sync:
                seen.add(f"{lifecycle.initial} → {observation.status} (sync)")
        previous = state
    return seen


# -- the lifecycle + webhook probe ---------------------------------------------------------------------
@dataclass
class _ProbeOrder:
    label: str
    body: dict[str, Any]
    prefer: str | None = None
    order_id: str = ""
    reference: str = ""
    observations: list[Observation] = field(default_factory=list)
    settles: int = 0  # background settles observed (one webhook each)
    problems: list[str] = field(default_factory=list)  # lifecycle_calls
    strict: list[Violation] = field(default_factory=list)


class _Probe:
    """Walks a few orders through the lifecycle, watching every status and webhook."""

    def __init__(self, target: Target, options: VerifyOptions, today: date, warp: bool) -> None:
        self.target, self.options, self.today, self.warp = target, options, today, warp
        self.stop = threading.Event()
        self.client = TargetClient(target, options.request_timeout, warp, self.stop)
        self.poll = options.poll_interval or (1.0 if warp else 2.0)
        self.run_id = secrets.token_hex(3).upper()
        self.receiver: Any = None
        self.subscription: str | None = None
        self._subscribed = contextlib.ExitStack()
        self.subscribe_problem = ""
        self.client_state = f"otacm-verify-{self.run_id}"
        self.statuses: dict[str, set[int]] = {}
        self.lifecycle = load_lifecycle()

    # -- HTTP --------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        if self.options.progress:
            self.options.progress(text)

    def call(self, operation_id: str, order: _ProbeOrder | None, body: Any = None, order_id: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        oid = order_id or (order.order_id if order else "")
        exchange = self.client.call(operation_id, {"orderId": oid} if oid else None, headers=headers, body=body)
        if exchange.error:
            raise Unreachable(f"{exchange.method} {exchange.url}: {exchange.error}")
        self.statuses.setdefault(operation_id, set()).add(exchange.status)
        if order is not None and self.options.strictness == "strict":
            order.strict += strict_violations(operation_id, exchange.status, exchange.response, {"orderId": oid})
        return exchange.status, exchange.response

    def observe(self, order: _ProbeOrder, via: str, status: int, document: Any) -> str | None:
        if isinstance(document, dict) and isinstance(document.get("status"), str):
            order.observations.append(Observation(document["status"], self.now(), via))
            return document["status"]
        if status == 404 and via == "getOrder":
            order.observations.append(Observation("removed", self.now(), via))
            return "removed"
        return None

    # -- time ----------------------------------------------------------------------------------
    def now(self) -> float:
        return self.client.now()

    def wait(self, seconds: float) -> None:
        self.client.wait(seconds)
        if self.warp:
            self.deliveries_idle()

    def deliveries_idle(self) -> None:
        if self.receiver is not None:
            with contextlib.suppress(requests.RequestException, RuntimeError):
                self.client.deliveries_idle(5)

    # -- webhooks ------------------------------------------------------------------------------
    def subscribe(self) -> None:
        from contracts.webhooks.receiver import WebhookReceiver

        def lookup(order_id: str) -> dict[str, Any] | None:
            exchange = TargetClient(self.target, self.options.request_timeout).call("getOrder", {"orderId": order_id})
            return exchange.response if exchange.status == 200 else None

        self.receiver = WebhookReceiver(expected_client_state=self.client_state, order_lookup=lookup,
                                        strict=self.options.strictness == "strict").start()
        try:
            self.subscription = self._subscribed.enter_context(
                self.client.subscription(self.receiver.url, self.client_state))
        except SubscriptionFailed as error:
            self.subscribe_problem = str(error)
            self.receiver.stop()
            self.receiver = None
            return
        self.statuses.setdefault("createWebhookSubscription", set()).add(201)
        self._say(f"webhooks: receiver {self.receiver.url} subscribed (subscription {self.subscription})")

    def unsubscribe(self) -> None:
        if self.subscription:
            self._subscribed.close()
            self.statuses.setdefault("deleteWebhookSubscription", set())
        if self.receiver is not None:
            self.receiver.stop()

    def events_for(self, order: _ProbeOrder) -> list[Any]:
        if self.receiver is None:
            return []
        return [e for e in self.receiver.events() if e.order_id and e.order_id.lower() == order.order_id.lower()]

    def await_events(self, order: _ProbeOrder) -> None:
        """Wait (bounded, never a sleep) until the order's settles have each had their event."""
        if self.receiver is None or order.settles == 0:
            return
        if self.warp:
            self.deliveries_idle()
            return
        deadline = time.monotonic() + self.options.webhook_wait
        while len(self.events_for(order)) < order.settles and time.monotonic() < deadline:
            self.receiver.wait_for_events(len(self.receiver.events()) + 1, timeout=deadline - time.monotonic())

    # -- orders --------------------------------------------------------------------------------
    def body(self, paid: bool) -> dict[str, Any]:
        example = None
        for where, _, value in load_spec().examples():
            if where == "createOrder request createOrder":
                example = json.loads(json.dumps(value))
        body = example or {"items": [{"itemNumber": "31001", "visitTime": "10:30:00"}]}
        body["partnerId"] = self.target.partner_id
        body["sellToOrderReference"] = f"OTACM-VF-{self.run_id}-{secrets.token_hex(2).upper()}"
        for line in body["items"]:
            line["visitDate"] = (self.today + timedelta(days=VISIT_DAYS_AHEAD)).isoformat()
        if paid:
            body["paymentReference"] = f"PAY-{self.run_id}"
        else:
            body.pop("paymentReference", None)
        return body

    def submit(self, order: _ProbeOrder, operation_id: str = "createOrder") -> bool:
        headers = {"Prefer": order.prefer} if order.prefer else None
        expected = 201 if operation_id == "createOrder" else 200
        status, document = self.call(operation_id, order if order.order_id else None, order.body,
                                     headers=headers) if operation_id == "createOrder" else \
            self.call(operation_id, order, order.body, headers=headers)
        if status != expected or not isinstance(document, dict) or "orderId" not in document:
            order.problems.append(f"{operation_id} answered {status} {json.dumps(document)[:300]}; expected {expected} "
                                  "with the order")
            return False
        if operation_id == "createOrder":
            order.order_id = str(document["orderId"])
            order.reference = str(document.get("buyFromOrderReference", ""))
            if self.options.strictness == "strict":
                order.strict += strict_violations(operation_id, status, document, {})
        self.observe(order, operation_id, status, document)
        return True

    def settle(self, orders: list[_ProbeOrder]) -> dict[str, str | None]:
        """Poll the orders together until each settled or the deadline passed; their settled statuses."""
        deadline = self.lifecycle.pickup_interval + self.options.settle_within + self.poll
        limit = deadline + 4 * self.poll + 60
        started = self.now()
        settled: dict[str, str | None] = {o.order_id: None for o in orders if o.order_id}
        while True:
            for order in orders:
                if not order.order_id or settled[order.order_id] is not None:
                    continue
                status, document = self.call("getOrder", order)
                seen = self.observe(order, "getOrder", status, document)
                if status != 200:
                    order.problems.append(f"getOrder while waiting for the settle answered {status} "
                                          f"{json.dumps(document)[:200]}")
                    settled[order.order_id] = "?"
                elif seen in self.lifecycle.settled:
                    order.settles += 1
                    settled[order.order_id] = seen
            if all(settled.values()) or self.now() - started > limit:
                return {k: (v if v != "?" else None) for k, v in settled.items()}
            self.wait(self.poll)

    def hold(self, order: _ProbeOrder, polls: int = 3) -> None:
        """Look at a settled order a few more times: it must not move without a call."""
        for _ in range(polls):
            self.wait(max(self.poll, 20.0) if self.warp else self.poll)
            status, document = self.call("getOrder", order)
            self.observe(order, "getOrder", status, document)

    def act(self, order: _ProbeOrder, operation_id: str, body: Any, expected: set[int]) -> str | None:
        self.await_events(order)
        status, document = self.call(operation_id, order, body)
        if status not in expected:
            order.problems.append(f"{operation_id} answered {status} {json.dumps(document)[:300]}; expected "
                                  f"{' or '.join(map(str, sorted(expected)))}")
        return self.observe(order, operation_id, status, document)

    def run(self) -> list[_ProbeOrder]:
        orders = [_ProbeOrder("paid order (Issued, then deleted)", self.body(paid=True)),
                  _ProbeOrder("unpaid order (Draft, then confirmed)", self.body(paid=False))]
        if self.target.is_mock:
            orders.append(_ProbeOrder("failing order (Error, replaced, removed)", self.body(paid=False),
                                      prefer='outcome=Error; message="otacm verify: forced failure"'))
        if self.options.family_selected("webhooks"):
            self.subscribe()
        try:
            for order in orders:
                if self.submit(order):
                    self._say(f"lifecycle: {order.label}: {order.order_id} submitted")
            outcomes = self.settle(orders)
            for order in orders:
                if not order.order_id:
                    continue
                settled = outcomes.get(order.order_id)
                self._say(f"lifecycle: {order.label}: {_timeline_text(order.observations)}")
                if settled == "Issued":
                    self.hold(order)
                    if self.act(order, "deleteOrder", None, {200}) == "Cancelled":
                        self.hold(order, 2)
                elif settled == "Draft":
                    self.hold(order, 1)
                    self.act(order, "confirmOrder", {"paymentReference": f"PAY-{self.run_id}"}, {200})
                    self.hold(order, 2)
                elif settled == "Error":
                    self.hold(order, 1)
                    order.prefer = None
                    self.await_events(order)
                    if self.submit(order, "replaceOrder"):
                        again = self.settle([order]).get(order.order_id)
                        if again in ("Draft", "Error"):
                            self.act(order, "deleteOrder", None, {200})
                            status, document = self.call("getOrder", order)
                            self.observe(order, "getOrder", status, document)
                self._say(f"lifecycle: {order.label}: {_timeline_text(order.observations)}")
            for order in orders:
                self.await_events(order)
        finally:
            self.unsubscribe()
        return orders


def _timeline_text(timeline: list[Observation]) -> str:
    """Statuses seen, repeats folded: `Submitted ×37 → Scheduled → Issued → Cancelled (deleteOrder)`."""
    parts: list[list[Any]] = []
    for o in timeline:
        label = o.status + (f" ({o.via})" if o.via != "getOrder" else "")
        if parts and parts[-1][0] == o.status and o.via == "getOrder":
            parts[-1][1] += 1
        else:
            parts.append([o.status, 1, label])
    return " → ".join(label + (f" ×{n}" if n > 1 else "") for _, n, label in parts)


# -- verify -----------------------------------------------------------------------------------------------
def verify(options: VerifyOptions) -> VerifyReport:
    """Run the selected families against the target; never raises for a violated contract."""
    if options.strictness not in STRICTNESS_LEVELS:
        raise ValueError(f"strictness must be one of {', '.join(STRICTNESS_LEVELS)}")
    unknown = [c for c in options.checks if c not in KNOWN_CHECKS and c not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(FAMILIES + KNOWN_CHECKS)}")
    started = time.monotonic()
    spec = load_spec()
    coverage = Coverage(
        operations_total=list(spec.operations),
        operations_covered=set(),
        responses_total=[f"{op.operation_id} {code}" for op in spec.operations.values() for code in op.status_codes],
        responses_covered=set(),
        transitions_total=lifecycle_edges(),
        transitions_covered=set(),
        links_total=[],
        links_covered=set(),
    )
    families = [f for f in FAMILIES if options.family_selected(f)]
    report = VerifyReport("the embedded mock" if not options.base_url else options.base_url, not options.base_url,
                          options.strictness, options.seed, families, [], coverage, 0.0)
    say = options.progress or (lambda text: None)
    try:
        with open_target(_target_options(options)) as target:
            embedded = not options.base_url
            report.target = f"the embedded mock ({target.base})" if embedded else target.base
            today = reach(target, options.request_timeout)
            report.warped = target.clock_control
            say(f"otacm verify: {report.target}, {options.strictness} strictness, families: {', '.join(families)}"
                + (" (warping the target's clock)" if target.clock_control else " (real time)"))
            if "responses" in families:
                _run_responses(target, options, today, report)
            if "lifecycle" in families or "webhooks" in families:
                _run_probe(target, options, today, report)
            if "scenarios" in families:
                _run_scenarios(target, options, report)
    except Unreachable as error:
        report.problem = str(error)
        report.exit_code = EXIT_UNREACHABLE
    except UsageProblem as error:
        report.problem = str(error)
        report.exit_code = EXIT_USAGE
    report.seconds = time.monotonic() - started
    if report.exit_code == EXIT_OK and report.failed:
        report.exit_code = EXIT_VIOLATION
    return report


def _run_responses(target: Target, options: VerifyOptions, today: date, report: VerifyReport) -> None:
    from contracts.verify.schemathesis_run import spec_links

    started = time.monotonic()
    wanted = [c for c in SCHEMATHESIS_CHECKS if options.check_selected("responses", c)]
    strict = [c for c in STRICT_CHECK_NAMES if options.check_selected("responses", c)] \
        if options.strictness == "strict" else []
    fuzz_options = FuzzOptions(
        phases=options.phases, checks=tuple(wanted + strict), strictness=options.strictness,
        max_examples=options.max_examples, max_time=options.max_time, seed=options.seed,
        operations=options.operations, request_timeout=options.request_timeout,
    )
    fuzz_target = FuzzTarget(target, today)
    result = run_fuzz(fuzz_target, fuzz_options, options.progress)
    report.seed = result.seed
    report.fuzz_requests = result.requests
    report.timings["responses"] = time.monotonic() - started
    if result.unreachable and not result.requests:
        raise Unreachable(f"Schemathesis could not reach {target.base}: {'; '.join(result.errors)[:500]}")
    if result.fatal:
        report.notes.append(f"Schemathesis stopped: {result.fatal}")
    for error in result.errors[:10]:
        report.notes.append(f"Schemathesis error: {error}")
    if result.stop_reason == "max_time":
        report.notes.append(f"Schemathesis stopped at --max-time {options.max_time:g} s; later phases did not all run")
    operations = options.operations or tuple(load_spec().operations)
    for check in wanted + strict:
        for operation in operations:
            tally = result.tallies.get((check, operation))
            if tally is None:
                continue
            outcome = CheckOutcome("responses", check, operation, "failed" if tally.failed else "passed",
                                   count=tally.passed + tally.failed)
            for failure in tally.failures:
                outcome.messages.append(f"[{failure.phase}] {failure.title}: {failure.message}")
                outcome.details.append(failure.reproduce)
            report.outcomes.append(outcome)
    for operation, codes in result.statuses.items():
        report.coverage.operations_covered.add(operation)
        report.coverage.responses_covered.update(f"{operation} {code}" for code in codes)
    report.coverage.links_total = spec_links()
    for link in result.links:
        source, _, rest = link.partition(" -> ")
        status, _, name = rest.partition(" -> ")[0].partition("] ")
        for candidate in report.coverage.links_total:
            op, code_and_name = candidate.split(" ", 1)
            code, _, link_name = code_and_name.partition(" → ")
            label = _label(op)
            if label == source and status.strip("[") == code and link_name == name:
                report.coverage.links_covered.add(candidate)
    # the orders the fuzzer made, judged as the lifecycle checks judge any timeline
    if result.order_observations and "stateful" in options.phases:
        timelines = {oid: [Observation(s, at, via) for at, s, via, _ in sorted(obs)]
                     for oid, obs in result.order_observations.items()}
        syncs = {oid for oid, obs in result.order_observations.items() if any(sync for *_, sync in obs)}
        for check, function in (("transition_legality", transition_legality), ("terminal_sticky", terminal_sticky)):
            if not options.check_selected("responses", check):
                continue
            violations: list[Violation] = []
            for oid, timeline in timelines.items():
                if check == "transition_legality":
                    violations += function(timeline, oid in syncs, oid)
                else:
                    violations += function(timeline, oid, oid in syncs)
            report.outcomes.append(CheckOutcome(
                "responses", check, f"orders made by the fuzzer ({len(timelines)})",
                "failed" if violations else "passed", [f"{v.where}: {v.message}" for v in violations[:10]],
                count=len(timelines)))
        if options.check_selected("responses", "ensure_resource_availability"):
            report.outcomes.append(_created_orders_available(timelines))
        for oid, timeline in timelines.items():
            report.coverage.transitions_covered |= edges_seen(timeline, oid in syncs)
    say = options.progress or (lambda text: None)
    say(f"responses: {result.requests} requests in {result.seconds:.1f} s (seed {result.seed})")


def _created_orders_available(timelines: dict[str, list[Observation]]) -> CheckOutcome:
    """`ensure_resource_availability` on the fuzzer's orders: getOrder finds what createOrder made.

    Schemathesis' own check skips requests whose parameters the run pins
    (tenant, environment, company), which is every request here; so verify
    checks the same property on the orders it saw created: a 404 from
    getOrder with no successful deleteOrder before it is a violation.
    """
    violations = []
    for order_id, timeline in timelines.items():
        deleted = False
        for observation in timeline:
            if observation.via == "deleteOrder":
                deleted = True
            if observation.status == "removed" and not deleted and timeline[0].via == "createOrder":
                violations.append(f"order {order_id}: createOrder answered 201 with it, then getOrder answered 404 "
                                  "with no deleteOrder in between (the order must be available once created)")
                break
    return CheckOutcome("responses", "ensure_resource_availability", f"orders made by the fuzzer ({len(timelines)})",
                        "failed" if violations else "passed", violations[:10], count=len(timelines))


def _label(operation_id: str) -> str:
    operation = load_spec().operations[operation_id]
    return f"{operation.method} {operation.path}"


def _run_probe(target: Target, options: VerifyOptions, today: date, report: VerifyReport) -> None:
    started = time.monotonic()
    probe = _Probe(target, options, today, warp=target.clock_control)
    orders = probe.run()
    report.timings["lifecycle+webhooks"] = time.monotonic() - started
    for operation, codes in probe.statuses.items():
        report.coverage.operations_covered.add(operation)
        report.coverage.responses_covered.update(f"{operation} {code}" for code in codes)
    lifecycle = load_lifecycle()
    deadline = lifecycle.pickup_interval + options.settle_within + probe.poll
    if options.family_selected("lifecycle"):
        for order in orders:
            subject = order.label
            timeline = order.observations
            seen = _timeline_text(timeline)
            report.coverage.transitions_covered |= edges_seen(timeline)
            rows = {
                "lifecycle_calls": [Violation("lifecycle_calls", p) for p in order.problems],
                "transition_legality": transition_legality(timeline, False, order.order_id) if timeline else [],
                "terminal_sticky": terminal_sticky(timeline, order.order_id) if timeline else [],
                "settles_within": settles_within(_first_submission(timeline), deadline, order.order_id)
                if timeline else [],
            }
            for check in STRICT_CHECK_NAMES:
                if options.strictness == "strict":
                    rows[check] = [v for v in order.strict if v.check == check]
            for check, violations in rows.items():
                if not options.check_selected("lifecycle", check):
                    continue
                report.outcomes.append(CheckOutcome(
                    "lifecycle", check, subject, "failed" if violations else "passed",
                    [f"{v.message}" + (f" (statuses seen: {seen})" if check in LIFECYCLE_CHECKS else "")
                     for v in violations[:10]],
                    [f"order {order.order_id}: {seen}"], count=max(1, len(timeline))))
    if options.family_selected("webhooks"):
        _webhook_outcomes(probe, orders, options, report)


def _first_submission(timeline: list[Observation]) -> list[Observation]:
    """The timeline up to the first settle after the create (settles_within judges the latest submission)."""
    lifecycle = load_lifecycle()
    for index, observation in enumerate(timeline):
        if observation.status in lifecycle.settled and not observation.is_call:
            return timeline[: index + 1]
    return timeline


def _webhook_outcomes(probe: _Probe, orders: list[_ProbeOrder], options: VerifyOptions, report: VerifyReport) -> None:
    from contracts.checks.webhooks import webhook_once_per_settle

    if probe.subscribe_problem or probe.receiver is None and probe.subscription is None:
        problem = probe.subscribe_problem or "no webhook receiver was subscribed"
        for check in WEBHOOK_CHECKS:
            if options.check_selected("webhooks", check):
                report.outcomes.append(CheckOutcome("webhooks", check, "subscription", "failed", [problem]))
        return
    report.coverage.operations_covered |= {"createWebhookSubscription", "deleteWebhookSubscription"}
    receiver = probe.receiver
    deliveries = receiver.deliveries()
    mine = {o.order_id.lower(): o for o in orders if o.order_id}
    for check in WEBHOOK_CHECKS:
        if not options.check_selected("webhooks", check):
            continue
        for order in orders:
            if not order.order_id:
                continue
            events = probe.events_for(order)
            if check == "webhook_once_per_settle":
                violations = webhook_once_per_settle(events, {order.order_id: order.settles}) \
                    if order.settles or events else []
            else:
                violations = [v for e in events for v in e.violations if v.check == check]
                if check == "webhook_conformance":
                    # envelope-level problems of the deliveries that carried this order's events
                    carried = {id(e.delivery): e.delivery for e in events}
                    violations += [v for d in carried.values() for v in d.violations
                                   if v.check == check and not v.where.startswith("values[")]
            report.outcomes.append(CheckOutcome(
                "webhooks", check, order.label, "failed" if violations else "passed",
                [f"{v.where}: {v.message}" for v in violations[:10]],
                [f"order {order.order_id}: {len(events)} event(s), {order.settles} background settle(s)"],
                count=max(1, len(events))))
        if check == "webhook_conformance":
            others = [d for d in deliveries if d.events and not any((e.order_id or "").lower() in mine
                                                                    for e in d.events)]
            bad = [v for d in others for v in d.violations if v.check == check]
            if others:
                report.outcomes.append(CheckOutcome(
                    "webhooks", check, "other orders' deliveries", "failed" if bad else "passed",
                    [f"{v.where}: {v.message}" for v in bad[:10]], count=len(others)))


def _run_scenarios(target: Target, options: VerifyOptions, report: VerifyReport) -> None:
    from contracts.scenarios.runner import RunOptions, ScenarioResult, run_scenarios
    from contracts.scenarios import load_library

    started = time.monotonic()
    library = load_library()
    scenarios = library.scenarios
    if options.scenario_filter:
        scenarios = [s for s in scenarios if options.scenario_filter in s.name]
    say = options.progress or (lambda text: None)

    def progress(result: ScenarioResult, position: int, total: int) -> None:
        say(f"scenarios [{position}/{total}] {result.outcome.upper():7} {result.scenario.name}")

    run_options = RunOptions(strictness=options.strictness, api_mode="async", webhooks=options.webhooks,
                             request_timeout=options.request_timeout, progress=progress)
    if options.poll_interval and not target.clock_control:
        run_options.poll_interval = options.poll_interval
    run = run_scenarios(library, target, run_options, scenarios)
    report.timings["scenarios"] = time.monotonic() - started
    lifecycle_names = {"transition_legality", "terminal_sticky"}
    webhook_names = set(WEBHOOK_CHECKS) | {"webhook"}
    for result in run.results:
        name = result.scenario.name
        for oid, timeline in result.timelines.items():
            include_sync = any(o.via in ("createOrder", "replaceOrder") and o.status in load_lifecycle().settled
                               for o in timeline)
            report.coverage.transitions_covered |= edges_seen(timeline, include_sync)
            report.coverage.operations_covered |= {o.via for o in timeline if o.via in load_spec().operations}
        rows = {"scenario_steps": [f for f in result.failures if f.check not in lifecycle_names | webhook_names],
                "transition_legality": [f for f in result.failures if f.check == "transition_legality"],
                "terminal_sticky": [f for f in result.failures if f.check == "terminal_sticky"]}
        if "webhook" in result.scenario.requires:
            rows["webhook_conformance"] = [f for f in result.failures if f.check in webhook_names]
        for check, failures in rows.items():
            if not options.check_selected("scenarios", check):
                continue
            if result.outcome == "skipped":
                status = "skipped"
            else:
                status = "failed" if failures else "passed"
            report.outcomes.append(CheckOutcome(
                "scenarios", check, name, status,
                [f.render().strip() for f in failures[:5]] if failures else ([result.reason] if result.reason else []),
                [f"{result.scenario.source}: {result.scenario.title}"]))
    say(f"scenarios: {run.summary()}")
