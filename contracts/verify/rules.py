"""The documented rules (`contracts/data/rules.yaml`) and which checks assert them.

Each rule has an id, its text, its source (a doc page or a CONTRACT.md line)
and its level. `rule_table` joins them with the registry (the checks that
name the rule). The broken-target tests that show those checks failing live
beside the tests (tests/verify/test_broken_rules.py, which also refuses a rule
without a check or a broken target). `otacm verify --list-rules` prints the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from contracts.checks.registry import Registry

RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "rules.yaml"


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    source: str
    level: str  # documented | strict
    test: str = ""  # the pytest id of the broken-target test that shows its checks failing


def _document() -> dict[str, Any]:
    return yaml.safe_load(RULES_FILE.read_text(encoding="utf-8")) or {}


def load_rules() -> list[Rule]:
    return [Rule(str(r["id"]), str(r["text"]), str(r["source"]), str(r.get("level", "documented")),
                 str(r.get("test", ""))) for r in _document().get("rules", [])]


def load_divergences() -> list[dict[str, Any]]:
    """CONTRACT.md's "Known divergences" rows, each with the checks and message pattern it explains."""
    return list(_document().get("divergences", []))


@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    checks: tuple[str, ...]


def rule_table(registry: Registry) -> list[RuleRow]:
    """Every rule with the checks that assert it (none: a gap the project's tests refuse)."""
    return [RuleRow(rule, tuple(c.name for c in registry if rule.id in c.rules)) for rule in load_rules()]
