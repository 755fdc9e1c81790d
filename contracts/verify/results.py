"""The result model of a verify run: what every report reads, and nothing else.

One `Outcome` per check and subject (an operation, a probe order, a scenario,
a webhook delivery), with one of four verdicts:
- `passed`: the check judged the subject and the property holds;
- `failed`: it does not (the exit code counts these);
- `warning`: a difference where CONTRACT.md is silent (fails only with `--fail-on warning`);
- `skipped`: nothing to judge, with the reason (never counted as passed).
A failure that matches a row of CONTRACT.md's "Known divergences" carries
that row's text in `divergence`: the production server is known to do this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

VERDICTS = ("passed", "failed", "warning", "skipped")

EXIT_OK = 0
EXIT_VIOLATION = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_ERROR = 4
EXIT_CODES = MappingProxyType({
    EXIT_OK: "every selected check passed (warnings and skips do not fail a run unless --fail-on warning)",
    EXIT_VIOLATION: "the contract was violated: at least one check failed",
    EXIT_USAGE: "bad options, or the target rejected the API key (401) so nothing could be checked",
    EXIT_UNREACHABLE: "could not reach the target (connection refused, DNS, timeout, no HTTP answer)",
    EXIT_ERROR: "otacm verify itself failed (a bug: please report it with the output)",
})


@dataclass
class Outcome:
    """One check on one subject."""

    family: str
    check: str
    subject: str
    verdict: str  # one of VERDICTS
    messages: list[str] = field(default_factory=list)  # why it failed / warned / was skipped
    details: list[str] = field(default_factory=list)  # how to reproduce (curl), the statuses seen, ...
    rules: tuple[str, ...] = ()  # the rule ids the check asserts
    divergence: str = ""  # the Known divergences row this failure matches, if any
    count: int = 1  # how many times the check ran on this subject

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, not {self.verdict!r}")

    @property
    def failed(self) -> bool:
        return self.verdict == "failed"


@dataclass
class CoverageRow:
    name: str  # "operations", "documented responses", "lifecycle transitions", "stateful links"
    total: list[str]
    covered: set[str] = field(default_factory=set)

    @property
    def hit(self) -> list[str]:
        return [x for x in self.total if x in self.covered]

    @property
    def missing(self) -> list[str]:
        return [x for x in self.total if x not in self.covered]

    @property
    def percent(self) -> float:
        return 100.0 * len(self.hit) / len(self.total) if self.total else 100.0


@dataclass
class Report:
    """Everything a run found; reports are built from this alone."""

    target: str
    embedded: bool
    strictness: str
    families: list[str]
    outcomes: list[Outcome] = field(default_factory=list)
    coverage: list[CoverageRow] = field(default_factory=list)
    seconds: float = 0.0
    seed: int | None = None
    warped: bool = False
    problem: str = ""  # why nothing (or not everything) could run
    exit_code: int = EXIT_OK
    fail_on_warning: bool = False
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    # the key, only when it is the mock's public sandbox key: the reports' `export OTACM_API_KEY=...` names it;
    # any other key is never stored here (the reports say `<your key>`)
    sandbox_key: str = ""

    def with_verdict(self, verdict: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.verdict == verdict]

    @property
    def failed(self) -> list[Outcome]:
        return self.with_verdict("failed")

    @property
    def warnings(self) -> list[Outcome]:
        return self.with_verdict("warning")

    def counts(self) -> dict[str, int]:
        return {v: len(self.with_verdict(v)) for v in VERDICTS}

    def by_check(self) -> list[tuple[str, str, dict[str, int]]]:
        """(family, check, verdict counts) in run order."""
        rows: dict[tuple[str, str], dict[str, int]] = {}
        for outcome in self.outcomes:
            row = rows.setdefault((outcome.family, outcome.check), dict.fromkeys(VERDICTS, 0))
            row[outcome.verdict] += 1
        return [(family, name, counts) for (family, name), counts in rows.items()]

    def settle_exit_code(self) -> None:
        """Failures (and warnings under --fail-on warning) make the run fail, unless it already errored."""
        if self.exit_code != EXIT_OK:
            return
        if self.failed or (self.fail_on_warning and self.warnings):
            self.exit_code = EXIT_VIOLATION

    def headline(self) -> str:
        counts = self.counts()
        tally = ", ".join(f"{counts[v]} {v}" for v in VERDICTS)
        if self.exit_code == EXIT_OK:
            return f"PASSED: no check failed ({tally})"
        if self.exit_code == EXIT_VIOLATION:
            why = f"{counts['failed']} failing check(s)" if counts["failed"] else "warnings, with --fail-on warning"
            return f"FAILED: the contract was violated ({why}; {tally})"
        return f"ERROR (exit {self.exit_code}): {EXIT_CODES.get(self.exit_code, '')}: {self.problem}"
