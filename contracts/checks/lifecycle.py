"""Checks on what a client saw of one order's lifecycle.

A client (the scenario runner, `otacm verify`) records each status it learns
for an order as an `Observation`: the answer of a call that may move the order
(createOrder, replaceOrder, confirmOrder, deleteOrder) or a look at it
(getOrder while polling, a webhook). The checks below judge such a timeline
against the spec's `x-lifecycle` data (contracts.lifecycle) and return
`Violation`s, empty when the property holds. They are pure functions: no
HTTP, no clock, so any client can reuse them.

- `transition_legality`: every move between two observations is one the
  lifecycle allows (by the call that was made, or by background work when no
  call was made — a poller may miss states, so any background path counts).
- `terminal_sticky`: `Issued` and `Cancelled` never change without a call.
- `settles_within`: after a submission the order reached a settled status
  (Issued, Draft, Error) within a deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from contracts.checks.violations import Violation
from contracts.lifecycle import Lifecycle, load_lifecycle

# Calls whose answer carries the order's new status.
MOVING_CALLS = frozenset({"createOrder", "replaceOrder", "confirmOrder", "deleteOrder"})
SUBMITTING_CALLS = frozenset({"createOrder", "replaceOrder"})
REMOVED = "removed"  # an order getOrder no longer finds (404) after a delete removed it


@dataclass(frozen=True)
class Observation:
    """One status seen for an order.

    `status`: the `status` field seen, or `"removed"` for a 404 of an order
    known to exist. `at`: when, in seconds on the target's clock (the mock's
    warped clock or real time). `via`: the operationId whose answer showed
    it (`getOrder`, `createOrder`, ...) or `"webhook"`.
    """

    status: str
    at: float
    via: str = "getOrder"

    @property
    def is_call(self) -> bool:
        """Whether the observation is the answer of a call that may move the order."""
        return self.via in MOVING_CALLS


def _describe(observation: Observation) -> str:
    return f"{observation.status} (seen via {observation.via})"


def _after_call(
    lifecycle: Lifecycle, state: str | None, observation: Observation, include_sync: bool
) -> tuple[bool, str]:
    """Whether a call's answer is legal from `state`; and the state it leaves.

    The answer is the call's own target (createOrder: the initial state);
    only with synchronous issuance may it already be the settled state. A call answering the
    status the order already had moved nothing (confirmOrder on Issued).
    deleteOrder on a Draft/Error order answers the order after teardown
    (`Cancelled`, CONTRACT.md) while the lifecycle removes the row: the
    state left is `removed`. Background work may have moved the order since
    it was last seen, so the call may start from any state reachable from
    `state`.
    """
    seen, trigger = observation.status, observation.via
    if trigger == "createOrder":
        start = lifecycle.initial
        legal = seen == start or (include_sync and lifecycle.reachable(start, seen, include_sync))
        return legal, seen
    if state is None:  # first sight of an order created elsewhere: nothing to compare with
        return True, seen
    if seen == state and trigger != "deleteOrder":
        return True, seen
    sources = {state} | {s for s in lifecycle.states if lifecycle.reachable(state, s, include_sync)}
    targets = set().union(*(lifecycle.targets(source, trigger) for source in sources))
    if trigger == "deleteOrder":
        removing = {s for s in sources if lifecycle.targets(s, trigger) == {lifecycle.removed}}
        keeping = {s for s in sources if s not in removing}
        if seen == "Cancelled" and removing and not any(lifecycle.targets(s, trigger) for s in keeping):
            return True, lifecycle.removed
        return seen in targets or (seen == "Cancelled" and bool(removing)), seen
    # the answer is the call's target; with synchronous issuance the call may also settle the order
    legal = seen in targets or (include_sync and any(lifecycle.reachable(t, seen, include_sync) for t in targets))
    return legal, seen


def effective_states(observations: Sequence[Observation], include_sync: bool = False) -> list[str]:
    """The state each observation leaves the order in (a removing delete leaves `removed`)."""
    lifecycle = load_lifecycle()
    states: list[str] = []
    state: str | None = None
    for observation in observations:
        if observation.is_call:
            _, state = _after_call(lifecycle, state, observation, include_sync)
        else:
            state = observation.status
        states.append(state)
    return states


def transition_legality(
    observations: Sequence[Observation], include_sync: bool = False, order_id: str = ""
) -> list[Violation]:
    """Every observed move is a transition of the spec's lifecycle.

    A move seen in a call's answer must be that call's transition (e.g.
    `Draft → Issued` by confirmOrder); a move seen between looks with no call
    in between must be reachable through background transitions
    (`Submitted → Processing` skips `Scheduled`, which a poller may miss;
    `Issued → Processing` is never legal). `include_sync` admits the
    synchronous issuance of `sync=1` / the earlier API (docs/003).
    """
    lifecycle = load_lifecycle()
    where = f"order {order_id}" if order_id else "order"
    violations: list[Violation] = []
    state: str | None = None
    previous: Observation | None = None
    for observation in observations:
        if observation.is_call:
            legal, new_state = _after_call(lifecycle, state, observation, include_sync)
            if not legal:
                origin = f"from {state}" if observation.via != "createOrder" else "on submission"
                violations.append(Violation(
                    "transition_legality",
                    f"{observation.via} answered status {observation.status} {origin}, but the lifecycle has "
                    f"no such transition (allowed: {_allowed_by(lifecycle, state, observation.via)})",
                    where,
                ))
            state = new_state
        else:
            seen = observation.status
            if state is not None and seen != state:
                if state == lifecycle.removed or not lifecycle.reachable(state, seen, include_sync):
                    violations.append(Violation(
                        "transition_legality",
                        f"status went {state} → {seen} with no call in between "
                        f"(last seen {_describe(previous) if previous else state}, then {_describe(observation)}); "
                        f"the lifecycle allows from {state} only: {_background_targets(lifecycle, state, include_sync)}",
                        where,
                    ))
            state = seen
        previous = observation
    return violations


def _allowed_by(lifecycle: Lifecycle, state: str | None, trigger: str) -> str:
    if trigger == "createOrder":
        return lifecycle.initial
    targets = sorted(lifecycle.targets(state or "", trigger))
    return ", ".join(f"{state} → {t}" for t in targets) if targets else f"none from {state}"


def _background_targets(lifecycle: Lifecycle, state: str, include_sync: bool) -> str:
    reachable = sorted(s for s in lifecycle.states if s != state and lifecycle.reachable(state, s, include_sync))
    return ", ".join(reachable) if reachable else "no change (it only moves by a call)"


def terminal_sticky(
    observations: Sequence[Observation], order_id: str = "", include_sync: bool = False
) -> list[Violation]:
    """`Issued` and `Cancelled` (the lifecycle's `sticky` states) never change without a call."""
    lifecycle = load_lifecycle()
    where = f"order {order_id}" if order_id else "order"
    violations: list[Violation] = []
    states = effective_states(observations, include_sync)
    for i in range(1, len(observations)):
        before, observation = states[i - 1], observations[i]
        if observation.is_call or before not in lifecycle.sticky or observation.status == before:
            continue
        violations.append(Violation(
            "terminal_sticky",
            f"the order was {before} (seen via {observations[i - 1].via}) and then {observation.status} "
            f"(seen via {observation.via}) with no call in between; {before} only changes by a call (deleteOrder)",
            where,
        ))
    return violations


def settles_within(
    observations: Sequence[Observation], seconds: float, order_id: str = ""
) -> list[Violation]:
    """After its latest submission (createOrder/replaceOrder) the order was seen settled within `seconds`.

    Times are on the target's clock. A poller sees the settle late by up to
    its cadence, so pass a deadline that includes one polling interval.
    """
    lifecycle = load_lifecycle()
    where = f"order {order_id}" if order_id else "order"
    submitted_at: float | None = None
    settled_at: float | None = None
    for observation in observations:
        if observation.via in SUBMITTING_CALLS:
            submitted_at = observation.at
            settled_at = observation.at if observation.status in lifecycle.settled else None
        elif submitted_at is not None and settled_at is None and observation.status in lifecycle.settled:
            settled_at = observation.at
    if submitted_at is None:
        return [Violation("settles_within", "no submission (createOrder/replaceOrder) was observed", where)]
    if settled_at is None:
        last = observations[-1]
        return [Violation(
            "settles_within",
            f"expected the order to settle ({', '.join(sorted(lifecycle.settled))}) within {seconds:g} s of its "
            f"submission; after {last.at - submitted_at:g} s it was still {last.status}",
            where,
        )]
    if settled_at - submitted_at > seconds:
        return [Violation(
            "settles_within",
            f"expected the order to settle within {seconds:g} s of its submission; "
            f"it was first seen settled after {settled_at - submitted_at:g} s",
            where,
        )]
    return []


def lifecycle_violations(
    observations: Sequence[Observation], include_sync: bool = False, order_id: str = ""
) -> list[Violation]:
    """`transition_legality` and `terminal_sticky` together (what every scenario run checks)."""
    return transition_legality(observations, include_sync, order_id) + terminal_sticky(observations, order_id, include_sync)
