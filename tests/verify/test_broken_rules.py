"""Every documented rule has a check, and a broken target on which that check fails in real time.

The breaks of test_probe_broken.BREAKS cover the rules of their checks; the
rest are tests/broken_rules.RULE_BREAKS, one per rule. Each runs on the
real-time mock (no /_mock/, pickups every half second) with the probe, and
the named check alone must fail: RULE_BREAKS here, and the BREAKS that
test_probe_broken runs only on the warped mock (its REAL_TIME ones it runs
in real time itself). The clean real-time mock must pass every check these
tables name, with no failure and no warning at either level.
"""

from __future__ import annotations

from typing import Any

import pytest

from broken_rules import PART_BREAKS, RULE_BREAKS, Break
from realtime_targets import realtime_mock
from test_probe_broken import BREAKS, REAL_TIME as PROBE_REAL_TIME, VENUE, judged, target_of
from contracts.checks.registry import Registry
from contracts.target import reach
from contracts.verify.evidence import CheckContext
from contracts.verify.judge import judge
from contracts.verify.probe import Probe
from contracts.verify.rules import load_rules, rule_table
from mockserver.server import MockServer

REAL_TIME = {"poll": 0.2, "close_poll": 0.05, "settle_timeout": 10.0, "quiet_window": 2.0}
SETTLE_DEADLINE = 5.5  # as judged(): a pickup interval of the real-time mock plus five seconds
# the checks that count events after the quiet window; the others judge without waiting it
COUNTING_EVENTS = frozenset({"webhook_once_per_settle", "no_webhook_on_confirm_or_delete", "no_webhook_on_sync"})
WARPED_ONLY = sorted(set(BREAKS) - set(PROBE_REAL_TIME))


def broken_targets() -> list[tuple[str, str]]:
    """(check, level) of every broken target: BREAKS and RULE_BREAKS."""
    return [(name, level) for name, level, _ in [*BREAKS.values(), *RULE_BREAKS.values()]]


def _shown(outcomes: list[Any]) -> list[tuple[str, str, list[str]]]:
    return [(o.verdict, o.subject, o.messages[:3]) for o in outcomes]


def _fails_in_real_time(name: str, level: str, apply: Break) -> None:
    timing = REAL_TIME if name in COUNTING_EVENTS else {**REAL_TIME, "quiet_window": 0.0}
    with realtime_mock(apply) as server:
        outcomes = judged(server, name, level, **timing)
    assert "failed" in {o.verdict for o in outcomes}, _shown(outcomes)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("rule", sorted(RULE_BREAKS))
def test_the_broken_rule_fails_its_check_in_real_time(rule: str) -> None:
    _fails_in_real_time(*RULE_BREAKS[rule])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("part", sorted(PART_BREAKS))
def test_a_broken_part_of_a_rule_fails_its_check_in_real_time(part: str) -> None:
    _fails_in_real_time(*PART_BREAKS[part])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", WARPED_ONLY)
def test_a_warped_break_fails_its_check_in_real_time_too(case: str) -> None:
    """test_probe_broken runs these on the warped mock only; the rules they cover must fail in real time too."""
    _fails_in_real_time(*BREAKS[case])


def test_every_rule_has_a_check_and_a_broken_target() -> None:
    registry = Registry.collect()
    broken = {name for name, _ in broken_targets()}
    unchecked = [row.rule.id for row in rule_table(registry) if not row.checks]
    unbroken = [row.rule.id for row in rule_table(registry) if row.checks and not broken & set(row.checks)]
    assert not unchecked, f"rules no registered check names: {unchecked}"
    assert not unbroken, f"rules without a broken target failing one of their checks: {unbroken}"


def _broken_target_tests() -> dict[str, str]:
    """Every real-time broken-target test id this suite runs, with the check it makes fail."""
    here, probe = "tests/verify/test_broken_rules.py", "tests/verify/test_probe_broken.py"
    ids = {f"{here}::test_the_broken_rule_fails_its_check_in_real_time[{rule}]": RULE_BREAKS[rule][0]
           for rule in RULE_BREAKS}
    ids |= {f"{here}::test_a_warped_break_fails_its_check_in_real_time_too[{case}]": BREAKS[case][0]
            for case in WARPED_ONLY}
    ids |= {f"{probe}::test_the_break_fails_its_check_in_real_time[{case}]": BREAKS[case][0]
            for case in PROBE_REAL_TIME}
    return ids


def test_the_rule_list_names_a_real_broken_target_test_of_each_rule() -> None:
    """`otacm verify --list-rules` prints each rule's test (rules.yaml `test:`): it runs, and breaks a check of the rule."""
    tests, registry = _broken_target_tests(), Registry.collect()
    wrong = [(row.rule.id, row.rule.test) for row in rule_table(registry)
             if row.rule.test not in tests or tests[row.rule.test] not in row.checks]
    assert not wrong, f"rules.yaml names no broken-target test (or one of another rule's check) for: {wrong}"


def test_each_rule_break_names_a_check_of_its_rule_at_the_rule_level() -> None:
    registry, rules = Registry.collect(), {r.id: r for r in load_rules()}
    parts = [(part.split(":")[0], entry) for part, entry in PART_BREAKS.items()]
    for rule, (name, level, _) in [*RULE_BREAKS.items(), *parts]:
        assert rule in rules, f"{rule} is not in rules.yaml"
        assert rule in registry.get(name).rules, f"{name} does not assert {rule}"
        assert level == rules[rule].level or registry.get(name).level == "strict", (rule, level)


def _probe(server: MockServer, level: str) -> tuple[Any, str]:
    target = target_of(server)
    made = Probe(target, VENUE, strictness=level, today=reach(target), timeout=15.0, webhooks=True, **REAL_TIME)
    return made.run(), made.client_state


@pytest.mark.timeout(60)
@pytest.mark.parametrize("level", ["documented", "strict"])
def test_the_clean_real_time_mock_passes_every_check(level: str) -> None:
    with realtime_mock() as server:
        evidence, client_state = _probe(server, level)
    outcomes = judge(Registry.collect().select([], level), CheckContext(level, VENUE, evidence, SETTLE_DEADLINE,
                                                                        client_state))
    wrong = [(o.check, o.verdict, o.subject, o.messages[:2]) for o in outcomes if o.verdict in ("failed", "warning")]
    assert not wrong
    named = {name for name, named_level in broken_targets() if level == "strict" or named_level == "documented"}
    passed = {o.check for o in outcomes if o.verdict == "passed"}
    assert named - passed == set(), "checks of a broken target that the clean mock does not pass"
