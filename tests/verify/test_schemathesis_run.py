"""The Schemathesis part of `otacm verify` as a gate needs it: one seed draws one set of inputs, and a run cut
short by `--max-time` says so (a warning with the phases it missed), never passes silently (issue 18)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from contracts.reports.junit import junit_xml
from contracts.reports.terminal import summary_text
from contracts.target.resolve import embedded_mock
from contracts.verify.results import Outcome, Report
from contracts.verify.schemathesis_run import (
    CUT_SHORT_CHECK,
    FuzzOptions,
    FuzzResult,
    FuzzTarget,
    SchemathesisRun,
)

OPERATIONS = ("createOrder", "listOrdersByPartner")


def _run(seed: int, **options: Any) -> tuple[FuzzResult, str]:
    """One Schemathesis run against a fresh embedded mock; also its run id (in the references it makes)."""
    with embedded_mock() as target:
        run = SchemathesisRun(FuzzTarget(target, date.today()),
                              FuzzOptions(seed=seed, operations=OPERATIONS, **options))
        return run.run(), run.run_id


def _inputs(result: FuzzResult, run_id: str) -> list[tuple[str, str, dict[str, str], Any]]:
    """Method, path, query and body of every generated call; the run's unique id (it keeps references from
    colliding with an earlier run's orders on the same target, on purpose) and the mock's port left out."""
    def same(text: str) -> str:
        return re.sub(r"^http://127\.0\.0\.1:\d+", "", text.replace(run_id, "<run>"))

    return [(e.method, same(e.url), e.query, same(repr(e.body))) for e in result.exchanges]


def test_one_seed_draws_the_same_inputs_twice() -> None:
    phases = ("examples", "coverage", "fuzzing")
    first, first_id = _run(1234, phases=phases, max_examples=5)
    second, second_id = _run(1234, phases=phases, max_examples=5)
    assert first.seed == second.seed == 1234
    assert len(first.exchanges) > 10
    assert {e.operation for e in first.exchanges} == set(OPERATIONS)
    assert any(e.body is not None for e in first.exchanges) and any(e.query for e in first.exchanges)
    assert _inputs(first, first_id) == _inputs(second, second_id)


def _report(result: FuzzResult) -> Report:
    """The run's tallies as `otacm verify` reports them (run.py's mapping: one outcome per check and subject)."""
    report = Report("embedded mock", True, "documented", ["responses"])
    for (check, operation), tally in result.tallies.items():
        verdict = "failed" if tally.failed else "warning" if tally.warned else "passed"
        report.outcomes.append(Outcome("responses", check, operation, verdict,
                                       [f.message for f in tally.failures if f.verdict == verdict],
                                       [f.reproduce for f in tally.failures]))
    return report


def test_a_run_cut_short_by_max_time_is_a_warning_that_names_the_missing_phases() -> None:
    result, _ = _run(7, max_examples=50, max_time=0.05)
    assert result.stop_reason == "max_time"
    tally = result.tallies[(CUT_SHORT_CHECK, "schemathesis run")]
    assert tally.warned == 1 and tally.failed == 0
    message = tally.failures[0].message
    assert "--max-time 0.05 s" in message and "stateful" in message, message
    report = _report(result)
    assert [o.check for o in report.warnings] == [CUT_SHORT_CHECK]
    summary = summary_text(report)
    assert f"responses/{CUT_SHORT_CHECK}" in summary and "stopped by --max-time" in summary, summary
    xml = junit_xml(report)
    assert CUT_SHORT_CHECK in xml and "stopped by --max-time" in xml, xml


def test_a_run_that_finishes_every_phase_carries_no_such_warning() -> None:
    result, _ = _run(7, phases=("examples",), max_examples=2, max_time=600)
    assert result.phases.get("examples") and (CUT_SHORT_CHECK, "schemathesis run") not in result.tallies
