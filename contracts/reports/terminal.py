"""The end-of-run summary of `otacm verify` for a terminal (and for a CI log).

Rendered with rich, but every line stays grep-able as plain text because
tests and CI logs read it without colour: each row of the check table is one
line that starts with `family/check` and ends with its row verdict (`FAIL`,
`WARN`, `ok`, `skip`), and each failure starts with `[check_name]`. Text from
the target (messages, subjects) is passed as `Text`, never as markup, so a
`[bracket]` in a response cannot restyle or swallow the output.

Order follows what a reader needs first: the table, the failures with what
reproduces them, warnings, skips with their reasons, coverage, then the
headline, seed and timings as the last lines a terminal leaves on screen.
"""

from __future__ import annotations

import io
from types import MappingProxyType

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from contracts.reports.common import (
    check_rows,
    coverage_figure,
    coverage_rows,
    divergence_label,
    key_export,
    reproduction,
    run_facts,
    skip_groups,
)
from contracts.verify.results import EXIT_OK, EXIT_VIOLATION, Outcome, Report

ROW_STYLES = MappingProxyType({"FAIL": "bold red", "WARN": "yellow", "ok": "green", "skip": "dim"})
MAX_MESSAGES = 5
MAX_MESSAGE_LINES = 12
MAX_SKIPPED_SUBJECTS = 3
MAX_MISSING = 8
TABLE_COLUMNS_WIDTH = 72  # the four counts, the result and the padding beside the check name


def summary_text(report: Report, width: int = 100, color: bool = False) -> str:
    """The whole summary as text; `color=True` only when writing to a TTY (the CLI decides)."""
    console = _console(report, width, color)
    _print_title(console, report)
    _print_table(console, report)
    _print_outcomes(console, "Failures", report.failed)
    _print_outcomes(console, "Warnings", report.warnings)
    _print_key_export(console, report)
    _print_skipped(console, report)
    _print_coverage(console, report)
    _print_footer(console, report)
    file = console.file
    assert isinstance(file, io.StringIO)
    # padding fills lines to the console width; trailing blanks only get in the way of a log reader
    return "\n".join(line.rstrip() for line in file.getvalue().splitlines()) + "\n"



def _console(report: Report, width: int, color: bool) -> Console:
    """A console writing to memory, wide enough that no table row ever wraps."""
    longest = max((len(row.name) for row in check_rows(report)), default=0)
    return Console(
        file=io.StringIO(), width=max(width, longest + TABLE_COLUMNS_WIDTH), force_terminal=color,
        color_system="standard" if color else None, no_color=not color,
        highlight=False, emoji=False, markup=False, legacy_windows=False,
    )


def _print_title(console: Console, report: Report) -> None:
    console.print()
    console.print(Text(f"otacm verify — {report.target} — {report.strictness} strictness", style="bold"),
                  soft_wrap=True)


def _print_table(console: Console, report: Report) -> None:
    rows = check_rows(report)
    if not rows:
        return
    table = Table(box=None, show_edge=False, pad_edge=False, padding=(0, 2), header_style="bold")
    table.add_column("check", no_wrap=True)
    for verdict in ("passed", "failed", "warning", "skipped"):
        table.add_column(verdict, justify="right", no_wrap=True)
    table.add_column("result", no_wrap=True)
    for row in rows:
        counts = [str(row.counts[v]) for v in ("passed", "failed", "warning", "skipped")]
        table.add_row(Text(row.name), *counts, Text(row.verdict, style=ROW_STYLES[row.verdict]))
    console.print()
    console.print(Padding(table, (0, 0, 0, 2), expand=False))
    console.print(Text("  (counts are subjects: operations, probe orders, scenarios or deliveries)", style="dim"))


def _print_outcomes(console: Console, title: str, outcomes: list[Outcome]) -> None:
    """Failures or warnings in plain words, each with what reproduces it."""
    if not outcomes:
        return
    console.print()
    console.print(Text(f"{title}:", style="bold"))
    for outcome in outcomes:
        console.print(Text(f"  [{outcome.check}] {outcome.family}: {outcome.subject}"))
        label = divergence_label(outcome)
        if label:
            console.print(Padding(Text(label, style="magenta"), (0, 0, 0, 4)))
        for message in outcome.messages[:MAX_MESSAGES]:
            _print_message(console, message)
        if len(outcome.messages) > MAX_MESSAGES:
            console.print(Text(f"    … and {len(outcome.messages) - MAX_MESSAGES} more"))
        detail = reproduction(outcome)
        if detail:
            # soft_wrap: a curl line must stay one line to be copied and pasted
            console.print(Text(f"      reproduce: {detail}"), soft_wrap=True)


def _print_key_export(console: Console, report: Report) -> None:
    """Once, under the reproduce lines: they read the key from the environment (never print a real one)."""
    line = key_export(report)
    if line:
        console.print()
        console.print(Text("The reproduce commands read the API key from $OTACM_API_KEY; first run:"))
        console.print(Text(f"  {line}"), soft_wrap=True)


def _print_message(console: Console, message: str) -> None:
    lines = message.splitlines() or [""]
    console.print(Padding(Text("- " + lines[0]), (0, 0, 0, 4)))
    for line in lines[1:MAX_MESSAGE_LINES]:
        console.print(Padding(Text(line), (0, 0, 0, 6)))


def _print_skipped(console: Console, report: Report) -> None:
    """One line per check and reason: skips matter (nothing was judged) but should not drown failures."""
    groups = skip_groups(report)
    if not groups:
        return
    console.print()
    console.print(Text("Skipped (nothing to judge, never counted as passed):", style="bold"))
    for group in groups:
        shown = ", ".join(group.subjects[:MAX_SKIPPED_SUBJECTS])
        more = len(group.subjects) - MAX_SKIPPED_SUBJECTS
        subjects = shown + (f" and {more} more" if more > 0 else "")
        # "- " first: only table rows may start with family/check (tests and CI greps find the row by it)
        console.print(Padding(Text(f"- {group.family}/{group.check}: {group.reason} ({subjects})", style="dim"),
                              (0, 0, 0, 2)))


def _print_coverage(console: Console, report: Report) -> None:
    rows = coverage_rows(report)
    if not rows:
        return
    console.print()
    console.print(Text("Coverage:", style="bold"))
    for row in rows:
        missing = row.missing
        line = f"  {row.name.ljust(22)} {coverage_figure(row)}"
        if missing:
            line += "   not covered: " + ", ".join(missing[:MAX_MISSING]) + (" …" if len(missing) > MAX_MISSING else "")
        console.print(Text(line), soft_wrap=True)


def _print_footer(console: Console, report: Report) -> None:
    console.print()
    for note in report.notes:
        # contracts.verify.run words a webhook half that was not verified this way: it must not go unseen
        loud = note.startswith(("webhooks NOT verified", "webhooks: no delivery"))
        console.print(Text(note if loud else f"note: {note}", style="bold yellow" if loud else ""), soft_wrap=True)
    if report.problem and report.exit_code in (EXIT_OK, EXIT_VIOLATION):
        console.print(Text(f"note: {report.problem}"))
    style = "bold green" if report.exit_code == EXIT_OK else "bold red"
    console.print(Text(report.headline(), style=style), soft_wrap=True)
    console.print(Text(run_facts(report), style="dim"), soft_wrap=True)
