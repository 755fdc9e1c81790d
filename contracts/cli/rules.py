"""`otacm verify --list-rules` and `--list-checks`: the registry and the rules, as tables."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from contracts.checks.registry import Registry
from contracts.verify.rules import rule_table


def _console(out: TextIO) -> Console:
    return Console(file=out, width=220, no_color=True, highlight=False, soft_wrap=False)


def print_rules(out: TextIO) -> int:
    """Every rule: id, source, level, the checks asserting it and the broken-target test showing them fail."""
    registry = Registry.collect()
    table = Table(title="documented rules, their checks, and the test showing those checks fail on a broken target")
    for column in ("rule", "source", "level", "checks", "broken-target test", "rule text"):
        table.add_column(column, overflow="fold")
    rows = rule_table(registry)
    for row in rows:
        cells = (row.rule.id, row.rule.source, row.rule.level, ", ".join(row.checks) or "(none)",
                 row.rule.test.replace("::", " ") or "(none)", row.rule.text)
        table.add_row(*(escape(cell) for cell in cells))  # a test id's [case] is not rich markup
    _console(out).print(table)
    print(f"{len(rows)} rules; broken-target tests (in the repository): tests/verify/test_broken_rules.py runs, "
          "for each rule, a real-time mock with that rule broken (its own table, or test_probe_broken.BREAKS for the "
          "rules of a check it breaks) and asserts the rule's check fails; its coverage test fails when a rule has "
          "no check or no broken target", file=out)
    return 0


def print_checks(out: TextIO) -> int:
    from contracts.verify.run import all_check_names

    table = Table("family", "check", "level", title="checks (--checks takes these names or their families)")
    for family, name, level in all_check_names():
        table.add_row(family, name, level)
    _console(out).print(table)
    return 0
