"""What a scenario's steps and waits need from the run around them, as protocols.

`runner.py` builds `ScenarioRun`s (steps.py) and re-counts webhooks after them
(waits.py); steps call waits. Naming the concrete `Runner` and `ScenarioRun`
classes back in those modules made an import cycle (runner → steps → runner,
waits → steps). These protocols say only what is used, so steps and waits
depend on this module and never on the modules that use them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol

from contracts.scenarios import Library, Step
from contracts.scenarios.results import ExactCount, Failure, RunOptions
from contracts.target import Exchange, Target, TargetClient


class RunContext(Protocol):
    """The whole run (runner.Runner): target, options, the shared receiver and numbering."""

    library: Library
    target: Target
    options: RunOptions
    warp: bool
    stop: threading.Event
    client: TargetClient
    run_id: str
    webhook_url: str
    subscription_id: str  # the receiver's subscription on the target ("" until subscribed)

    def webhooks(self) -> Any:
        """The run's receiver, or a string saying why there is none."""

    def venue(self) -> dict[str, Any]:
        """The venue facts the scenarios see."""

    def next_number(self) -> int:
        """A number unique in the run (for references)."""


class StepContext(Protocol):
    """One scenario's execution (steps.ScenarioRun), as an `expect_webhook` step uses it."""

    runner: RunContext
    options: RunOptions
    client: TargetClient
    variables: dict[str, Any]
    references: dict[str, str]
    exact_counts: dict[str, ExactCount]

    def request(self, operation_id: str, params: Mapping[str, Any], query: Mapping[str, Any] | None = None,
                headers: Mapping[str, Any] | None = None, body: Any = None, auth: str = "default") -> Exchange:
        """Call an operation on the target."""

    def _observe_call(self, operation_id: str, params: Mapping[str, Any], exchange: Exchange) -> None:
        """Record the statuses an answer shows."""

    def _document(self, body: Any) -> Any:
        """The document a step's `expect` is matched against."""

    def _check_fields(self, expect: Any, label: str, document: Any, exchange: Exchange | None) -> list[Failure]:
        """The step's field expectations against `document`."""

    def _save(self, step: Step, label: str, document: Any, exchange: Exchange | None) -> None:
        """Keep the step's `save` values as variables."""
