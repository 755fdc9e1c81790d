"""Coverage of a verify run: operations, documented responses, lifecycle transitions, stateful links."""

from __future__ import annotations

from typing import Any

from contracts.checks.lifecycle import Observation, effective_states
from contracts.lifecycle import load_lifecycle
from contracts.spec import load_spec
from contracts.verify.results import CoverageRow


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
    for observation, state in zip(observations, states, strict=True):
        if previous is not None:
            if observation.is_call and observation.via != "createOrder":
                seen |= {f"{t.source} → {t.target}" for t in lifecycle.transitions
                         if t.source == previous and t.target == state and t.trigger == observation.via}
            elif not observation.is_call:
                seen |= {f"{t.source} → {t.target}" for t in lifecycle.transitions
                         if t.source == previous and t.target == state and t.trigger not in calls}
        if observation.via in ("createOrder", "replaceOrder") and observation.status in lifecycle.settled \
                and include_sync:
            seen.add(f"{lifecycle.initial} → {observation.status} (sync)")
        previous = state
    return seen


def spec_links() -> list[str]:
    """Every link of the spec as `<operationId> <status> → <link>` (stateful coverage's denominator)."""
    spec = load_spec()
    links = []
    for operation in spec.operations.values():
        for status, response in operation.definition.get("responses", {}).items():
            for name in spec.resolve(response).get("links", {}) or {}:
                links.append(f"{operation.operation_id} {status} → {name}")
    return links


def coverage_rows(fuzz: Any, evidence: Any, scenarios: Any) -> list[CoverageRow]:
    """What the run exercised, from the fuzzer's statuses, the probe's exchanges and the scenarios' timelines."""
    spec = load_spec()
    operations = CoverageRow("operations", list(spec.operations))
    responses = CoverageRow("documented responses", [f"{op.operation_id} {code}" for op in spec.operations.values()
                                                      for code in op.status_codes])
    transitions = CoverageRow("lifecycle transitions", lifecycle_edges())
    links = CoverageRow("stateful links", spec_links() if fuzz is not None else [])
    seen_statuses: dict[str, set[int]] = {op: set(codes) for op, codes in (fuzz.statuses.items() if fuzz else [])}
    if evidence is not None:
        for exchange in evidence.all_exchanges():
            if exchange.operation and exchange.status is not None:
                seen_statuses.setdefault(exchange.operation, set()).add(exchange.status)
        for history in evidence.histories:
            transitions.covered |= edges_seen(history.observations, history.sync)
    for timeline, sync in (scenarios.timelines if scenarios is not None else []):
        transitions.covered |= edges_seen(timeline, sync)
        operations.covered |= {o.via for o in timeline if o.via in spec.operations}
    for operation, codes in seen_statuses.items():
        operations.covered.add(operation)
        responses.covered |= {f"{operation} {code}" for code in codes}
    if fuzz is not None:
        links.covered = {link for link in links.total if _followed(link, fuzz.links)}
    return [row for row in (operations, responses, transitions, links) if row.total]


def _followed(link: str, followed: set[str]) -> bool:
    """Whether Schemathesis followed a spec link; its transition ids read `METHOD path -> [status] name -> ...`."""
    operation, rest = link.split(" ", 1)
    status, _, name = rest.partition(" → ")
    definition = load_spec().operations[operation]
    label = f"{definition.method} {definition.path}"
    for transition in followed:
        source, _, after = transition.partition(" -> ")
        code, _, link_name = after.partition(" -> ")[0].partition("] ")
        if source == label and code.strip("[") == status and link_name == name:
            return True
    return False
