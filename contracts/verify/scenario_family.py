"""The scenario library as a family of a verify run: one outcome per scenario."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from contracts.lifecycle import load_lifecycle
from contracts.target import Target
from contracts.verify.options import SCENARIOS, VerifyOptions
from contracts.verify.results import Outcome

SCENARIO_CHECK = "scenario_steps"


@dataclass
class ScenarioFamily:
    outcomes: list[Outcome] = field(default_factory=list)
    timelines: list[tuple[list[Any], bool]] = field(default_factory=list)  # (observations, sync) per order
    orders: list[str] = field(default_factory=list)  # the orders the scenarios created (for the cleanup)


def run_library(target: Target, options: VerifyOptions, say: Callable[[str], None]) -> ScenarioFamily:
    from contracts.scenarios import load_library
    from contracts.scenarios.runner import RunOptions, ScenarioResult, run_scenarios

    library = load_library()
    chosen = [s for s in library.scenarios if not options.scenario_filter or options.scenario_filter in s.name]

    def progress(result: ScenarioResult, position: int, total: int) -> None:
        say(f"scenarios [{position}/{total}] {result.outcome.upper():7} {result.scenario.name}")

    run_options = RunOptions(strictness=options.strictness, api_mode="async", webhooks=options.webhooks,
                             request_timeout=options.request_timeout, progress=progress,
                             variables=dict(options.venue), webhook_host=options.webhook_host,
                             webhook_port=options.webhook_port, webhook_url=options.webhook_url)
    if options.poll_interval and not target.clock_control:
        run_options.poll_interval = options.poll_interval
    if options.quiet_window is not None:  # the run's one wait for late webhooks (contracts.scenarios.waits)
        run_options.quiet_window = options.quiet_window
    run = run_scenarios(library, target, run_options, chosen)
    say(f"scenarios: {run.summary()}")
    family = ScenarioFamily()
    settled = load_lifecycle().settled
    for result in run.results:
        messages = [f.render().strip() for f in result.failures[:5]] if result.failures else \
            ([result.reason] if result.reason else [])
        family.outcomes.append(Outcome(SCENARIOS, SCENARIO_CHECK, result.scenario.name, result.outcome, messages,
                                       [f"{result.scenario.source}: {result.scenario.title}"]))
        family.orders += [order_id for order_id, timeline in result.timelines.items()
                          if timeline and timeline[0].via == "createOrder"]
        for timeline in result.timelines.values():
            sync = any(o.via in ("createOrder", "replaceOrder") and o.status in settled for o in timeline)
            family.timelines.append((timeline, sync))
    return family
