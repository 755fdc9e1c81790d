"""Judging what a run saw: every selected registered check over its subjects, into outcomes.

A check that returned `None` for every subject had nothing to judge: its
outcome is `skipped` with that reason, never `passed`. Findings marked
`warning` (where CONTRACT.md is silent) make a `warning` outcome unless a
real violation is among them. A failure that matches a row of CONTRACT.md's
"Known divergences" is labelled with it.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from contracts.checks.registry import Check, Finding, Registry
from contracts.verify.evidence import CheckContext, Evidence
from contracts.verify.results import Outcome

MAX_MESSAGES = 10


def judge(registry: Registry, ctx: CheckContext, divergences: Iterable[dict[str, Any]] = ()) -> list[Outcome]:
    """One outcome per check and subject, in registry order."""
    outcomes: list[Outcome] = []
    rows = list(divergences)
    for item in registry:
        found = list(_subjects(item, ctx.evidence))
        results = [(label, item(ctx, subject)) for label, subject in found]
        judged = [(label, findings) for label, findings in results if findings is not None]
        if not judged:
            outcomes.append(Outcome(item.family, item.name, "(nothing to judge)", "skipped",
                                    [_nothing_to_judge(item, ctx.evidence, len(found))], rules=item.rules))
            continue
        for label, findings in _grouped(item, judged):
            outcomes.append(_outcome(item, label, findings, rows))
    return outcomes


def _subjects(item: Check, evidence: Evidence) -> Iterable[tuple[str, Any]]:
    if item.subject == "order":
        return ((h.label, h) for h in evidence.histories if h.order_id)
    if item.subject == "exchange":
        return ((e.operation or f"{e.method} {e.url}", e) for e in evidence.all_exchanges())
    if item.subject == "delivery":
        return ((f"delivery #{d.sequence}", d) for d in evidence.deliveries)
    return [("the run", evidence)]


def _grouped(item: Check, judged: list[tuple[str, list[Finding]]]) -> list[tuple[str, list[Finding]]]:
    """Exchange and delivery checks report one outcome per operation (or for all deliveries)."""
    if item.subject not in ("exchange", "delivery"):
        return judged
    groups: dict[str, list[Finding]] = {}
    for label, findings in judged:
        key = label if item.subject == "exchange" else "webhook deliveries"
        groups.setdefault(key, []).extend(findings)
    return list(groups.items())


def _outcome(item: Check, label: str, findings: list[Finding], divergences: list[dict[str, Any]]) -> Outcome:
    violations = [f for f in findings if not f.warning]
    shown = violations or findings
    verdict = "failed" if violations else ("warning" if findings else "passed")
    outcome = Outcome(item.family, item.name, label, verdict,
                      [(f"{f.where}: " if f.where else "") + f.message for f in shown[:MAX_MESSAGES]],
                      [d for f in shown[:3] for d in f.details], rules=item.rules)
    if verdict == "failed":
        outcome.divergence = known_divergence(item.name, outcome.messages, divergences)
    return outcome


def known_divergence(check: str, messages: list[str], divergences: list[dict[str, Any]]) -> str:
    """The Known divergences row a failure matches ("" if none): same check, message matching its pattern."""
    for row in divergences:
        if check in row.get("checks", []) and any(re.search(row.get("matches", "."), m) for m in messages):
            return f"known divergence: the production server is known to do this ({row['case']})"
    return ""


def _nothing_to_judge(item: Check, evidence: Evidence, subjects: int) -> str:
    if item.subject == "delivery" and not evidence.deliveries:
        return "nothing to judge: no webhook delivery arrived" + (f" ({evidence.webhook_problem})"
                                                                  if evidence.webhook_problem else "")
    what = {"order": "order", "exchange": "call", "delivery": "delivery", "run": "run"}[item.subject]
    return f"nothing to judge: none of the {subjects} {what}(s) of this run showed the situation {item.name} judges"
