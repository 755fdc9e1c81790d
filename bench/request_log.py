"""Section 9 of `python -m bench` (`--sections requestlog`): what the request log costs getOrder (issue 21).

Four servers, each as `otacm mock` serves (bench/stores_serve.py: granian,
one process, GRANIAN_THREADS, the ticker, every order's JSON rendered once):
memory and SQLite, each with the request log off (`requestLog.limit: 0`)
and on (its default bound, 10,000). Each first answers
`--requestlog-requests` getOrders (100,000: the log on has logged that many,
ten times its bound), then getOrder is measured in alternating rounds (off,
on, on, off, ...) on the bench's one load generator, so drift on a shared
machine hits both alike. Printed: req/s, p50, p99, the on/off ratio and the
drop next to the issue's targets (< 10 % on memory, < 20 % on SQLite), and
the log's size against its bound, from `GET /_mock/requests` while serving
and, for SQLite, from the file's table once the server has stopped. Beside
req/s, the server's CPU time per request in each round (its processes'
user + system time from /proc, over the requests answered): on a shared
2-core machine req/s moves 20-30 % round to round with the scheduling of the
load generator against the server, while the CPU a request costs is the
log's cost itself, steadier by far. And the servers run on core 0, the load
generator on core 1 (`taskset`, where there are two cores and util-linux):
left to the scheduler, a server sharing a core with wrk for a few rounds
made one mode look 20 % dearer or cheaper than the other in one run and the
opposite in the next; pinned, two runs of the same code agreed within 1 %.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from types import MappingProxyType
from typing import Any, Optional

from bench.latency import HEADLINE_CONNECTIONS
from bench.processes import request
from bench.stores import StoreServer, combine, start_server
from bench.wrk import generator, measure
from mockserver.store.writethrough import decode_requests

STORES = ("memory", "sqlite")
MODES = ("off", "on")
DROP_TARGETS = MappingProxyType({"memory": 0.10, "sqlite": 0.20})  # getOrder req/s lost with the log on, less than
FILL_SECONDS = 5.0  # one load run while filling the log
WARMUP_SECONDS = 1  # load before each measured round (wrk's least), not counted in its CPU per request
SERVER_CPU, LOAD_CPU = 0, 1  # the cores the servers and the load generator are pinned to (see the module doc)


def log(message: str = "") -> None:
    print(message, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requestlog-orders", type=int, default=10_000, help="orders in each store for section 9")
    parser.add_argument("--requestlog-requests", type=int, default=100_000,
                        help="getOrders each server answers before section 9 measures (the log on logs them)")
    parser.add_argument("--requestlog-seconds", type=float, default=3, help="measured seconds per round in section 9")
    parser.add_argument("--requestlog-rounds", type=int, default=12,
                        help="alternating rounds (off first, then on first, ...) per store in section 9")


def bench_request_log_section(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    placement = (f"servers on core {SERVER_CPU}, load generator on core {LOAD_CPU}" if cores() else
                 "not pinned: needs two cores and taskset")
    log(f"\n9. The request log: getOrder with it off and on (load generator: {generator()}; {placement})")
    with tempfile.TemporaryDirectory(prefix="otacm-bench-requestlog-") as tmp:
        result = figures["requestlog"] = bench_request_log(
            args.requestlog_orders, args.requestlog_requests, args.requestlog_seconds, args.requestlog_rounds,
            Path(tmp))
    print_request_log(result)


def bench_request_log(orders: int, requests: int, seconds: float, rounds: int, workdir: Path) -> dict[str, Any]:
    urls = {"memory": "memory", "sqlite": f"sqlite:{workdir / 'requestlog-on.db'}"}
    servers: dict[tuple[str, str], StoreServer] = {}
    result: dict[str, Any] = {"orders": orders, "requests": requests, "seconds": seconds, "rounds": rounds,
                              "connections": HEADLINE_CONNECTIONS, "stores": {}}
    server_cpu, load_cpu = cores() or (None, None)
    try:
        for store in STORES:
            for mode in MODES:
                url = urls[store] if mode == "on" or store == "memory" else f"sqlite:{workdir / 'requestlog-off.db'}"
                server = start_server(url, orders, workdir / f"{store}-{mode}", request_log_limit=0 if mode == "off"
                                      else None, cpu=server_cpu)
                server.wait_ready()
                servers[(store, mode)] = server
        for (store, mode), server in servers.items():
            began = time.monotonic()
            answered = fill(server, requests, load_cpu)
            result["stores"].setdefault(store, {})[f"fill_{mode}"] = {"answered": answered,
                                                                       "seconds": time.monotonic() - began}
        for store in STORES:
            runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
            for round_ in range(rounds):
                for mode in (MODES if round_ % 2 == 0 else MODES[::-1]):
                    server = servers[(store, mode)]
                    measure(server.port, server.info_file, "get", WARMUP_SECONDS, HEADLINE_CONNECTIONS, warmup=0,
                            cpu=load_cpu)
                    before = cpu_seconds(server.pid)
                    run = measure(server.port, server.info_file, "get", seconds, HEADLINE_CONNECTIONS, warmup=0,
                                  cpu=load_cpu)
                    run["cpu_us"] = (cpu_seconds(server.pid) - before) / max(1, run["requests"]) * 1e6
                    runs[mode].append(run)
            kept = log_state(servers[(store, "on")])
            result["stores"][store].update({"runs": runs, "combined": {m: combine(r) for m, r in runs.items()},
                                            "log": kept})
    finally:
        for server in servers.values():
            server.stop()
    result["stores"]["sqlite"]["file"] = requests_in_file(workdir / "requestlog-on.db")
    return result


def cores() -> tuple[Optional[int], Optional[int]] | None:
    """(the servers' core, the load generator's), or None where they cannot be pinned."""
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        return None
    return SERVER_CPU, LOAD_CPU


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children (the granian worker), from /proc."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(entry) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / os.sysconf("SC_CLK_TCK")


def fill(server: StoreServer, requests: int, cpu: Optional[int] = None) -> int:
    """getOrder load until the server has answered `requests` of them (counted by the load generator)."""
    answered = 0
    while answered < requests:
        run = measure(server.port, server.info_file, "get", FILL_SECONDS, HEADLINE_CONNECTIONS, warmup=0, cpu=cpu)
        if run["requests"] == 0:
            raise RuntimeError(f"{server.name}: no getOrder answered while filling; see {server.log_path}")
        answered += int(run["requests"])
    return answered


def log_state(server: StoreServer) -> dict[str, Any]:
    """The log's newest id (how many it has logged), what it keeps and its bound, from the control API."""
    status, body = request(server.port, "GET", "/_mock/requests?limit=1")
    if status != 200:
        raise RuntimeError(f"GET /_mock/requests answered {status}: {body}")
    newest = body["requests"][0] if body["requests"] else None
    return {"logged": newest["id"] if newest else 0, "kept": body["kept"], "limit": body["limit"],
            "newest_operation": newest["operation"] if newest else None}


def requests_in_file(path: Path) -> dict[str, int]:
    """The request log as a sandbox file holds it once the server that owned it has stopped: the requests
    in its chunks, and how many of those the read side loads (the newest within the bound)."""
    db = sqlite3.connect(path)
    try:
        chunks = [chunk for (chunk,) in db.execute("SELECT requests FROM request_log ORDER BY last_id")]
    finally:
        db.close()
    sizes = [sum(1 for _ in decode_requests([chunk])) for chunk in chunks]
    return {"chunks": len(chunks), "requests": sum(sizes), "oldest_chunk": sizes[0] if sizes else 0}


def print_request_log(result: dict[str, Any]) -> None:
    log(f"  getOrder, {result['orders']:,} orders in each store, served as `otacm mock` serves them, after "
        f"{result['requests']:,} getOrders; {result['connections']} connections, {result['rounds']} alternating "
        f"rounds of {result['seconds']:g} s (means)")
    log(f"    {'store':<8}{'log':<5}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}   {'on/off':>7}  {'drop':>6}  target")
    for store in STORES:
        figures = result["stores"][store]
        off, on = figures["combined"]["off"], figures["combined"]["on"]
        ratio = on["rps"] / off["rps"]
        drop, target = 1 - ratio, DROP_TARGETS[store]
        log(f"    {store:<8}{'off':<5}{_cells(off)}")
        log(f"    {'':<8}{'on':<5}{_cells(on)}   {ratio:>7.2f}  {drop:>6.1%}  < {target:.0%}: "
            f"{'met' if drop < target else 'MISSED'}")
        paired = [on_run["rps"] / off_run["rps"]
                  for off_run, on_run in zip(figures["runs"]["off"], figures["runs"]["on"], strict=True)]
        median = statistics.median(paired)
        figures["paired_median"] = median
        log(f"    {'':<8}on/off by round: {', '.join(f'{r:.2f}' for r in paired)}; median {median:.2f} "
            f"(drop {1 - median:.1%}: {'met' if 1 - median < target else 'MISSED'})")
        cpu = {mode: statistics.median(run["cpu_us"] for run in figures["runs"][mode]) for mode in MODES}
        figures["cpu_us"] = cpu
        log(f"    {'':<8}server CPU per request, median of the rounds: off {cpu['off']:.1f} µs, on {cpu['on']:.1f} µs "
            f"(+{cpu['on'] / cpu['off'] - 1:.1%}: the log's cost, steadier than req/s)")
        kept = figures["log"]
        within = kept["kept"] <= kept["limit"]
        log(f"    {'':<8}log: {kept['logged']:,} requests logged, {kept['kept']:,} kept, bound {kept['limit']:,} "
            f"({'within' if within else 'OVER'} its bound)")
    held = result["stores"]["sqlite"]["file"]
    bound = result["stores"]["sqlite"]["log"]["limit"]
    over = held["requests"] - bound
    log(f"    SQLite file after the server stopped: {held['requests']:,} requests in {held['chunks']} chunks; "
        f"{max(over, 0):,} over the bound, all in the oldest chunk ({held['oldest_chunk']:,}), which the next open "
        f"drops from the read side ({'as designed' if over < held['oldest_chunk'] else 'OVER'})")


def _cells(run: dict[str, Any]) -> str:
    bad = {k: v for k, v in run["statuses"].items() if not k.startswith("2")}
    return f"{run['rps']:>8.0f}{run['p50_ms']:>8.2f}{run['p99_ms']:>8.2f}" + (f"  (!) {bad}" if bad else "")
