"""Section 8 of `python -m bench` (`--sections stores`): the stores, memory against SQLite (issue 19).

- getOrder and createOrder on `memory` and on `sqlite:` (a fresh file), both
  served as `otacm mock` serves them (granian, one process, GRANIAN_THREADS,
  the ticker; bench/stores_serve.py) from the same fill, every order's JSON
  rendered once (as section 1's first runs leave them), state-checked first,
  then measured in alternating rounds (memory, SQLite, SQLite, memory, ...)
  on the bench's one load generator, so drift on a shared machine hits both
  alike. SQLite/memory ratios next to the issue's targets; memory's getOrder
  next to the limit (bare Flask on the same server: issue 13's >= 1.2x).
- One advance settling 10,000 orders on each store (section 3's method),
  the SQLite/memory time ratio, and the file read back: every order settled.
- `otacm mock --store sqlite:FILE` over a file of 100,000 settled orders: the
  time from process start to its first 200 getOrder, next to the same over an
  empty file (the mock's own start, which loading adds to).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Optional

from bench.latency import HEADLINE_CONNECTIONS
from bench.processes import PYTHON, ROOT, ServerProcess, check_state, free_port, otacm_command, request
from bench.warp import bench_warp
from bench.wrk import generator, measure, pinned

STORES = ("memory", "sqlite")
SCENARIOS = (("get", "getOrder"), ("create", "createOrder"))
RATIO_TARGETS = MappingProxyType({"get": 0.6, "create": 0.4})  # SQLite req/s ÷ memory req/s, at least
LIMIT_TARGET = 1.2  # memory getOrder ÷ the limit, at least (issue 13's figure was 1.37)
WARP_TARGET = 10.0  # SQLite advance time ÷ memory's, at most
START_TARGET = 3.0  # s from `otacm mock` starting to its first getOrder, at most
POLL_SECONDS = 0.01


def log(message: str = "") -> None:
    print(message, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stores-orders", type=int, default=10_000,
                        help="orders in each store for section 8's getOrder and createOrder")
    parser.add_argument("--stores-seconds", type=float, default=2, help="measured seconds per round in section 8")
    parser.add_argument("--stores-rounds", type=int, default=4,
                        help="alternating rounds (memory first, then SQLite first, ...) per figure in section 8")
    parser.add_argument("--stores-start-orders", type=int, default=100_000,
                        help="orders in the file `otacm mock --store sqlite:` starts on in section 8")
    parser.add_argument("--stores-starts", type=int, default=3, help="starts measured per file in section 8")


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


# -- the section --------------------------------------------------------------------
def bench_stores_section(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    """Every figure of the section, printed as it comes, kept in figures["stores"]."""
    result: dict[str, Any] = {}
    figures["stores"] = result
    log(f"\n8. Stores: memory and SQLite (load generator: {generator()})")
    with tempfile.TemporaryDirectory(prefix="otacm-bench-stores-") as tmp:
        workdir = Path(tmp)
        result["throughput"] = bench_throughput(args.stores_orders, args.stores_seconds, args.stores_rounds, workdir)
        print_throughput(result["throughput"], figures.get("latency"))
        result["warp"] = bench_warps(args.warp_orders, args.stores_rounds, workdir)
        print_warps(result["warp"])
        result["start"] = bench_start(args.stores_start_orders, args.stores_starts, workdir)
        print_start(result["start"])


# -- getOrder and createOrder -----------------------------------------------------------
@dataclass
class StoreServer(ServerProcess):
    """A server started with Popen (the zygote's are forked): alive until reaped."""

    process: Optional["subprocess.Popen[bytes]"] = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def start_server(store: str, orders: int, workdir: Path, timeout: float = 300,
                 request_log_limit: Optional[int] = None, cpu: Optional[int] = None) -> StoreServer:
    """`python -m bench.stores_serve serve` on its own folder (the load generator
    writes its scripts and ids beside the info file); `cpu`: it and its worker on that core only."""
    workdir.mkdir()
    info_file, log_path, port = workdir / "info.json", workdir / "server.log", free_port()
    limit = [] if request_log_limit is None else ["--request-log-limit", str(request_log_limit)]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            pinned([PYTHON, "-m", "bench.stores_serve", "serve", "--store", store, "--orders", str(orders),
                    "--port", str(port), "--info-file", str(info_file), *limit], cpu),
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while not info_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{store}: the server did not fill its store; its log: {log_path.read_text()[-2000:]}")
        time.sleep(0.1)
    info = json.loads(info_file.read_text())
    return StoreServer(store, process.pid, port, info, info_file, log_path, process)


def bench_throughput(orders: int, seconds: float, rounds: int, workdir: Path) -> dict[str, Any]:
    """Both servers up at once; the scenarios in alternating rounds; the limit before and after."""
    urls = {"memory": "memory", "sqlite": f"sqlite:{workdir / 'throughput.db'}"}
    servers: dict[str, StoreServer] = {}
    try:
        for name in STORES:
            servers[name] = start_server(urls[name], orders, workdir / name)
            servers[name].wait_ready()
        problems = {name: check_state(server) for name, server in servers.items()}
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {name: {s: [] for s, _ in SCENARIOS} for name in STORES}
        limit = [_measure(servers["memory"], "limit", seconds)]
        for scenario, _ in SCENARIOS:  # createOrder last: it grows the stores
            for round_ in range(rounds):
                for name in (STORES if round_ % 2 == 0 else STORES[::-1]):
                    runs[name][scenario].append(_measure(servers[name], scenario, seconds))
        limit.append(_measure(servers["memory"], "limit", seconds))
    finally:
        for server in servers.values():
            server.stop()
    return {"orders": orders, "seconds": seconds, "rounds": rounds, "connections": HEADLINE_CONNECTIONS,
            "problems": problems, "limit": limit, "runs": runs,
            "combined": {name: {s: combine(r) for s, r in by.items()} for name, by in runs.items()}}


def _measure(server: StoreServer, scenario: str, seconds: float) -> dict[str, Any]:
    """At section 1's headline connection count, where its getOrder/limit ratio is read."""
    return measure(server.port, server.info_file, scenario, seconds, HEADLINE_CONNECTIONS)


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The rounds of one scenario on one store: the mean req/s, p50 and p99; every status and error."""
    statuses: dict[str, int] = {}
    errors: dict[str, int] = {}
    for run in runs:
        for key, count in run["statuses"].items():
            statuses[key] = statuses.get(key, 0) + count
        for key, count in run["errors"].items():
            errors[key] = errors.get(key, 0) + count
    return {"rps": statistics.fmean(r["rps"] for r in runs), "p50_ms": statistics.fmean(r["p50_ms"] for r in runs),
            "p99_ms": statistics.fmean(r["p99_ms"] for r in runs), "statuses": statuses, "errors": errors}


def print_throughput(result: dict[str, Any], latency: Optional[dict[str, Any]]) -> None:
    combined, runs = result["combined"], result["runs"]
    log(f"\n  getOrder and createOrder, {result['orders']:,} orders in each store, served as `otacm mock` serves "
        f"them; {result['connections']} connections, {result['rounds']} alternating rounds of "
        f"{result['seconds']:g} s (means)")
    log(f"    {'scenario':<13}{'store':<8}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}   {'SQLite/memory':>13}  target")
    for scenario, label in SCENARIOS:
        memory, sqlite = combined["memory"][scenario], combined["sqlite"][scenario]
        ratio, target = sqlite["rps"] / memory["rps"], RATIO_TARGETS[scenario]
        log(f"    {label:<13}{'memory':<8}{_cells(memory)}{_bad(memory)}")
        log(f"    {'':<13}{'sqlite':<8}{_cells(sqlite)}   {ratio:>13.2f}  >= {target:g}: {verdict(ratio >= target)}"
            f"{_bad(sqlite)}")
        pairs = zip(runs["memory"][scenario], runs["sqlite"][scenario], strict=True)
        per_round = ", ".join(f"{s['rps'] / m['rps']:.2f}" for m, s in pairs)
        log(f"    {'':<13}(SQLite/memory by round: {per_round})")
    limit = statistics.fmean(run["rps"] for run in result["limit"])
    ratio = combined["memory"]["get"]["rps"] / limit
    log(f"    limit (bare Flask, memory's server; before and after: {result['limit'][0]['rps']:.0f} and "
        f"{result['limit'][1]['rps']:.0f} req/s): memory getOrder {ratio:.2f} of it "
        f"(>= {LIMIT_TARGET:g}: {verdict(ratio >= LIMIT_TARGET)})")
    if latency:
        from bench.latency import limit_at_headline

        same_run = latency["get"][HEADLINE_CONNECTIONS]["rps"] / limit_at_headline(latency)
        log(f"    section 1 of this run (memory, {HEADLINE_CONNECTIONS} connections): getOrder {same_run:.2f} of the "
            f"limit (>= {LIMIT_TARGET:g}: {verdict(same_run >= LIMIT_TARGET)})")
    states = "; ".join(f"{name} {'correct' if not found else 'BROKEN: ' + '; '.join(found)}"
                       for name, found in result["problems"].items())
    log(f"    state check before measuring (bench/processes.py check_state): {states}")


def _cells(run: dict[str, Any]) -> str:
    return f"{run['rps']:>8.0f}{run['p50_ms']:>8.2f}{run['p99_ms']:>8.2f}"


def _bad(run: dict[str, Any]) -> str:
    bad = {k: v for k, v in run["statuses"].items() if not k.startswith("2")}
    return f"  (!) {bad} {run['errors'] or ''}" if bad or run["errors"] else ""


# -- one advance ---------------------------------------------------------------------
def bench_warps(count: int, rounds: int, workdir: Path) -> dict[str, Any]:
    """Section 3's advance on each store, in alternating rounds, each on a new
    store; every SQLite file read back afterwards."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in STORES}
    for round_ in range(rounds):
        for name in (STORES if round_ % 2 == 0 else STORES[::-1]):
            path = workdir / f"warp-{round_}.db"
            run = bench_warp(count, "memory" if name == "memory" else f"sqlite:{path}")
            if name == "sqlite":
                run["settled_in_file"] = settled_in_file(path)
            runs[name].append(run)
    mean = {name: statistics.fmean(run["wall_seconds"] for run in by) for name, by in runs.items()}
    return {"orders": count, "runs": runs, "mean_seconds": mean, "ratio": mean["sqlite"] / mean["memory"]}


def settled_in_file(path: Path) -> int:
    """Orders the file holds as Issued or Draft (the mock has closed it)."""
    db = sqlite3.connect(path)
    try:
        query = "SELECT count(*) FROM orders WHERE json_extract(body, '$.status') IN ('Issued', 'Draft')"
        return int(db.execute(query).fetchone()[0])
    finally:
        db.close()


def print_warps(result: dict[str, Any], durable: str = "sqlite", label: str = "SQLite",
                kept: tuple[str, str] = ("settled_in_file", "the file"), how: str = "alternating rounds") -> None:
    """One advance on memory and on the `durable` engine (section 8's; section 10's on PostgreSQL): each round's
    time, what settled, what `kept[0]` found stored in `kept[1]` afterwards, and the time ratio to memory."""
    log(f"\n  one advance settling {result['orders']:,} orders (section 3's method: the in-process mock, "
        f"POST /_mock/clock/advance), {how}")
    width = max(map(len, result["runs"]))
    for name, runs in result["runs"].items():
        walls = ", ".join(f"{run['wall_seconds']:.2f} s" for run in runs)
        settled = min(run["settled"] for run in runs)
        once = min(run["settled_once"] for run in runs)
        stored = f"; in {kept[1]} afterwards: {min(run[kept[0]] for run in runs):,}" if name == durable else ""
        log(f"    {name:<{width}} {walls}; mean {result['mean_seconds'][name]:.2f} s; settled (least of the rounds) "
            f"{settled:,}, each once: {once:,}{stored}")
    ratio = result["ratio"]
    log(f"    {label}/memory time x{ratio:.1f} (<= {WARP_TARGET:g}x: {verdict(ratio <= WARP_TARGET)})")


# -- start-up over a large file -----------------------------------------------------------
def bench_start(orders: int, starts: int, workdir: Path) -> dict[str, Any]:
    """`otacm mock --store sqlite:FILE` started `starts` times on a full file and on an empty one."""
    full, empty = workdir / f"start-{orders}.db", workdir / "start-empty.db"
    built = build_file(full, orders)
    order_path = f"/channelManager/{built['ids'][-1]}"
    results: dict[str, Any] = {"orders": orders, "build": built, "full": [], "empty": []}
    for _ in range(starts):  # interleaved: drift hits both alike
        results["full"].append(first_get(full, order_path, 200, workdir))
        results["empty"].append(first_get(empty, f"/channelManager/{uuid.uuid4()}", 404, workdir))
    return results


def build_file(path: Path, orders: int) -> dict[str, Any]:
    """In its own process: the 100,000 orders' objects are not kept (or frozen) in this one."""
    output = subprocess.run([PYTHON, "-m", "bench.stores_serve", "build", "--file", str(path), "--orders", str(orders)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    if output.returncode != 0:
        raise RuntimeError(f"bench.stores_serve build failed: {output.stderr[-2000:]}")
    built: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    return built


def first_get(path: Path, order_path: str, want: int, workdir: Path, timeout: float = 120) -> float:
    """Seconds from starting `otacm mock --store sqlite:PATH` to the first getOrder answered `want`,
    asked on a fresh connection every POLL_SECONDS (a refused connection returns at once)."""
    from mockserver.config import MockConfig
    from mockserver.server import api_base_url

    config, port = MockConfig.load(), free_port()
    url = api_base_url("", config) + order_path
    with open(workdir / "start.log", "ab") as log_file:
        began = time.monotonic()
        process = subprocess.Popen([*otacm_command(), "mock", "--store", f"sqlite:{path}", "--port", str(port)],
                                   cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = StoreServer("otacm mock", process.pid, port, {}, path, workdir / "start.log", process)
    try:
        while time.monotonic() - began < timeout:
            if not server.alive():
                raise RuntimeError(f"otacm mock exited {process.returncode}; see {server.log_path}")
            try:
                if request(port, "GET", url, key=config.default_api_key, timeout=timeout)[0] == want:
                    return time.monotonic() - began
            except OSError:
                pass
            time.sleep(POLL_SECONDS)
        raise RuntimeError(f"otacm mock answered no getOrder {want} within {timeout:g} s")
    finally:
        server.stop()


def print_start(result: dict[str, Any]) -> None:
    built, full, empty = result["build"], result["full"], result["empty"]
    median = statistics.median(full)
    log(f"\n  `otacm mock --store sqlite:FILE`, from process start to its first answered getOrder "
        f"(a fresh connection every {POLL_SECONDS * 1000:g} ms)")
    log(f"    file of {result['orders']:,} settled orders ({built['bytes'] / 2**20:,.0f} MiB, built through the "
        f"backend as one transaction in {built['seconds']:.1f} s)")
    log(f"    {result['orders']:>9,} orders: {_seconds(full)}; median {median:.2f} s "
        f"(<= {START_TARGET:g} s: {verdict(median <= START_TARGET)})")
    log(f"    {'empty':>9} file: {_seconds(empty)}; median {statistics.median(empty):.2f} s (the mock's own start)")


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{value:.2f} s" for value in values)
