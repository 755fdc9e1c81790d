"""`python -m bench`: every benchmark of the mock, in one run, with ratios.

1. The mock against its stack's limit and the anchors (bench/latency.py):
   getOrder at 1/4/16/64 connections next to the limit (`GET /_bench/limit`,
   an order's bytes from the same server and Flask app), createOrder and
   listOrdersByPartner at 16, and getOrder's URL on Prism and WireMock.
2. WSGI servers: each candidate serves the mock with 100,000 orders in its
   store (one process); getOrder, createOrder and listOrdersByPartner and the
   limit, each server's in-memory state checked first (a created order is
   found on fresh connections; 16 racing creates of one reference give one 201).
3. Time warp: 10,000 orders from Submitted to Issued/Draft with one clock
   advance, against the 64 s the same lifecycle takes in real time.
4. Memory per stored order at 100,000 and 1,000,000 orders (RSS growth).
5. `otacm verify`: one default run against the embedded mock and one against `otacm mock --no-control`.
6. The dashboard (bench/dashboard.py): its first page's server time with
   10,000 orders, and getOrder throughput while the page is open and refreshing.
8. The stores (bench/stores.py): getOrder, createOrder and one advance on memory
   and on SQLite, with the ratios; `otacm mock` starting on 100,000 orders in SQLite.
9. The request log (bench/request_log.py): getOrder with the log off and on, after
   100,000 requests logged, on memory and on SQLite; the log's size against its bound.
10. Worker processes (bench/workers.py): getOrder and createOrder on memory and on PostgreSQL with
   `otacm mock --workers 1/2/4`, the ratios to memory; one advance settling 10,000 orders on each.

Every measurement uses one load generator (bench/wrk.py: wrk, else
bench/loadgen.py). Figures are noisy on a shared 2-core machine; ratios measured in the same
run hold. See bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

from bench import request_log, stores, workers
from bench.latency import bench_latency
from bench.processes import PYTHON, ROOT, Zygote, check_state, loadgen, log, otacm_command
from bench.warp import REAL_TIME_LIFECYCLE, bench_warp
from mockserver.cli import GRANIAN_THREADS

# (scenario, label): the loadgen scenarios, the limit first.
SCENARIOS = [
    ("limit", "limit: constant JSON"),
    ("get", "getOrder"),
    ("create", "createOrder"),
    ("list", "listOrdersByPartner page"),
    ("list-issued", "  ?status=Issued"),
]
HEADLINE = ["get", "create", "list"]
# name@threads; granian@GRANIAN_THREADS is what `otacm mock` runs (mockserver/cli.py), werkzeug what
# the in-process MockServer (pytest fixture, embedded mock) runs.
CANDIDATES = [f"granian@{GRANIAN_THREADS}", "waitress@8"]  # add gunicorn@2,werkzeug with --servers


def bench_servers(zygote: Zygote, names: list[str], threads: int, seconds: float,
                  connections: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for label in names:
        name, _, count = label.partition("@")  # granian@4: granian with 4 threads
        if importlib.util.find_spec(name) is None:
            log(f"\n  {name}: not installed (pip install {name}), skipped")
            continue
        started = time.monotonic()
        server = zygote.serve(name, int(count or threads))
        try:
            server.wait_ready()
            problems = check_state(server)
            runs: dict[str, Any] = {}
            for scenario, _ in SCENARIOS:
                runs[scenario] = loadgen(server, scenario, seconds, connections)
            runs["limit-end"] = loadgen(server, "limit", seconds, connections)  # the limit again: drift
        finally:
            server.stop()
        results[label] = {"problems": problems, "runs": runs, "seconds": time.monotonic() - started}
        print_server(label, results[label])
    return results


def limit_rps(runs: dict[str, Any]) -> float:
    return (runs["limit"]["rps"] + runs["limit-end"]["rps"]) / 2


def print_server(name: str, result: dict[str, Any]) -> None:
    runs = result["runs"]
    state = "correct" if not result["problems"] else "BROKEN: " + "; ".join(result["problems"])
    limit = limit_rps(runs)
    log(f"\n  {name}  (in-memory state: {state}; {result['seconds']:.0f} s)")
    log(f"    {'scenario':<27}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'mock/limit':>12}   statuses")
    for scenario, label in SCENARIOS:
        run = runs[scenario]
        ratio = "-" if scenario == "limit" else f"{run['rps'] / limit:.2f}"
        rps = limit if scenario == "limit" else run["rps"]
        statuses = ",".join(f"{k}:{v}" for k, v in run["statuses"].items())
        errors = f" errors {run['errors']}" if run["errors"] else ""
        log(f"    {label:<27}{rps:>8.0f}{run['p50_ms']:>9.1f}{run['p99_ms']:>9.1f}{ratio:>12}   {statuses}{errors}")
    log(f"    (limit measured before and after: {runs['limit']['rps']:.0f} and {runs['limit-end']['rps']:.0f} req/s)")


def check_only(zygote: Zygote, name: str, threads: int) -> list[str]:
    server = zygote.serve(name, threads)
    try:
        server.wait_ready()
        return check_state(server)
    finally:
        server.stop()


def choose(results: dict[str, Any]) -> Optional[str]:
    """The fastest server whose state is correct: geometric mean of the
    headline scenarios' mock/limit-independent req/s."""
    def score(result: dict[str, Any]) -> float:
        product = 1.0
        for scenario in HEADLINE:
            product *= result["runs"][scenario]["rps"]
        return product ** (1 / len(HEADLINE))

    correct = {name: score(r) for name, r in results.items() if not r["problems"]}
    return max(correct, key=correct.__getitem__) if correct else None


# -- memory ---------------------------------------------------------------------
def bench_memory(sizes: list[int], timeout: float = 400) -> list[dict[str, Any]]:
    """One process fills up to each size in turn: one JSON line per size."""
    output = subprocess.run([PYTHON, "-m", "bench.memory", ",".join(map(str, sizes))], cwd=ROOT,
                            capture_output=True, text=True, timeout=timeout)
    if output.returncode != 0:
        raise RuntimeError(f"bench.memory failed: {output.stderr[-2000:]}")
    return [json.loads(line) for line in output.stdout.strip().splitlines()]


# -- otacm verify -----------------------------------------------------------------
def bench_verify_section(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    """One default verify run against the embedded mock (<= 60 s) and the real-time mock (<= 5 min, issue 10)."""
    from bench.verify_wall import embedded, real_time

    log("\n5. otacm verify: one default run, wall time")
    runs = {"embedded mock (warped)": lambda: embedded(otacm_command(), ROOT)}
    if args.verify_pickup:
        runs[f"real-time mock, pickup every {args.verify_pickup:g} s"] = \
            lambda: real_time(otacm_command(), ROOT, args.verify_pickup if args.verify_pickup != 60 else None)
    figures["verify"] = {}
    for label, timed in runs.items():
        result = figures["verify"][label] = timed()
        log(f"  {label:<40} {result['wall_seconds']:7.1f} s wall, exit {result['exit']}  {result['verdict']}")


def bench_server_section(args: argparse.Namespace, workdir: Path, figures: dict[str, Any]) -> None:
    names = [n for n in args.servers.split(",") if n]
    log("\nServers: one process each, serving a copy of a store filled once; load from a separate process")
    if "latency" in args.sections.split(","):
        (workdir / "latency").mkdir(exist_ok=True)
        zygote = Zygote(args.latency_orders, workdir / "latency")
        try:
            figures["latency"] = bench_latency(zygote, workdir, args.latency_seconds, not args.no_anchors)
        finally:
            zygote.stop()
    if "servers" not in args.sections.split(","):
        return
    filling = time.monotonic()
    zygote = Zygote(args.orders, workdir)
    log(f"  (store filled once in {time.monotonic() - filling:.0f} s; each server serves a forked copy)")
    try:
        log(f"\n2. WSGI servers (name@threads): {args.connections} keep-alive connections, "
            f"{args.seconds:g} s per scenario after 0.5 s warm-up")
        figures["servers"] = bench_servers(zygote, names, args.threads, args.seconds, args.connections)
        if any(label.startswith("gunicorn") for label in figures["servers"]):
            problems = figures["gunicorn-2proc"] = check_only(zygote, "gunicorn-2proc", args.threads)
            log(f"\n  gunicorn with 2 worker processes (state check only): "
                f"{'BROKEN: ' + '; '.join(problems) if problems else 'correct (unexpected)'}")
    finally:
        zygote.stop()
    chosen = choose(figures["servers"])
    figures["chosen"] = chosen
    if chosen:
        runs = figures["servers"][chosen]["runs"]
        summary = ", ".join(f"{s} {runs[s]['rps']:.0f} req/s ({runs[s]['rps'] / limit_rps(runs):.2f} of limit)"
                            for s in HEADLINE)
        log(f"\n  fastest with a correct state: {chosen}: {summary}")
        for other, result in figures["servers"].items():
            if other != chosen:
                speedups = ", ".join(
                    f"{s} x{runs[s]['rps'] / result['runs'][s]['rps']:.2f}" for s in HEADLINE)
                log(f"    vs {other}: {speedups}")


# -- main -------------------------------------------------------------------------
def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default=",".join(CANDIDATES), help="WSGI servers to measure")
    parser.add_argument("--orders", type=int, default=100_000, help="orders in the store while serving")
    parser.add_argument("--seconds", type=float, default=2, help="measured seconds per scenario")
    parser.add_argument("--connections", type=int, default=8, help="load generator connections")
    parser.add_argument("--threads", type=int, default=8, help="server threads where a --servers entry has no @N")
    parser.add_argument("--warp-orders", type=int, default=10_000)
    parser.add_argument("--memory", default="100000", help="store sizes for memory per order, e.g. 100000,1000000 "
                        "for the linearity check (the 1,000,000 fill takes ~2 minutes; '' skips)")
    parser.add_argument("--verify-pickup", type=float, default=60.0,
                        help="pickup cadence of the real-time mock verify runs against (default the documented 60 s; "
                             "0 skips that run)")
    parser.add_argument("--sections", default="latency,servers,warp,memory,verify,dashboard,stores,requestlog,workers",
                        help="which parts to run (comma list; also: slow, the slow-client section 7)")
    parser.add_argument("--latency-seconds", type=float, default=3, help="measured seconds per latency figure")
    parser.add_argument("--latency-orders", type=int, default=10_000,
                        help="orders in the store for section 1 (10,000 as in issue 13's measurement)")
    parser.add_argument("--no-anchors", action="store_true", help="skip Prism and WireMock")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 servers, 10,000 orders, 1 s each")
    parser.add_argument("--dashboard-orders", type=int, default=10_000, help="orders in the store for section 6")
    parser.add_argument("--json", metavar="FILE", help="also write every figure to FILE")
    stores.add_arguments(parser)
    request_log.add_arguments(parser)
    workers.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.servers, args.orders, args.seconds, args.memory, args.warp_orders = f"granian@{GRANIAN_THREADS},gunicorn@2", 10_000, 1, "10000", 2000
        args.stores_orders, args.stores_seconds, args.stores_rounds = 2000, 1, 2
        args.stores_start_orders, args.stores_starts = 10_000, 1
        args.requestlog_orders, args.requestlog_requests, args.requestlog_rounds = 2000, 20_000, 2
        args.workers_orders, args.workers_seconds, args.workers_rounds = 500, 1, 2

    began = time.monotonic()
    figures: dict[str, Any] = {}
    log(f"otacm bench: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    sections = set(args.sections.split(","))
    if sections & {"latency", "servers"}:
        with tempfile.TemporaryDirectory(prefix="otacm-bench-") as tmp:
            bench_server_section(args, Path(tmp), figures)

    if "warp" in sections:
        log(f"\n3. Time warp: {args.warp_orders:,} orders Submitted -> Issued/Draft with one clock advance")
        warp = figures["warp"] = bench_warp(args.warp_orders)
        log(f"  wall {warp['wall_seconds']:.2f} s ({warp['per_second']:.0f} orders/s); settled {warp['settled']:,}, "
            f"each exactly once: {warp['settled_once']:,}")
        log(f"  real-time lifecycle {REAL_TIME_LIFECYCLE:.0f} s (pickup on the 60 s cadence + 1 s + 3 s): "
            f"warp is x{warp['ratio']:.0f} faster")

    sizes = [int(s) for s in args.memory.split(",") if s] if "memory" in sections else []
    if sizes:
        log("\n4. Memory per stored order (one ticket each, settled: 90 % Issued with a minted wallet, 10 % Draft; RSS growth)")
        figures["memory"] = {}
        for result in bench_memory(sizes):
            size = result["orders"]
            figures["memory"][size] = result
            log(f"  {size:>9,} orders: {result['rss_per_order']:,.0f} bytes/order "
                f"({result['rss_delta_bytes'] / 2**20:,.0f} MiB; store filled after {result['fill_seconds']:.0f} s)")
        if len(sizes) > 1:
            first, last = figures["memory"][sizes[0]], figures["memory"][sizes[-1]]
            log(f"  ratio {sizes[-1]:,} / {sizes[0]:,}: x{last['rss_per_order'] / first['rss_per_order']:.2f} per order")

    if "verify" in sections:
        bench_verify_section(args, figures)

    if "dashboard" in sections:
        from bench.dashboard import bench_dashboard_section

        with tempfile.TemporaryDirectory(prefix="otacm-bench-") as tmp:
            bench_dashboard_section(args.dashboard_orders, Path(tmp), args.seconds, args.connections, figures)

    if "slow" in sections:
        from bench.slow_clients import bench_slow_clients_section

        bench_slow_clients_section(figures)

    if "stores" in sections:
        stores.bench_stores_section(args, figures)

    if "requestlog" in sections:
        request_log.bench_request_log_section(args, figures)

    if "workers" in sections:
        workers.bench_workers_section(args, figures)

    total = time.monotonic() - began
    figures["total_seconds"] = total
    log(f"\nbench finished in {total:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    return 0
