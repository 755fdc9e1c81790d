"""`otacm verify`: one run that gates a deployment on the API contract.

Data flows one way: options → the target (contracts.target) → three sources
of evidence, run concurrently on a real-time target (one after the other on a
warpable mock, whose clock is global):
- `responses`: Schemathesis on the spec (contracts.verify.schemathesis_run);
- the lifecycle probe (contracts.verify.probe): documented flows driven
  against the target, judged by every selected registered check
  (contracts.checks, through contracts.verify.judge);
- `scenarios`: the YAML library (contracts.scenarios).
→ one `Report` (contracts.verify.results) → the writers (contracts.reports).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from contracts.checks.lifecycle import Observation, terminal_sticky, transition_legality
from contracts.checks.registry import Registry
from contracts.lifecycle import load_lifecycle
from contracts.target import Target, TargetOptions, Unreachable, UsageProblem, open_target, reach
from contracts.target.cleanup import Created, clean_up
from contracts.verify.coverage import coverage_rows
from contracts.verify.evidence import CheckContext, Evidence
from contracts.verify.judge import judge
from contracts.verify.options import RESPONSES, SCENARIOS, STRICTNESS_LEVELS, VerifyOptions
from contracts.verify.results import EXIT_UNREACHABLE, EXIT_USAGE, Outcome, Report
from contracts.verify.rules import load_divergences
from contracts.verify.scenario_family import SCENARIO_CHECK
from contracts.verify.schemathesis_run import SCHEMATHESIS_CHECKS, FuzzOptions, FuzzResult, FuzzTarget, SchemathesisRun
from contracts.webhooks.router import WebhookRouter

SANDBOX_KEY = "otacm-sandbox-key"  # the mock's public key (mockserver/data/defaults.yaml)


def selection(options: VerifyOptions, registry: Registry) -> Registry:
    """The registry checks this run asserts; raises ValueError naming unknown checks."""
    others = set(SCHEMATHESIS_CHECKS) | {RESPONSES, SCENARIOS, SCENARIO_CHECK}
    known = others | {c.name for c in registry} | set(registry.families)
    unknown = [c for c in options.checks if c not in known]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; `otacm verify --list-checks` lists them")
    asked = [c for c in options.checks if c not in others]
    if options.checks and not asked:
        return Registry()
    return registry.select(asked, options.strictness)


def all_check_names() -> list[tuple[str, str, str]]:
    """(family, check, level) of everything --checks accepts."""
    rows = [(RESPONSES, name, "documented") for name in SCHEMATHESIS_CHECKS]
    rows += [(c.family, c.name, c.level) for c in Registry.collect()]
    rows.append((SCENARIOS, SCENARIO_CHECK, "documented"))
    return rows


def verify(options: VerifyOptions, registry: Registry | None = None) -> Report:
    """Run what the options select against the target; never raises for a violated contract."""
    if options.strictness not in STRICTNESS_LEVELS:
        raise ValueError(f"strictness must be one of {', '.join(STRICTNESS_LEVELS)}")
    checks = selection(options, registry or Registry.collect())
    run = _Run(options, checks)
    report = run.report
    started = time.monotonic()
    try:
        target_options = TargetOptions(options.base_url, options.api_key, options.partner_id, options.tenant,
                                       options.environment, options.company, options.other_api_key,
                                       options.other_partner_id, timeout=options.request_timeout)
        with open_target(target_options) as target:
            run.against(target)
    except Unreachable as error:
        report.problem, report.exit_code = str(error), EXIT_UNREACHABLE
    except UsageProblem as error:
        report.problem, report.exit_code = str(error), EXIT_USAGE
    report.seconds = time.monotonic() - started
    report.settle_exit_code()
    return report


class _Run:
    """One verify run: its options, its selected checks, what it found."""

    def __init__(self, options: VerifyOptions, checks: Registry) -> None:
        self.options, self.checks = options, checks
        families = [RESPONSES] if options.wants(RESPONSES, SCHEMATHESIS_CHECKS) else []
        families += checks.families
        families += [SCENARIOS] if options.wants(SCENARIOS, (SCENARIO_CHECK,)) else []
        self.report = Report("the embedded mock" if not options.base_url else options.base_url,
                             not options.base_url, options.strictness, families,
                             fail_on_warning=options.fail_on_warning)
        self.fuzz: FuzzResult | None = None
        self.evidence: Evidence | None = None
        self.scenarios: Any = None
        self.client_state = ""
        self.router: WebhookRouter | None = None
        self.lock = threading.Lock()

    def say(self, text: str) -> None:
        if self.options.progress:
            with self.lock:
                self.options.progress(text)

    def against(self, target: Target) -> None:
        today = reach(target, self.options.request_timeout)
        self.report.target = f"the embedded mock ({target.base})" if self.report.embedded else target.base
        self.report.warped = target.clock_control
        if self.report.embedded or target.api_key == SANDBOX_KEY:
            self.report.sandbox_key = target.api_key  # public: the mock prints it in its banner
        self.say(f"otacm verify: {self.report.target}, {self.options.strictness} strictness, "
                 f"families: {', '.join(self.report.families)}"
                 + (" (warping the target's clock)" if target.clock_control else " (real time)"))
        jobs: list[tuple[str, Callable[[], None]]] = []
        if RESPONSES in self.report.families:
            jobs.append((RESPONSES, lambda: self._responses(target, today)))
        if len(self.checks):
            jobs.append(("probe", lambda: self._probe(target, today)))
        if SCENARIOS in self.report.families:
            jobs.append((SCENARIOS, lambda: self._scenarios(target)))
        with contextlib.ExitStack() as stack:
            self.router = self._router(stack)
            self._run_jobs(jobs, concurrently=not target.clock_control)
        self._collect(target)
        self.report.notes += webhook_notes(self.evidence, self.report.families)
        self._clean_up(target)

    def _router(self, stack: contextlib.ExitStack) -> WebhookRouter | None:
        """With a receiver address given (--webhook-host/-port/-url): one listener for the probe and the
        scenarios, each behind its own path; the target is told to call --webhook-url (a tunnel) or it."""
        if not (self.options.webhooks and self.options.routed_webhooks):
            return None
        router = WebhookRouter(self.options.webhook_host, self.options.webhook_port, self.options.webhook_url,
                               ("probe", "scenarios"))
        try:
            router.start()
        except OSError as error:
            raise UsageProblem(f"the webhook receiver cannot listen on {self.options.webhook_host}:"
                               f"{self.options.webhook_port} (--webhook-host/--webhook-port): {error}") from None
        stack.callback(router.stop)
        self.say(f"webhooks: listening on {router.host}:{router.port}; the target is told to call "
                 f"{router.url('probe')} and {router.url('scenarios')}")
        return router

    def _receiver(self, route: str) -> dict[str, Any]:
        """Where one receiver binds and what the target calls for it."""
        if self.router is None:
            return {"webhook_host": "127.0.0.1", "webhook_port": 0, "webhook_url": None}
        return {"webhook_host": "127.0.0.1", "webhook_port": self.router.routes[route],
                "webhook_url": self.router.url(route)}

    def _clean_up(self, target: Target) -> None:
        """After judging: delete the settled orders the run made (probe, fuzzer, scenarios) and the fuzzer's
        subscriptions; nothing of it goes into the evidence."""
        created = Created()
        if self.evidence is not None:
            for history in self.evidence.histories:
                created.add_order(history.order_id)
            created.add_exchanges(self.evidence.exchanges)
        if self.fuzz is not None:
            created.add_timelines(self.fuzz.order_observations)
            created.add_exchanges(self.fuzz.exchanges)
        if self.scenarios is not None:
            for order_id in self.scenarios.orders:
                created.add_order(order_id)
        cleanup = clean_up(target, created, self.options.keep_orders, self.options.request_timeout)
        self.report.notes.append(cleanup.summary())
        self.say(cleanup.summary())

    def _run_jobs(self, jobs: list[tuple[str, Callable[[], None]]], concurrently: bool) -> None:
        """Each job timed; on a real-time target all at once, so the waits overlap."""
        errors: list[BaseException] = []

        def timed(name: str, job: Callable[[], None]) -> None:
            started = time.monotonic()
            try:
                job()
            except BaseException as error:  # noqa: BLE001 — re-raised in the calling thread
                errors.append(error)
            self.report.timings[name] = time.monotonic() - started

        if not concurrently:
            for name, job in jobs:
                timed(name, job)
        else:
            threads = [threading.Thread(target=timed, args=job, name=f"otacm-verify-{job[0]}") for job in jobs]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]

    # -- the three sources ------------------------------------------------------------------------
    def _responses(self, target: Target, today: date) -> None:
        wanted = tuple(c for c in SCHEMATHESIS_CHECKS if not self.options.checks or c in self.options.checks
                       or RESPONSES in self.options.checks) or SCHEMATHESIS_CHECKS
        venue = self.options.venue
        fuzz_target = FuzzTarget(target, today, str(venue.get("individual_item") or "31001"),
                                 str(venue.get("individual_time") or "10:30:00"))
        fuzz_options = FuzzOptions(self.options.phases, wanted, self.options.strictness, self.options.max_examples,
                                   self.options.max_time, self.options.seed, self.options.operations,
                                   self.options.request_timeout)
        self.fuzz = SchemathesisRun(fuzz_target, fuzz_options, self.say).run()
        if self.fuzz.unreachable and not self.fuzz.requests:
            raise Unreachable(f"Schemathesis could not reach {target.base}: {'; '.join(self.fuzz.errors)[:500]}")
        self.say(f"responses: {self.fuzz.requests} requests in {self.fuzz.seconds:.1f} s (seed {self.fuzz.seed})")

    def _probe(self, target: Target, today: date) -> None:
        from contracts.verify.probe import Probe

        warp = target.clock_control
        poll = self.options.poll_interval or (1.0 if warp else 2.0)
        probe = Probe(target, self.options.venue, strictness=self.options.strictness, today=today, poll=poll,
                      close_poll=self.options.close_poll, timeout=self.options.request_timeout,
                      webhooks=self.options.webhooks, settle_timeout=self.settle_deadline() + poll + 30.0,
                      quiet_window=self.options.quiet_window if self.options.quiet_window is not None
                      else (0.0 if warp else 20.0), progress=self.say, **self._receiver("probe"))
        self.evidence = probe.run()
        self.client_state = probe.client_state

    def settle_deadline(self) -> float:
        """settles_within's bound: the pickup interval, the settle time and one poll after a submission."""
        pickup = self.options.pickup_interval or load_lifecycle().pickup_interval
        return pickup + self.options.settle_within + (self.options.poll_interval or 2.0)

    def _scenarios(self, target: Target) -> None:
        from contracts.verify.scenario_family import run_library

        self.scenarios = run_library(target, dataclasses.replace(self.options, **self._receiver("scenarios")),
                                     self.say)

    # -- into the report --------------------------------------------------------------------------
    def _collect(self, target: Target) -> None:
        report = self.report
        if self.fuzz is not None:
            report.seed, report.requests = self.fuzz.seed, self.fuzz.requests
            report.outcomes += _fuzz_outcomes(self.fuzz, self.options)
            report.notes += _fuzz_notes(self.fuzz, self.options)
        if self.evidence is not None:
            if self.fuzz is not None:
                self.evidence.exchanges += self.fuzz.exchanges
            ctx = CheckContext(self.options.strictness, self.options.venue, self.evidence, self.settle_deadline(),
                               self.client_state)
            report.outcomes += judge(self.checks, ctx, load_divergences())
        if self.scenarios is not None:
            report.outcomes += self.scenarios.outcomes
        report.coverage = coverage_rows(self.fuzz, self.evidence, self.scenarios)


def webhook_notes(evidence: Evidence | None, families: list[str]) -> list[str]:
    """One prominent line when the webhook half was not verified, and why (the terminal shows it in bold)."""
    if evidence is None or "webhooks" not in families:
        return []
    hint = "pass --webhook-url URL (a tunnel or runner port the target can reach, with --webhook-host/--webhook-port)"
    if evidence.webhook_problem:
        return [f"webhooks NOT verified: {evidence.webhook_problem}; the webhook checks are skipped"
                + ("" if evidence.webhook_problem.startswith("--no-webhooks") else f"; {hint}")]
    settles = sum(h.background_settles for h in evidence.histories)
    if settles and not evidence.deliveries:
        return [(f"webhooks: no delivery arrived although {settles} order settle(s) should each have sent one; "
                 f"if the target cannot reach this machine, {hint}")]
    return []


def _fuzz_outcomes(fuzz: FuzzResult, options: VerifyOptions) -> list[Outcome]:
    outcomes = []
    for (check, operation), tally in fuzz.tallies.items():
        total = tally.passed + tally.failed + tally.warned
        verdict = "failed" if tally.failed else "warning" if tally.warned else "passed"
        outcome = Outcome(RESPONSES, check, operation, verdict, count=total)
        for failure in tally.failures:
            if verdict == "passed" or (verdict == "failed") != (failure.verdict == "failed"):
                continue
            outcome.messages.append(f"[{failure.phase}] {failure.title}: {failure.message}")
            outcome.details.append(failure.reproduce)
        outcomes.append(outcome)
    if "stateful" in options.phases and fuzz.order_observations:
        outcomes += _fuzzed_orders(fuzz)
    return outcomes


def _fuzzed_orders(fuzz: FuzzResult) -> list[Outcome]:
    """The orders the fuzzer made, judged as the lifecycle checks judge any timeline."""
    violations: dict[str, list[str]] = {"transition_legality": [], "terminal_sticky": [],
                                        "ensure_resource_availability": []}
    for order_id, seen in fuzz.order_observations.items():
        timeline = [Observation(status, at, via) for at, status, via, _ in sorted(seen)]
        sync = any(s for *_, s in seen)
        violations["transition_legality"] += [v.message for v in transition_legality(timeline, sync, order_id)]
        violations["terminal_sticky"] += [v.message for v in terminal_sticky(timeline, order_id, sync)]
        violations["ensure_resource_availability"] += _vanished(order_id, timeline)
    subject = f"orders made by the fuzzer ({len(fuzz.order_observations)})"
    return [Outcome(RESPONSES, check, subject, "failed" if found else "passed", found[:10],
                    count=len(fuzz.order_observations)) for check, found in violations.items()]


def _vanished(order_id: str, timeline: list[Observation]) -> list[str]:
    """`ensure_resource_availability` on the fuzzer's orders: getOrder finds what createOrder made.

    Schemathesis' own check skips requests whose parameters the run pins (tenant,
    environment, company: every request here), so the property is judged on the
    timelines: a 404 from getOrder with no deleteOrder before it is a violation.
    """
    if not timeline or timeline[0].via != "createOrder":
        return []
    for observation in timeline:
        if observation.via == "deleteOrder":
            return []
        if observation.status == "removed":
            return [f"order {order_id}: createOrder answered 201 with it, then getOrder answered 404 with no "
                    "deleteOrder in between (an order must be available once created)"]
    return []


def _fuzz_notes(fuzz: FuzzResult, options: VerifyOptions) -> list[str]:
    notes = [f"Schemathesis stopped: {fuzz.fatal}"] if fuzz.fatal else []
    notes += [f"Schemathesis error: {error}" for error in fuzz.errors[:10]]
    if fuzz.stop_reason == "max_time":
        notes.append(f"Schemathesis stopped at --max-time {options.max_time:g} s; later phases did not all run")
    return notes

