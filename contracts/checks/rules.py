"""The rule list (contracts/data/rules.yaml): every documented rule, and CONTRACT.md's known divergences.

Read on demand (no module state): `--list-rules`, the reports and the judge's
divergence labels take it from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

RULES_FILE = Path(__file__).resolve().parents[1] / "data" / "rules.yaml"


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    source: str
    level: str


def _data() -> dict[str, Any]:
    return yaml.safe_load(RULES_FILE.read_text(encoding="utf-8")) or {}


def load_rules() -> dict[str, Rule]:
    """The rules by id, in file order."""
    return {r["id"]: Rule(r["id"], r["text"], r["source"], r["level"]) for r in _data().get("rules", [])}


def load_divergences() -> list[dict[str, Any]]:
    """The Known divergences rows: {case, docs, server, checks, matches}."""
    return list(_data().get("divergences", []))
