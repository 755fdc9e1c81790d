"""`otacm verify` fails on each deliberately broken target, naming the broken rule.

Each target is the mock with one documented rule switched off
(tests/broken_targets.py); verify runs with only the check family that can
see it and a small budget, so the file stays fast.
"""

from __future__ import annotations

import pytest

from broken_targets import RULES, BrokenRule, broken_mock, verify_args
from contracts.cli import main
from contracts.verify.run import EXIT_OK, EXIT_VIOLATION


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().out


def test_the_rules_cover_responses_lifecycle_and_webhooks() -> None:
    assert len({rule.rule for rule in RULES}) >= 12
    assert {rule.family for rule in RULES} == {"responses", "lifecycle", "webhooks"}


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_verify_fails_naming_the_broken_rule(rule: BrokenRule, capsys: pytest.CaptureFixture[str]) -> None:
    with broken_mock(rule) as server:
        code, out = run(verify_args(rule, server), capsys)
    assert code == EXIT_VIOLATION, out
    assert f"[{rule.check}]" in out, out  # the failures list names the check...
    failing_rows = [line for line in out.splitlines() if line.strip().startswith(f"{rule.family}/{rule.check}")]
    assert failing_rows and failing_rows[0].rstrip().endswith("FAIL"), out  # ...and its row in the table fails


@pytest.mark.parametrize("rule", [r for r in RULES if r.strict_only], ids=lambda rule: rule.name)
def test_strict_only_rules_pass_documented(rule: BrokenRule, capsys: pytest.CaptureFixture[str]) -> None:
    """What CONTRACT.md marks server/decision is not a violation at the documented level."""
    with broken_mock(rule) as server:
        args = verify_args(rule, server)
        args[args.index("--strictness") + 1] = "documented"
        args[args.index("--checks") + 1] = "response_schema_conformance"
        code, out = run(args, capsys)
    assert code == EXIT_OK, out
