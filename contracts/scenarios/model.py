"""The scenario model: a library of scenarios, each a list of steps with expectations."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from contracts.spec import data_dir
from mockserver.sandbox.clock import duration_with_units

FIXTURES_DIR = "fixtures"
VARS_FILE = "vars.yaml"
MODE_TAGS = ("async", "sync")
KNOWN_TAGS_HINT = "async, sync, strict, mock-only, webhook, clock"
# Variables the runner defines for every scenario; any other `{{ name }}` not
# saved by a step is a venue fact (vars.yaml, --vars, --var) the scenario needs.
BUILTIN_VARIABLES = ("partner_id", "other_partner_id", "unique", "today", "visit_date", "now")
# Built-ins a target may not have (flag that sets them): a scenario using one needs it like a venue fact.
TARGET_FACTS = MappingProxyType({"other_partner_id": "--other-partner-id"})


class ScenarioFormatError(ValueError):
    """A scenario file that does not follow the format (says which file and where)."""


def scenarios_dir() -> Path:
    """The shipped scenario library (inside the wheel, else the repo's `scenarios/`)."""
    return data_dir("scenarios")


# -- durations ----------------------------------------------------------------
def parse_duration(value: Any, where: str = "") -> float:
    """Seconds from `90` (a number), `90s`, `5m`, `2h`, `1d`, `1h30m`, `0.5s`
    (the mock's grammar: a string needs its units)."""
    if isinstance(value, bool):
        raise ScenarioFormatError(f"{where}: {value!r} is not a duration")
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return duration_with_units(str(value))
    except ValueError as error:
        raise ScenarioFormatError(f"{where}: {error}") from None


# -- the model -------------------------------------------------------------------
@dataclass
class Expect:
    """What a step's answer must be. Empty fields assert nothing."""

    status: list[int | str] = field(default_factory=list)  # HTTP status code(s), or a class such as "4xx"
    order_status: list[str] = field(default_factory=list)  # the body's `status`, any of
    fields: dict[str, Any] = field(default_factory=dict)  # path → matcher (see `match`)
    schema: bool = True  # validate the body against the spec's response schema


def status_matches(status: int | None, expected: int | str) -> bool:
    """`400` is that code; `4xx` any code of the class (the docs often say only "rejected")."""
    if status is None:
        return False
    if isinstance(expected, str):
        return str(status)[0] == expected[0]
    return status == expected


@dataclass
class Step:
    """One step. `kind` is call | wait_until | expect_webhook | advance_clock."""

    kind: str
    index: int
    title: str = ""
    # call
    operation: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    auth: str = "default"  # default | other | none
    # wait_until / expect_webhook
    order: Any = None
    statuses: list[str] = field(default_factory=list)
    within: float | None = None
    every: float | None = None
    count: int | None = None
    quiet: float = 0.0
    # advance_clock
    seconds: float = 0.0
    # all
    expect: Expect = field(default_factory=Expect)
    save: dict[str, str] = field(default_factory=dict)

    def label(self) -> str:
        """`step 3 (call createOrder: submit the order)`, as failures name it."""
        what = {
            "call": f"call {self.operation}",
            "wait_until": f"wait_until {'|'.join(self.statuses)}",
            "expect_webhook": "expect_webhook" + (f" {'|'.join(self.statuses)}" if self.statuses else ""),
            "advance_clock": f"advance_clock {self.seconds:g}s",
        }[self.kind]
        return f"step {self.index} ({what}{': ' + self.title if self.title else ''})"


@dataclass
class Scenario:
    name: str
    title: str
    doc: str
    section: str
    tags: frozenset[str]
    steps: list[Step]
    path: Path | None = None
    requires: frozenset[str] = frozenset()  # clock | webhook
    needs: tuple[str, ...] = ()  # venue facts: declared `needs:` plus every `{{ fact }}` it references

    @property
    def modes(self) -> frozenset[str]:
        """API modes the scenario applies to: its mode tags, else async only."""
        modes = self.tags & set(MODE_TAGS)
        return frozenset(modes) if modes else frozenset({"async"})

    @property
    def source(self) -> str:
        return f"{self.doc} — {self.section}" if self.section else self.doc


@dataclass
class Library:
    """Loaded scenarios plus the fixtures and default variables they use."""

    scenarios: list[Scenario]
    fixtures: dict[str, Any]
    variables: dict[str, Any]


