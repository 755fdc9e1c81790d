"""`python -m bench.mutation`: its sample is reproducible, it never mutates the working tree,
it tells killed, survived, crashed and timed-out mutants apart, and its score adds up.

The mutation run itself (one `otacm verify` per mutant) is a bench, not CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.mutation import execute, report
from bench.mutation.cli import ROOT
from bench.mutation.mutants import Mutant, annotation_spans, sample
from bench.mutation.scratch import InPlaceRefused, ensure_scratch, make_scratch

POPULATION = [Mutant(f"m{f}.py", line, 4, f"core/Op{op}", line) for f in range(3) for line in range(1, 40)
              for op in range(3)]


def test_a_seed_always_draws_the_same_sample() -> None:
    first, again, other = sample(POPULATION, 20, 7), sample(list(reversed(POPULATION)), 20, 7), sample(POPULATION, 20, 8)
    assert first == again
    assert first != other
    assert len(first) == 20 and first == sorted(first)


def test_the_sample_takes_one_mutant_per_site_and_all_sites_when_asked_for_more() -> None:
    sites = {(m.module, m.line, m.column) for m in POPULATION}
    everything = sample(POPULATION, 10_000, 1)
    assert len(everything) == len(sites)
    assert {(m.module, m.line, m.column) for m in everything} == sites


@pytest.mark.parametrize("where", [ROOT, ROOT / "mockserver", ROOT.parent])
def test_it_refuses_to_mutate_in_or_around_the_working_tree(where: Path) -> None:
    with pytest.raises(InPlaceRefused):
        ensure_scratch(where, ROOT)


def test_it_refuses_a_git_checkout(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    with pytest.raises(InPlaceRefused):
        ensure_scratch(tmp_path, ROOT)


def _git_tree(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("ignored.txt\n")
    (root / "pkg").mkdir()
    (root / "pkg" / "tracked.py").write_text("X = 1\n")
    (root / "untracked.py").write_text("Y = 2\n")
    (root / "ignored.txt").write_text("no\n")
    subprocess.run(["git", "-C", str(root), "add", "pkg/tracked.py", ".gitignore"], check=True)


def test_the_scratch_copy_holds_the_working_files_and_no_git(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _git_tree(root)
    (root / "pkg" / "tracked.py").write_text("X = 'edited, not committed'\n")
    copy = make_scratch(root, parent=tmp_path)
    names = sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file())
    assert names == [".gitignore", "pkg/tracked.py", "untracked.py"]
    assert (copy / "pkg" / "tracked.py").read_text() == "X = 'edited, not committed'\n"


def test_annotations_are_found_so_no_mutant_lands_in_them() -> None:
    source = "from __future__ import annotations\ndef f(a: int | None, b=1 | 2) -> dict[str, int]:\n    c: int = 3\n"
    spans = annotation_spans(source)
    assert ((2, 9), (2, 19)) in spans  # `int | None`, not `1 | 2`
    assert any(start[0] == 3 for start, _ in spans)
    assert not any(start <= (2, 23) < end for start, end in spans)  # the `|` of the default value


def test_a_real_module_enumerates_and_mutates_outside_annotations(tmp_path: Path) -> None:
    pytest.importorskip("cosmic_ray")
    from bench.mutation.mutants import enumerate_mutants, mutated_source

    source = "from __future__ import annotations\ndef f(a: int | None) -> bool:\n    return a == 1\n"
    (tmp_path / "m.py").write_text(source)
    mutants = enumerate_mutants(tmp_path, ["m.py"])
    assert mutants and all(m.line == 3 for m in mutants)
    changed = {mutated_source(m, source) for m in mutants}
    assert "    return a != 1\n" in "".join(c or "" for c in changed)


def _mutant_in(tmp_path: Path) -> tuple[Path, Mutant, str]:
    pytest.importorskip("cosmic_ray")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    source = "def f(a):\n    return a == 1\n"
    (scratch / "m.py").write_text(source)
    return scratch, Mutant("m.py", 2, 13, "core/ReplaceComparisonOperator_Eq_NotEq", 0), source


@pytest.mark.parametrize(("code", "status"), [("0", execute.SURVIVED), ("1", execute.CRASHED)])
def test_a_mutant_is_judged_by_the_exit_code_and_the_original_put_back(tmp_path: Path, code: str, status: str) -> None:
    scratch, mutant, source = _mutant_in(tmp_path)
    command = [sys.executable, "-c", f"import m, sys; assert m.f(2); sys.exit({code})"]
    result = execute.run_mutant(mutant, scratch, command, scratch / "junit.xml", timeout=60)
    assert result.outcome.status == status
    assert "+    return a != 1" in result.diff
    assert (scratch / "m.py").read_text() == source


def test_a_failed_check_in_the_junit_file_is_a_kill_with_its_name(tmp_path: Path) -> None:
    scratch, mutant, _ = _mutant_in(tmp_path)
    junit = '<testsuite><testcase name="ok"/><testcase name="rule_x"><failure/></testcase></testsuite>'
    command = [sys.executable, "-c", f"import sys; open('junit.xml', 'w').write({junit!r}); sys.exit(1)"]
    result = execute.run_mutant(mutant, scratch, command, scratch / "junit.xml", timeout=60)
    assert (result.outcome.status, result.outcome.failed_checks) == (execute.KILLED, ["rule_x"])


def test_a_hanging_mutant_is_stopped_and_counted_apart(tmp_path: Path) -> None:
    scratch, mutant, source = _mutant_in(tmp_path)
    command = [sys.executable, "-c", "import threading; threading.Event().wait()"]
    result = execute.run_mutant(mutant, scratch, command, scratch / "junit.xml", timeout=0.5)
    assert result.outcome.status == execute.TIMEOUT
    assert (scratch / "m.py").read_text() == source


def test_the_score_counts_timeouts_and_crashes_as_detected() -> None:
    statuses = [execute.KILLED, execute.KILLED, execute.CRASHED, execute.SURVIVED, execute.TIMEOUT]
    results = [execute.MutantResult(POPULATION[i], "", execute.Outcome(s, 1, 1.0)) for i, s in enumerate(statuses)]
    assert report.score(results) == pytest.approx(4 / 5)
    assert report.score(results, with_timeouts=False) == pytest.approx(3 / 4)
    text = report.markdown(report.summary(results, {"done": 5, "sample": 5, "command": "c", "population": 9,
                                                    "sites": 9, "seed": 1, "strictness": "documented",
                                                    "timeout": 60.0}))
    assert "**Score 80.0 %**" in text and text.count("### ") == 1  # one survivor, shown with its diff


def _killed_by(check: str, mutant: Mutant) -> execute.MutantResult:
    return execute.MutantResult(mutant, "", execute.Outcome(execute.KILLED, 1, 1.0, [f"{check} [the run]"]))


def test_a_kill_only_by_a_check_known_to_fail_at_random_is_confirmed_by_reruns(tmp_path: Path) -> None:
    scratch, mutant, _ = _mutant_in(tmp_path)
    assert not execute.needs_confirming(_killed_by("scenario_steps", mutant), {"list_filters_honoured"})
    doubtful = _killed_by("list_filters_honoured", mutant)
    assert execute.needs_confirming(doubtful, {"list_filters_honoured"})
    passing = [sys.executable, "-c", "pass"]
    result = execute.confirm(doubtful, scratch, passing, scratch / "junit.xml", 60, times=2)
    assert result.outcome.status == execute.SURVIVED and "passed on rerun 1" in result.outcome.note
    junit = '<testsuite><testcase name="list_filters_honoured [the run]"><failure/></testcase></testsuite>'
    failing = [sys.executable, "-c", f"import sys; open('junit.xml', 'w').write({junit!r}); sys.exit(1)"]
    result = execute.confirm(_killed_by("list_filters_honoured", mutant), scratch, failing, scratch / "junit.xml",
                             60, times=2)
    assert (result.outcome.status, result.outcome.note) == (execute.KILLED, "confirmed by 2 rerun(s)")
