"""JUnit XML of an `otacm verify` run, for the test tab of a CI system.

JUnit knows passed, failed, errored and skipped test cases but not warnings,
so the four verdicts map onto it this way:
- `failed` → `<failure>` (the messages, then the details that reproduce it);
- `skipped` → `<skipped message="reason">`: CI shows it as skipped, not green;
- `warning` → a passing case carrying a `warning` property and the text in
  `<system-out>`: it must not turn a CI run red unless `--fail-on warning`,
  which the exit code (not this file) enforces;
- a known divergence → a `known-divergence` property next to the failure.
One `<testsuite>` per family, one `<testcase>` per outcome, named
`check [subject]` so a CI list reads like the terminal summary.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from contracts.reports.common import divergence_label, key_export
from contracts.verify.results import EXIT_OK, EXIT_VIOLATION, Outcome, Report

MAX_ATTRIBUTE = 500  # CI systems show the message attribute in one line


def junit_xml(report: Report) -> str:
    """The whole document, UTF-8 declared, indented."""
    root = ET.Element("testsuites", name="otacm verify", time=f"{report.seconds:.3f}")
    if report.problem and report.exit_code not in (EXIT_OK, EXIT_VIOLATION):
        _problem_suite(root, report)
    for family, outcomes in _by_family(report).items():
        _suite(root, report, family, outcomes)
    _set_counts(root, root.findall("testsuite"))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _by_family(report: Report) -> dict[str, list[Outcome]]:
    families: dict[str, list[Outcome]] = {}
    for outcome in report.outcomes:
        families.setdefault(outcome.family, []).append(outcome)
    return families


def _problem_suite(root: ET.Element, report: Report) -> None:
    """A run that could not reach or use the target is an error, not an empty green suite."""
    suite = ET.SubElement(root, "testsuite", name="otacm verify.target", tests="1", failures="0", errors="1",
                          skipped="0")
    case = ET.SubElement(suite, "testcase", classname="otacm verify.target", name="reach the target")
    error = ET.SubElement(case, "error", message=_one_line(report.problem), type=f"exit {report.exit_code}")
    error.text = report.problem


def _suite(root: ET.Element, report: Report, family: str, outcomes: list[Outcome]) -> None:
    suite = ET.SubElement(
        root, "testsuite", name=f"otacm verify.{family}", tests=str(len(outcomes)),
        failures=str(sum(o.verdict == "failed" for o in outcomes)), errors="0",
        skipped=str(sum(o.verdict == "skipped" for o in outcomes)),
        time=f"{report.timings.get(family, 0.0):.3f}",
    )
    _properties(suite, _run_properties(report))
    for outcome in outcomes:
        _case(suite, outcome)


def _run_properties(report: Report) -> list[tuple[str, str]]:
    properties = [("target", report.target), ("strictness", report.strictness)]
    if report.seed is not None:
        properties.append(("seed", str(report.seed)))
    if key_export(report):  # the reproduce commands in <failure> read the key from it
        properties.append(("reproduce-first", key_export(report)))
    return properties


def _case(suite: ET.Element, outcome: Outcome) -> None:
    case = ET.SubElement(suite, "testcase", classname=f"{outcome.family}.{outcome.check}",
                         name=f"{outcome.check} [{outcome.subject}]")
    label = divergence_label(outcome)
    if outcome.verdict == "failed":
        _properties(case, [("known-divergence", label)] if label else [])
        failure = ET.SubElement(case, "failure", message=_one_line(label or _first(outcome, "failed")),
                                type=outcome.check)
        failure.text = _text(outcome, label)
    elif outcome.verdict == "skipped":
        ET.SubElement(case, "skipped", message=_one_line(_first(outcome, "skipped")))
    elif outcome.verdict == "warning":
        _properties(case, [("warning", _one_line(_first(outcome, "warning")))])
        ET.SubElement(case, "system-out").text = _text(outcome, "")
    elif outcome.details:
        ET.SubElement(case, "system-out").text = "\n".join(outcome.details)


def _properties(parent: ET.Element, items: list[tuple[str, str]]) -> None:
    if not items:
        return
    properties = ET.SubElement(parent, "properties")
    for name, value in items:
        ET.SubElement(properties, "property", name=name, value=value)


def _set_counts(root: ET.Element, suites: list[ET.Element]) -> None:
    """The totals on <testsuites> are the sums of the suites' (some CI systems read only these)."""
    for attribute in ("tests", "failures", "errors", "skipped"):
        root.set(attribute, str(sum(int(suite.get(attribute, "0")) for suite in suites)))


def _first(outcome: Outcome, fallback: str) -> str:
    return outcome.messages[0] if outcome.messages else fallback


def _one_line(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return first[:MAX_ATTRIBUTE]


def _text(outcome: Outcome, label: str) -> str:
    """The body of a failure or warning: divergence label, every message, then the details."""
    return "\n\n".join(([label] if label else []) + outcome.messages + [d for d in outcome.details if d])
