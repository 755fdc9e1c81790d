"""One `otacm verify` run in a scratch copy, and one mutant's outcome.

The test command is `python -m contracts.cli verify --quiet` with the copy as
the working directory and first on PYTHONPATH, so the embedded mock it starts
is built from the mutated `mockserver/`. The run gets its own process group:
a timeout kills the verify and whatever it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.mutation.mutants import Mutant, diff, mutated_source

KILLED, SURVIVED, TIMEOUT, CRASHED, NOT_APPLIED = "killed", "survived", "timeout", "crashed", "not-applied"


@dataclass
class Outcome:
    """What one run said: its verdict, exit code, wall time and the checks that failed."""

    status: str
    exit_code: int | None
    seconds: float
    failed_checks: list[str] = field(default_factory=list)
    tail: str = ""
    note: str = ""


@dataclass
class MutantResult:
    """A mutant with its diff and outcome."""

    mutant: Mutant
    diff: str
    outcome: Outcome

    def as_dict(self) -> dict[str, Any]:
        return {**self.mutant.as_dict(), "label": self.mutant.label(), "diff": self.diff, **vars(self.outcome)}


def verify_command(strictness: str, junit: Path, extra: Sequence[str]) -> list[str]:
    """The test: the embedded mock verified at `strictness`, JUnit for the failed checks' names."""
    return [sys.executable, "-m", "contracts.cli", "verify", "--quiet", "--strictness", strictness,
            "--junit", str(junit), *extra]


def _failed_checks(junit: Path) -> list[str]:
    """The failing testcases' names in a JUnit file (empty when there is none)."""
    try:
        tree = ET.parse(junit)
    except (OSError, ET.ParseError):
        return []
    return sorted({case.get("name", "?") for case in tree.iter("testcase")
                   if case.find("failure") is not None or case.find("error") is not None})


def run_verify(scratch: Path, command: Sequence[str], junit: Path, timeout: float) -> Outcome:
    """Run `command` in `scratch`: survived on exit 0, killed on a failed check, crashed on
    a non-zero exit with no failed check (the mock did not start, say), timeout past `timeout`."""
    env = {**os.environ, "PYTHONPATH": str(scratch), "PYTHONDONTWRITEBYTECODE": "1"}
    junit.unlink(missing_ok=True)
    started = time.monotonic()
    proc = subprocess.Popen(list(command), cwd=scratch, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Outcome(TIMEOUT, None, time.monotonic() - started)
    seconds = time.monotonic() - started
    tail = "\n".join(output.decode(errors="replace").strip().splitlines()[-15:])
    failed = _failed_checks(junit)
    status = SURVIVED if proc.returncode == 0 else KILLED if failed else CRASHED
    return Outcome(status, proc.returncode, seconds, failed, tail)


def run_mutant(mutant: Mutant, scratch: Path, command: Sequence[str], junit: Path,
               timeout: float) -> MutantResult:
    """Apply `mutant` to the scratch copy, run the test, put the original back (always)."""
    path = scratch / mutant.module
    original = path.read_text(encoding="utf-8")
    mutated = mutated_source(mutant, original)
    if mutated is None:
        return MutantResult(mutant, "", Outcome(NOT_APPLIED, None, 0.0))
    try:
        path.write_text(mutated, encoding="utf-8")
        outcome = run_verify(scratch, command, junit, timeout)
    finally:
        path.write_text(original, encoding="utf-8")
    return MutantResult(mutant, diff(mutant, original, mutated), outcome)


def check_names(failed: Sequence[str]) -> set[str]:
    """The checks' names without their parameter (`scenario_steps [x]` is `scenario_steps`)."""
    return {name.split(" [")[0] for name in failed}


def needs_confirming(result: MutantResult, flaky: set[str]) -> bool:
    """A kill only by checks known to fail at random on a correct target (issue 18:
    `list_filters_honoured` judged Schemathesis' random queries) proves nothing yet."""
    names = check_names(result.outcome.failed_checks)
    return result.outcome.status == KILLED and bool(names) and names <= flaky and not result.outcome.note


def confirm(result: MutantResult, scratch: Path, command: Sequence[str], junit: Path, timeout: float,
            times: int) -> MutantResult:
    """Run a doubtful kill `times` more: it stays killed only if every rerun fails too; one pass
    makes it a survivor, since the suite does not notice the mutant reliably."""
    for attempt in range(1, times + 1):
        again = run_mutant(result.mutant, scratch, command, junit, timeout)
        if again.outcome.status == SURVIVED:
            result.outcome.status = SURVIVED
            result.outcome.note = (f"killed only by {', '.join(sorted(check_names(result.outcome.failed_checks)))}"
                                   f" (fails at random), then passed on rerun {attempt}")
            return result
    result.outcome.note = f"confirmed by {times} rerun(s)"
    return result
