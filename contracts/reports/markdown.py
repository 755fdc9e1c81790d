"""Markdown of an `otacm verify` run for a CI job summary (`$GITHUB_STEP_SUMMARY`).

Plain code rather than a template: Markdown needs per-context escaping (table
cells, HTML summaries, code fences) that reads clearer as small functions.
Failures come first, right under the four verdict totals, because a job
summary is read top-down and often cut off; the check table, warnings, skips
and coverage follow. Text from the target is escaped so it cannot break a
table, close a fence or inject HTML into the summary page.
"""

from __future__ import annotations

import html
import re
from types import MappingProxyType

from contracts.reports.common import (
    CheckRow,
    check_rows,
    coverage_figure,
    coverage_rows,
    divergence_label,
    key_export,
    reproduction,
    run_facts,
    skip_groups,
    verdict_counts,
)
from contracts.verify.results import EXIT_OK, Outcome, Report

ICONS = MappingProxyType({"passed": "✅", "failed": "❌", "warning": "⚠️", "skipped": "⏭️"})
ROW_MARKS = MappingProxyType({"FAIL": " ❌", "WARN": " ⚠️", "ok": "", "skip": ""})
MAX_OUTCOMES = 50  # a job summary is capped at 1 MiB; the HTML and JUnit reports have everything
MAX_MESSAGES = 5


def markdown(report: Report) -> str:
    """The summary as one Markdown string."""
    out = _title(report)
    out += _key_export(report)
    out += _outcomes("Failures", report.failed, open_=True)
    out += _table(check_rows(report))
    out += _outcomes("Warnings", report.warnings, open_=False)
    out += _skipped(report)
    out += _coverage(report)
    out += [f"> {_cell(note)}" for note in report.notes]
    return "\n".join(out).rstrip("\n") + "\n"


def _cell(text: str) -> str:
    """Text safe inside a table cell or a line of prose: no HTML, no pipe, one line."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _fence(lines: list[str]) -> list[str]:
    """A code block whose fence is longer than any backtick run inside, so the text cannot close it."""
    longest = max((len(run) for line in lines for run in re.findall("`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, *lines, fence]


def _title(report: Report) -> list[str]:
    icon = "✅" if report.exit_code == EXIT_OK else "❌"
    counts = verdict_counts(report)
    return [
        f"## {icon} otacm verify — {_cell(report.target)}", "",
        f"**{_cell(report.headline())}**", "",
        _cell(run_facts(report)), "",
        "| " + " | ".join(f"{ICONS[verdict]} {verdict}" for verdict, _ in counts) + " |",
        "|" + " ---: |" * len(counts),
        "| " + " | ".join(str(count) for _, count in counts) + " |", "",
    ]


def _outcomes(title: str, outcomes: list[Outcome], open_: bool) -> list[str]:
    if not outcomes:
        return []
    out = [f"### {title}", ""]
    for outcome in outcomes[:MAX_OUTCOMES]:
        out += _outcome(outcome, open_)
    if len(outcomes) > MAX_OUTCOMES:
        out += [f"… and {len(outcomes) - MAX_OUTCOMES} more (see the HTML or JUnit report)", ""]
    return out


def _outcome(outcome: Outcome, open_: bool) -> list[str]:
    e = html.escape
    out = [(f"<details{' open' if open_ else ''}><summary><code>[{e(outcome.check)}]</code> "
            f"{e(outcome.family)}: {e(outcome.subject)}</summary>"), ""]
    label = divergence_label(outcome)
    if label:
        out += [f"> **{_cell(label)}**", ""]
    lines = [line for message in outcome.messages[:MAX_MESSAGES] for line in message.splitlines()]
    detail = reproduction(outcome)
    out += _fence(lines + ([detail] if detail else []))
    return out + ["", "</details>", ""]


def _key_export(report: Report) -> list[str]:
    """Said once, above the failures: the reproduce commands read the key from the environment."""
    line = key_export(report)
    return ["The reproduce commands read the API key from `$OTACM_API_KEY`; first run:", "",
            *_fence([line]), ""] if line else []


def _table(rows: list[CheckRow]) -> list[str]:
    """The check table; columns keep the former report's order with `warning` added after `skipped`."""
    if not rows:
        return []
    columns = ("passed", "failed", "skipped", "warning")
    out = ["### Checks", "", "| family | check | " + " | ".join(columns) + " | result |",
           "| --- | --- |" + " ---: |" * len(columns) + " --- |"]
    for row in rows:
        counts = " | ".join(str(row.counts[c]) for c in columns)
        out.append(f"| {_cell(row.family)} | `{_cell(row.check)}`{ROW_MARKS[row.verdict]} | {counts} | {row.verdict} |")
    return out + [""]


def _skipped(report: Report) -> list[str]:
    groups = skip_groups(report)
    if not groups:
        return []
    out = ["### Skipped", "", "Nothing to judge; a skipped check is never counted as passed.", "",
           "| check | reason | subjects |", "| --- | --- | --- |"]
    for group in groups:
        out.append(f"| `{_cell(group.family)}/{_cell(group.check)}` | {_cell(group.reason)} | "
                   f"{_cell(', '.join(group.subjects))} |")
    return out + [""]


def _coverage(report: Report) -> list[str]:
    rows = coverage_rows(report)
    if not rows:
        return []
    out = ["### Coverage", "", "| coverage | covered | not covered |", "| --- | ---: | --- |"]
    for row in rows:
        out.append(f"| {_cell(row.name)} | {coverage_figure(row)} | {_cell(', '.join(row.missing)) or '—'} |")
    return out + [""]
