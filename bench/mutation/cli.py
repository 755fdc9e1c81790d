"""Mutation testing of the mock's rules, representation and webhooks, `otacm verify` as the test.

    python -m bench.mutation --sample 60 --seed 1 --out /tmp/mutation
    python -m bench.mutation --list --sample 10      # which mutants, without running them
    python -m bench.mutation --strictness strict --verify-arg=--no-scenarios

First a baseline: the unmutated copy must pass, or every kill would be noise.
Then each sampled mutant, `-j` at a time (one verify per core at most; the
default 1 keeps a shared machine usable), each in its own scratch copy.
"""

from __future__ import annotations

import argparse
import json
import queue
import shlex
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.mutation import execute, report
from bench.mutation.mutants import (
    TARGETS,
    Mutant,
    diff,
    enumerate_mutants,
    mutated_source,
    sample,
)
from bench.mutation.scratch import make_scratch, remove_scratch

ROOT = Path(__file__).resolve().parents[2]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.mutation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=60, metavar="N", help="mutants to run (default 60)")
    parser.add_argument("--seed", type=int, default=1, help="sampling seed (default 1)")
    parser.add_argument("--strictness", choices=("documented", "strict"), default="documented",
                        help="the verify level that judges the mutants (default documented)")
    parser.add_argument("--modules", default=",".join(TARGETS), help="comma list of files to mutate")
    parser.add_argument("--timeout", type=float, default=0.0, metavar="SECONDS",
                        help="per mutant (default: 4x the baseline run, at least 180)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="mutants at a time (default 1)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/mutation"), help="report directory")
    parser.add_argument("--verify-arg", action="append", default=[], metavar="ARG",
                        help="one more argument for otacm verify, as --verify-arg=--flag (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the sampled mutants and exit")
    parser.add_argument("--flaky", default="list_filters_honoured", metavar="CHECKS",
                        help="checks known to fail at random: a kill by these alone is re-run (default %(default)s)")
    parser.add_argument("--confirm", type=int, default=2, metavar="N",
                        help="reruns of such a kill; one pass makes it a survivor (default 2)")
    parser.add_argument("--recheck", action="store_true",
                        help="re-run the doubtful kills of the report in --out (a run made before --confirm)")
    return parser.parse_args(argv)


def _flaky(args: argparse.Namespace) -> set[str]:
    return {name.strip() for name in args.flaky.split(",") if name.strip()}


def _recheck(args: argparse.Namespace, scratch: Path) -> int:
    """Confirm the doubtful kills of an earlier report, in a fresh copy; a mutant whose diff
    no longer matches the source (someone edited the module since) is left as it was."""
    data = json.loads((args.out / "report.json").read_text(encoding="utf-8"))
    results = [execute.MutantResult(
        Mutant(*(m[k] for k in ("module", "line", "column", "operator", "occurrence"))), m["diff"],
        execute.Outcome(m["status"], m["exit_code"], m["seconds"], m["failed_checks"], m["tail"], m.get("note", "")))
        for m in data["mutants"]]
    junit = scratch / "mutant.junit.xml"
    command = execute.verify_command(data["strictness"], junit, args.verify_arg)
    for result in (r for r in results if execute.needs_confirming(r, _flaky(args))):
        source = (scratch / result.mutant.module).read_text(encoding="utf-8")
        if diff(result.mutant, source, mutated_source(result.mutant, source) or source) != result.diff:
            result.outcome.note = "not rechecked: the module changed since the run"
            continue
        execute.confirm(result, scratch, command, junit, data["timeout"], args.confirm)
        print(f"{result.mutant.label()}: {result.outcome.status} ({result.outcome.note})", flush=True)
    data = report.summary(results, {k: v for k, v in data.items() if k not in ("counts", "mutants")})
    report.write(args.out, data)
    print(f"score {data['score']}: {data['counts']}; report in {args.out}/report.md", flush=True)
    return 0


def _baseline(scratch: Path, command: list[str], junit: Path) -> execute.Outcome:
    print("baseline: the unmutated copy ...", flush=True)
    outcome = execute.run_verify(scratch, command, junit, timeout=900)
    print(f"baseline: {outcome.status} in {outcome.seconds:.0f} s", flush=True)
    return outcome


def _run_all(chosen: list[Mutant], scratches: list[Path], args: argparse.Namespace,
             meta: dict[str, Any]) -> list[execute.MutantResult]:
    """Run the mutants, a scratch copy per worker, rewriting the report after each."""
    free: queue.Queue[Path] = queue.Queue()
    for scratch in scratches:
        free.put(scratch)
    results: list[execute.MutantResult] = []

    def one(mutant: Mutant) -> None:
        scratch = free.get()
        try:
            command = execute.verify_command(args.strictness, scratch / "mutant.junit.xml", args.verify_arg)
            result = execute.run_mutant(mutant, scratch, command, scratch / "mutant.junit.xml", meta["timeout"])
            if execute.needs_confirming(result, _flaky(args)):
                result = execute.confirm(result, scratch, command, scratch / "mutant.junit.xml", meta["timeout"],
                                         args.confirm)
        finally:
            free.put(scratch)
        results.append(result)
        print(f"[{len(results)}/{len(chosen)}] {mutant.label()}: {result.outcome.status} "
              f"({result.outcome.seconds:.0f} s) {' '.join(result.outcome.failed_checks)}", flush=True)
        report.write(args.out, report.summary(sorted(results, key=lambda r: r.mutant), {**meta, "done": len(results)}))

    with ThreadPoolExecutor(max_workers=len(scratches)) as pool:
        list(pool.map(one, chosen))
    return sorted(results, key=lambda r: r.mutant)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    modules = [name.strip() for name in args.modules.split(",") if name.strip()]
    scratches = [make_scratch(ROOT) for _ in range(max(1, args.jobs))]
    try:
        if args.recheck:
            return _recheck(args, scratches[0])
        population = enumerate_mutants(scratches[0], modules)
        chosen = sample(population, args.sample, args.seed)
        if args.list:
            print("\n".join(mutant.label() for mutant in chosen))
            return 0
        junit = scratches[0] / "baseline.junit.xml"
        base = _baseline(scratches[0], execute.verify_command(args.strictness, junit, args.verify_arg), junit)
        if base.status != execute.SURVIVED:
            print(f"the unmutated tree fails verify ({base.status}: {' '.join(base.failed_checks)}):"
                  f" fix that first\n{base.tail}", file=sys.stderr)
            return 2
        meta = {"command": shlex.join(["python", "-m", "bench.mutation", *(argv or sys.argv[1:])]),
                "population": len(population), "sites": len({(m.module, m.line, m.column) for m in population}),
                "sample": len(chosen), "seed": args.seed, "strictness": args.strictness, "modules": modules,
                "timeout": args.timeout or max(180.0, 4 * base.seconds), "baseline_seconds": base.seconds,
                "flaky": sorted(_flaky(args)), "confirm": args.confirm,
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "done": 0}
        results = _run_all(chosen, scratches, args, meta)
        data = report.summary(results, {**meta, "done": len(results)})
        report.write(args.out, data)
        print(f"score {data['score']}: {data['counts']}; report in {args.out}/report.md", flush=True)
        return 0
    finally:
        for scratch in scratches:
            remove_scratch(scratch, ROOT)
