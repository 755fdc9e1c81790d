"""What every report format shows the same way, computed once from the result model.

The writers differ only in markup; the row verdict of a check, how skips are
grouped, how a known divergence is worded and which detail reproduces a
failure are decided here so that the terminal, JUnit, HTML and Markdown never
disagree. Depends on `contracts.verify.results` alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.verify.results import VERDICTS, CoverageRow, Outcome, Report

DIVERGENCE_PREFIX = "known divergence: the production server is known to do this"


@dataclass(frozen=True)
class CheckRow:
    """One line of the check table: a check and how many subjects got each verdict."""

    family: str
    check: str
    counts: dict[str, int]

    @property
    def name(self) -> str:
        return f"{self.family}/{self.check}"

    @property
    def verdict(self) -> str:
        """FAIL beats WARN beats ok; a check that only skipped says `skip`, never `ok`."""
        if self.counts["failed"]:
            return "FAIL"
        if self.counts["warning"]:
            return "WARN"
        return "ok" if self.counts["passed"] else "skip"


@dataclass(frozen=True)
class SkipGroup:
    """Skipped outcomes of one check that share a reason, so the list stays compact."""

    family: str
    check: str
    reason: str
    subjects: tuple[str, ...]


def check_rows(report: Report) -> list[CheckRow]:
    """The check table in run order."""
    return [CheckRow(family, check, counts) for family, check, counts in report.by_check()]


def skip_groups(report: Report) -> list[SkipGroup]:
    """Skipped outcomes grouped by check and reason, in run order."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for outcome in report.with_verdict("skipped"):
        reason = outcome.messages[0] if outcome.messages else "no reason given"
        groups.setdefault((outcome.family, outcome.check, reason), []).append(outcome.subject)
    return [SkipGroup(f, c, r, tuple(subjects)) for (f, c, r), subjects in groups.items()]


def divergence_label(outcome: Outcome) -> str:
    """The known-divergence wording for a failure ("" if it matches no row).

    The judge already stores the full label; a bare row text is worded here
    so every report says the same sentence either way.
    """
    text = outcome.divergence.strip()
    if not text or text.startswith("known divergence"):
        return text
    return f"{DIVERGENCE_PREFIX} ({text})"


def reproduction(outcome: Outcome) -> str:
    """The detail that reproduces the outcome: a curl line if there is one, else the first detail."""
    curls = [d for d in outcome.details if d.lstrip().startswith("curl")]
    return (curls or outcome.details or [""])[0]


KEY_VARIABLE = "OTACM_API_KEY"


def key_export(report: Report) -> str:
    """The one line a reader runs before pasting a reproduction ("" when no reproduction reads the key).

    Reproductions carry the key as `"$OTACM_API_KEY"`, never its value: the value is named here only when it
    is the mock's public sandbox key, otherwise the reader puts in their own."""
    if not any(f"${KEY_VARIABLE}" in detail for outcome in report.outcomes for detail in outcome.details):
        return ""
    return f"export {KEY_VARIABLE}={report.sandbox_key or '<your key>'}"


def coverage_rows(report: Report) -> list[CoverageRow]:
    """Coverage rows with something to cover (an empty row would read as a vacuous 100 %)."""
    return [row for row in report.coverage if row.total]


def coverage_figure(row: CoverageRow) -> str:
    return f"{len(row.hit)}/{len(row.total)} ({row.percent:.0f}%)"


def run_facts(report: Report) -> str:
    """Target, strictness, seed, wall time and per-phase timings on one line."""
    parts = [f"target {report.target}", f"{report.strictness} strictness"]
    if report.seed is not None:
        parts.append(f"seed {report.seed}")
    if report.warped:
        parts.append("warped clock")
    if report.requests:
        parts.append(f"{report.requests} requests")
    timing = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.timings.items())
    parts.append(f"{report.seconds:.1f} s" + (f" ({timing})" if timing else ""))
    return " · ".join(parts)


def verdict_counts(report: Report) -> list[tuple[str, int]]:
    """The four verdicts with their totals, always all four and in the model's order."""
    counts = report.counts()
    return [(verdict, counts[verdict]) for verdict in VERDICTS]
