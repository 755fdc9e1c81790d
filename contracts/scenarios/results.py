"""What a scenario run is configured with and what it gives back: options, failures, results, the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from contracts.checks.lifecycle import Observation
from contracts.scenarios import Scenario
from contracts.target import Exchange, Target

DEFAULT_POLL_INTERVAL = 10.0  # docs/001: "a polling cadence of 10–15 seconds is reasonable"
DEFAULT_DEADLINE = 180.0  # pickup every ~60 s, then a few seconds to settle
STRICTNESS = ("documented", "strict")
# Real seconds the run waits once, after every scenario finished, before it re-counts the
# webhooks of every "exactly N events" expectation: a late duplicate fails its scenario then.
DEFAULT_QUIET_WINDOW = 20.0
# Scenarios at once against a target that is not warped: all of the library (they spend
# their time waiting for pickups, so a thread each costs nothing), within a bound.
REAL_TIME_JOBS = 64


# -- options and results ----------------------------------------------------------------
@dataclass
class RunOptions:
    strictness: str = "documented"
    api_mode: str = "async"
    poll_interval: float = DEFAULT_POLL_INTERVAL
    deadline: float = DEFAULT_DEADLINE  # for waits that name no `within`
    jobs: int | None = None  # None: 1 when warping (the clock is global), else every scenario (≤ REAL_TIME_JOBS)
    warp: bool | None = None  # None: warp when the target has clock control
    webhooks: bool = True
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 0
    webhook_url: str | None = None  # the URL the target must call (default: the receiver's own)
    webhook_grace: float = 1.0  # real seconds a warped run still waits for a late delivery
    quiet_window: float = DEFAULT_QUIET_WINDOW  # see DEFAULT_QUIET_WINDOW; on a warped target, clock seconds
    variables: dict[str, Any] = field(default_factory=dict)  # the venue (load_venue); empty: the library's vars.yaml
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
    exact_counts: dict[str, "ExactCount"] = field(default_factory=dict)  # orderId → the last expect_webhook's count
    ended: float = 0.0  # time.monotonic() when its last step finished

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



@dataclass
class ExactCount:
    """An `expect_webhook` saw exactly `count` events for an order; the run re-counts them once,
    after its quiet window, so "no more events" costs one wait for the whole run."""

    count: int
    step: str  # the step's label, for the failure
    quiet: float = 0.0  # the step's `quiet`: clock seconds a warped run lets pass before re-counting


class StepFailed(Exception):
    """Ends a scenario at the failing step, carrying what went wrong."""

    def __init__(self, failures: list[Failure]) -> None:
        super().__init__(failures[0].message if failures else "")
        self.failures = failures


def human(seconds: float) -> str:
    """`90 s`, `5 min`, `1 h`: durations as failure messages show them."""
    if seconds >= 3600 and seconds % 60 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"

