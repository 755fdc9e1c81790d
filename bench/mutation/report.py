"""The mutation report: the score, the survivors with their diffs, as JSON and Markdown.

Written again after every mutant, so a long run can be read while it goes.
Score = detected / (detected + survived), where detected is killed by a failed
check, crashed (verify exited non-zero with no failed check) or timed out;
the Markdown gives the score without the timeouts too.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.mutation.execute import CRASHED, KILLED, SURVIVED, TIMEOUT, MutantResult

DETECTED = (KILLED, CRASHED, TIMEOUT)


def score(results: Sequence[MutantResult], *, with_timeouts: bool = True) -> float | None:
    """The share of judged mutants the run noticed; None while none is judged."""
    counts = Counter(result.outcome.status for result in results)
    detected = sum(counts[status] for status in DETECTED if with_timeouts or status != TIMEOUT)
    judged = detected + counts[SURVIVED]
    return detected / judged if judged else None


def summary(results: Sequence[MutantResult], meta: dict[str, Any]) -> dict[str, Any]:
    """Everything the report says, as data."""
    counts = Counter(result.outcome.status for result in results)
    return {**meta, "counts": dict(sorted(counts.items())), "score": score(results),
            "score_without_timeouts": score(results, with_timeouts=False),
            "mutants": [result.as_dict() for result in results]}


def _checks(names: Sequence[str]) -> str:
    """Failed checks by name, a parametrised one once with its count: `scenario_steps x34`."""
    counts = Counter(name.split(" [")[0] for name in names)
    return ", ".join(name if n == 1 else f"{name} x{n}" for name, n in counts.items())


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def markdown(data: dict[str, Any]) -> str:
    """The report for a person: figures, then each survivor with its diff, then the rest in a table."""
    counts = data["counts"]
    lines = [f"# Mutation run: {data['done']} of {data['sample']} mutants", "",
             f"Command: `{data['command']}`", "",
             (f"Mutants in the targets: {data['population']} ({data['sites']} sites); sample {data['sample']} "
              f"(seed {data['seed']}, strictness {data['strictness']}, timeout {data['timeout']:.0f} s)."), "",
             (f"**Score {_percent(data['score'])}** = detected/(detected+survived); "
              f"without timeouts {_percent(data['score_without_timeouts'])}."), "",
             "| " + " | ".join(counts) + " |", "|" + "---|" * len(counts), "| " + " | ".join(map(str, counts.values())) + " |",
             "", "## Survivors", ""]
    for mutant in (m for m in data["mutants"] if m["status"] == SURVIVED):
        note = [f"_{mutant['note']}_", ""] if mutant.get("note") else []
        lines += [f"### {mutant['label']}", "", *note, "```diff", mutant["diff"].rstrip(), "```", ""]
    lines += ["## All mutants", "", "| mutant | outcome | s | failed checks | note |", "|---|---|---|---|---|"]
    lines += [f"| {m['label']} | {m['status']} | {m['seconds']:.0f} | {_checks(m['failed_checks'])} | {m.get('note', '')} |"
              for m in data["mutants"]]
    return "\n".join(lines) + "\n"


def write(out: Path, data: dict[str, Any]) -> None:
    """`report.json` and `report.md` under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (out / "report.md").write_text(markdown(data), encoding="utf-8")
