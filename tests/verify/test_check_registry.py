"""The check registry and the judge: one decorated function per check; nothing to judge is skipped."""

from __future__ import annotations

import pytest

from contracts.checks.registry import Finding, Registry, check
from contracts.verify.evidence import CheckContext, Evidence, OrderHistory
from contracts.verify.judge import judge, known_divergence
from contracts.verify.results import EXIT_OK, EXIT_VIOLATION, Outcome, Report


@check(family="orders", subject="order", rules=["R-TEST"])
def paid_orders_issue(ctx: CheckContext, history: OrderHistory) -> list[Finding] | None:
    """A paid order settles Issued."""
    if not history.facts.get("paid"):
        return None
    return [] if history.facts.get("settled") == "Issued" else [Finding("settled Draft")]


@check(family="orders", subject="order", rules=["R-TEST"], level="strict")
def silent_difference(ctx: CheckContext, history: OrderHistory) -> list[Finding] | None:
    """Something CONTRACT.md does not decide."""
    return [Finding("differs", warning=True)]


def context(*histories: OrderHistory) -> CheckContext:
    return CheckContext("strict", {}, Evidence(histories=list(histories)), 70.0)


def registry() -> Registry:
    return Registry([paid_orders_issue.__otacm_check__, silent_difference.__otacm_check__])


def test_nothing_to_judge_is_skipped_never_passed() -> None:
    unpaid = OrderHistory("unpaid", "unpaid order", {}, order_id="o-1", facts={"paid": False})
    outcomes = judge(registry(), context(unpaid))
    skipped = [o for o in outcomes if o.check == "paid_orders_issue"]
    assert [o.verdict for o in skipped] == ["skipped"]
    assert "nothing to judge" in skipped[0].messages[0]


def test_violations_fail_and_silence_warns() -> None:
    paid = OrderHistory("paid", "paid order", {}, order_id="o-2", facts={"paid": True, "settled": "Draft"})
    verdicts = {o.check: o.verdict for o in judge(registry(), context(paid))}
    assert verdicts == {"paid_orders_issue": "failed", "silent_difference": "warning"}


def test_selection_by_level_and_name() -> None:
    assert [c.name for c in registry().select([], "documented")] == ["paid_orders_issue"]
    assert [c.name for c in registry().select(["orders"], "strict")] == ["paid_orders_issue", "silent_difference"]
    with pytest.raises(ValueError, match="unknown check"):
        registry().select(["no_such_check"], "strict")


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ValueError, match="two checks"):
        Registry([paid_orders_issue.__otacm_check__, paid_orders_issue.__otacm_check__])


def test_known_divergences_label_matching_failures_only() -> None:
    rows = [{"case": "deleteOrder response", "checks": ["delete_answers_cancelled"], "matches": "Issued"}]
    assert "production server" in known_divergence("delete_answers_cancelled", ["answered Issued"], rows)
    assert known_divergence("delete_answers_cancelled", ["answered Draft"], rows) == ""
    assert known_divergence("other", ["answered Issued"], rows) == ""


def test_exit_code_counts_failures_and_warnings_only_when_asked() -> None:
    report = Report("t", True, "documented", [], [Outcome("f", "c", "s", "warning")])
    report.settle_exit_code()
    assert report.exit_code == EXIT_OK
    strict = Report("t", True, "documented", [], [Outcome("f", "c", "s", "warning")], fail_on_warning=True)
    strict.settle_exit_code()
    assert strict.exit_code == EXIT_VIOLATION
    with pytest.raises(ValueError):
        Outcome("f", "c", "s", "ok")
