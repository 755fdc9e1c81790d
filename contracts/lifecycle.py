"""The order lifecycle, read from the spec's `x-lifecycle` data.

The mock's state machine and the suite's `transition_legality` check both ask
this one object which moves are legal, so they can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

from contracts.spec import load_spec


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    trigger: str
    after_seconds: int | None = None
    fires_webhook: bool = False
    sync: bool = False


class Lifecycle:
    """States, transitions and timings of an order."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.states: list[str] = list(data["states"])
        self.initial: str = data["initial"]
        self.in_flight: frozenset[str] = frozenset(data["inFlight"])
        self.settled: frozenset[str] = frozenset(data["settled"])
        self.terminal: frozenset[str] = frozenset(data["terminal"])
        self.sticky: frozenset[str] = frozenset(data["sticky"])
        self.removed: str = data["removed"]
        timing = data["timing"]
        self.pickup_interval: int = timing["pickupIntervalSeconds"]
        self.scheduled_stall: int = timing["scheduledStallSeconds"]
        self.processing_stall: int = timing["processingStallSeconds"]
        self.transitions: list[Transition] = [self._transition(raw) for raw in data["transitions"]]
        self.sync_transitions: list[Transition] = [
            self._transition(raw, sync=True) for raw in data.get("syncTransitions", [])
        ]

    @staticmethod
    def _transition(raw: dict[str, Any], sync: bool = False) -> Transition:
        return Transition(
            raw["from"], raw["to"], raw["trigger"], raw.get("afterSeconds"), bool(raw.get("webhook")), sync
        )

    def allows(self, source: str, target: str, include_sync: bool = False) -> bool:
        """Whether `source → target` is a transition of the lifecycle."""
        candidates: Iterable[Transition] = self.transitions
        if include_sync:
            candidates = [*self.transitions, *self.sync_transitions]
        return any(t.source == source and t.target == target for t in candidates)

    def transition(self, source: str, target: str, trigger: str) -> Transition:
        """The transition `source → target` by `trigger`; KeyError if illegal."""
        for candidate in (*self.transitions, *self.sync_transitions):
            if (candidate.source, candidate.target, candidate.trigger) == (source, target, trigger):
                return candidate
        raise KeyError(f"{source} → {target} by {trigger} is not in x-lifecycle")

    def targets(self, source: str, trigger: str) -> set[str]:
        return {t.target for t in self.transitions if t.source == source and t.trigger == trigger}

    def sources(self, trigger: str) -> set[str]:
        """The states from which `trigger` (e.g. an operationId) is allowed."""
        return {t.source for t in (*self.transitions, *self.sync_transitions) if t.trigger == trigger}

    def illegal_steps(self, observed: list[str], include_sync: bool = False) -> list[tuple[str, str]]:
        """Consecutive pairs in an observed status sequence that the lifecycle forbids.

        Repeats (`Submitted, Submitted`) are not moves. A poller may miss
        intermediate states, so a pair is legal when some path of background
        transitions leads from the first to the second.
        """
        bad = []
        for before, after in zip(observed, observed[1:], strict=False):
            if before != after and not self.reachable(before, after, include_sync):
                bad.append((before, after))
        return bad

    def reachable(self, source: str, target: str, include_sync: bool = False) -> bool:
        """Whether `target` can follow `source` through background transitions."""
        calls = load_spec().operations
        background = [t for t in self.transitions if t.trigger not in calls]
        if include_sync:
            background += self.sync_transitions
        seen, frontier = {source}, [source]
        while frontier:
            state = frontier.pop()
            for t in background:
                if t.source == state and t.target not in seen:
                    if t.target == target:
                        return True
                    seen.add(t.target)
                    frontier.append(t.target)
        return False


@lru_cache(maxsize=1)
def load_lifecycle() -> Lifecycle:
    return Lifecycle(load_spec().document["components"]["schemas"]["OrderStatus"]["x-lifecycle"])
