"""`otacm verify --list-rules` and `--list-checks`: the registry and the rules, as text or JSON.

Text fits the terminal: a table where it is wide enough for one, else one
block per rule; `--format json` is for scripts (a list of objects).
"""

from __future__ import annotations

import json
import shutil
import textwrap
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from contracts.checks.registry import Registry
from contracts.verify.rules import RuleRow, rule_table

# Below this many columns the six-column rule table folds every cell into slivers: blocks read better.
TABLE_MIN_WIDTH = 160
FORMATS = ("text", "json")
FOOTNOTE = ("broken-target tests (in the repository): tests/verify/test_broken_rules.py runs, for each rule, a "
            "real-time mock with that rule broken (its own table, or test_probe_broken.BREAKS for the rules of a check "
            "it breaks) and asserts the rule's check fails; its coverage test fails when a rule has no check or no "
            "broken target")


def terminal_width() -> int:
    """The terminal's columns ($COLUMNS, else the tty's; 100 when neither says)."""
    return shutil.get_terminal_size((100, 24)).columns


def _console(out: TextIO, width: int) -> Console:
    return Console(file=out, width=width, no_color=True, highlight=False, soft_wrap=False)


def print_rules(out: TextIO, output_format: str = "text", width: int | None = None) -> int:
    """Every rule: id, source, level, the checks asserting it and the broken-target test showing them fail."""
    rows = rule_table(Registry.collect())
    if output_format == "json":
        json.dump([_rule_json(row) for row in rows], out, indent=2, ensure_ascii=False)
        out.write("\n")
        return 0
    width = width or terminal_width()
    if width >= TABLE_MIN_WIDTH:
        _rule_table(out, rows, width)
    else:
        _rule_blocks(out, rows, width)
    print(textwrap.fill(f"{len(rows)} rules; {FOOTNOTE}", width), file=out)
    return 0


def _rule_json(row: RuleRow) -> dict[str, object]:
    rule = row.rule
    return {"id": rule.id, "level": rule.level, "source": rule.source, "checks": list(row.checks),
            "test": rule.test, "text": rule.text}


def _rule_table(out: TextIO, rows: list[RuleRow], width: int) -> None:
    table = Table(title="documented rules, their checks, and the test showing those checks fail on a broken target")
    for column in ("rule", "source", "level", "checks", "broken-target test", "rule text"):
        table.add_column(column, overflow="fold")
    for row in rows:
        cells = (row.rule.id, row.rule.source, row.rule.level, ", ".join(row.checks) or "(none)",
                 row.rule.test.replace("::", " ") or "(none)", row.rule.text)
        table.add_row(*(escape(cell) for cell in cells))  # a test id's [case] is not rich markup
    _console(out, width).print(table)


def _rule_blocks(out: TextIO, rows: list[RuleRow], width: int) -> None:
    """One block per rule: `id  [level; source]`, then its text, checks and test, indented and wrapped."""
    indent = "    "
    for row in rows:
        print(textwrap.fill(f"{row.rule.id}  [{row.rule.level}; {row.rule.source}]", width,
                            subsequent_indent=indent, break_on_hyphens=False), file=out)
        for label, value in (("", row.rule.text), ("checks: ", ", ".join(row.checks) or "(none)"),
                             ("test:   ", row.rule.test.replace("::", " ") or "(none)")):
            lines = textwrap.wrap(label + value, max(width - len(indent), 20), subsequent_indent=" " * len(label),
                                  break_on_hyphens=False)
            print("\n".join(indent + line for line in lines), file=out)
        print(file=out)


def print_checks(out: TextIO, output_format: str = "text", width: int | None = None) -> int:
    from contracts.verify.run import all_check_names

    rows = all_check_names()
    if output_format == "json":
        json.dump([{"family": f, "check": n, "level": lv} for f, n, lv in rows], out, indent=2)
        out.write("\n")
        return 0
    table = Table("family", "check", "level", title="checks (--checks takes these names or their families)")
    for family, name, level in rows:
        table.add_row(family, name, level)
    _console(out, width or terminal_width()).print(table)
    return 0
