"""Run scenarios (contracts.scenarios) against the embedded mock or any base URL.

Against a target that offers the mock's clock control (`/_mock/clock`) every
wait warps time: the runner polls, then advances the clock by the polling
interval, so an hour of background work costs milliseconds. Against a real
implementation it polls on real time at the configured cadence (default 10 s,
as docs/001 advises) up to each wait's deadline, running every scenario at
once (their time goes into waiting for pickups); webhook counts are re-checked
once for the whole run after a single quiet window (contracts.scenarios.waits).

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
from dataclasses import replace
from typing import Any, Mapping, Sequence

from contracts.scenarios import Library, Scenario
from contracts.scenarios.loader import facts_needed
from contracts.scenarios.model import TARGET_FACTS
from contracts.scenarios.results import (
    DEFAULT_DEADLINE,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_QUIET_WINDOW,
    REAL_TIME_JOBS,
    STRICTNESS,
    Failure,
    RunOptions,
    RunReport,
    ScenarioResult,
)
from contracts.scenarios.steps import ScenarioRun
from contracts.scenarios.waits import recheck_counts
from contracts.target import SubscriptionFailed, Target, TargetClient

__all__ = ["DEFAULT_DEADLINE", "DEFAULT_POLL_INTERVAL", "DEFAULT_QUIET_WINDOW", "Failure", "RunOptions", "RunReport", "Runner",
           "ScenarioResult", "ScenarioRun", "missing_facts_reason", "run_scenarios", "select",
           "skip_reason"]


# -- selection ------------------------------------------------------------------------------
def skip_reason(scenario: Scenario, target: Target, options: RunOptions, warp: bool,
                venue: Mapping[str, Any] | None = None) -> str:
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
    return missing_facts_reason(scenario.needs, venue) if venue is not None else ""


def missing_facts_reason(needs: Sequence[str], venue: Mapping[str, Any]) -> str:
    """`the venue has no group_item (...)` when a needed fact is absent or null; "" when all are there.
    A venue without, say, group tickets cannot show how they issue: that is a skip, not a failure."""
    missing = [name for name in needs if venue.get(name) is None]
    if not missing:
        return ""
    also = f"; also missing: {', '.join(missing[1:])}" if missing[1:] else ""
    where = f"{TARGET_FACTS[missing[0]]} or --var" if missing[0] in TARGET_FACTS else "--var"
    return f"the venue has no {missing[0]} (set it with {where} {missing[0]}=... or in --vars FILE{also})"


def select(scenarios: Sequence[Scenario], api_mode: str) -> tuple[list[Scenario], int]:
    """The scenarios of this API mode, and how many belong to the other mode only."""
    chosen = [s for s in scenarios if api_mode in s.modes]
    return chosen, len(scenarios) - len(chosen)


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
        self.subscription_id = ""

    def venue(self) -> dict[str, Any]:
        """The venue facts: the options' (a whole venue, as `load_venue` gives it), else the library's
        vars.yaml. They replace rather than overlay vars.yaml, so a fact the venue left out stays out
        (and the scenarios needing it are skipped); a fact set to null is one the venue does not have."""
        merged = {"other_partner_id": self.target.other_partner_id or None,
                  **(self.options.variables or self.library.variables)}
        return {name: value for name, value in merged.items() if value is not None}

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
            self.subscription_id = self._subscription.enter_context(
                self.client.subscription(self.webhook_url, client_state))
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

        venue = self.venue()

        def one(index: int, scenario: Scenario) -> None:
            needs = facts_needed(scenario, self.library.fixtures)
            reason = skip_reason(replace(scenario, needs=needs), self.target, self.options, self.warp, venue)
            result = ScenarioResult(scenario, "skipped", reason) if reason else ScenarioRun(self, scenario).run()
            with self._lock:
                results[index] = result
                done[0] += 1
                position = done[0]
            if self.options.progress:
                self.options.progress(result, position, total)

        jobs = self.options.jobs or (1 if self.warp else min(max(total, 1), REAL_TIME_JOBS))
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
            recheck_counts(self, [r for r in results if r is not None])
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

