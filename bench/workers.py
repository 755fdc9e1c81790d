"""Section 10 of `python -m bench` (`--sections workers`): `otacm mock --workers N` on PostgreSQL against memory.

- getOrder and createOrder at 16 connections on four sandboxes, each started
  as users start it: `otacm mock` (memory, one process) and `otacm mock
  --store postgresql://... --workers N` for N = 1, 2 and 4 (granian worker
  processes sharing one database), all on a frozen clock at bench/apps.py's
  CLOCK_START. Each PostgreSQL configuration gets a fresh database of its own
  on one server (PostgreSQLServer from tests/support): every sandbox starts
  from the same state, filled the same way, and the orders one configuration
  creates while measured neither grow another's tables nor have to be
  replayed by another's workers. The fill goes through the API, as a user's
  would: `--workers-orders` createOrders (bench/apps.py's bodies: 1 in 10
  unpaid), then one `POST /_mock/clock/advance` of 120 s (90 % Issued,
  10 % Draft, as sections 8 and 9 serve them). Every server passes
  bench/processes.py's `check_state` (a created order found on fresh
  connections, whichever worker answers; 16 racing creates of one reference:
  one 201), then answers a warm-up of getOrders (each worker renders its
  orders' JSON once), then the scenarios run in alternating rounds as
  section 8 runs them (memory, 1, 2, 4, then 4, 2, 1, memory, ...).
  Ratios to memory are printed next to the targets: with 2 workers getOrder
  >= 0.5 and createOrder >= 0.4 of memory's req/s. Beside each PostgreSQL
  sandbox, how often its orders were read whole over its life (seq scans of
  otacm.orders, pg_stat_user_tables): a few at start; more mean workers
  loading the sandbox again whole instead of replaying each other's units.
  The server is the tests' (fsync and synchronous_commit off), so a write
  costs less than on a durable PostgreSQL.
- Not pinned, neither the servers nor the load generator, the same for every
  configuration. Section 9 pins its one-process servers to core 0 and wrk to
  core 1, but here on a 2-core machine that would put 2 or 4 workers and the
  PostgreSQL backends they talk to on one core: it would measure a core's
  time-sharing, not what workers buy (memory's one process cannot use more
  than a core however it is placed: its GIL). Left to the scheduler, wrk,
  the workers and PostgreSQL share both cores as they would on a user's
  machine; the price is noise, which the alternating rounds spread over all
  four alike (the per-round ratios are printed).
- One advance settling `--warp-orders` orders (10,000) on memory and on
  PostgreSQL: section 8's method (bench/warp.py: the in-process mock, one
  process, filled in one unit of work, one `POST /_mock/clock/advance`), a
  fresh database per round, read back afterwards; the PostgreSQL/memory time
  next to the target (<= 10x).

Without PostgreSQL (no initdb/pg_ctl, no psycopg, root without a `postgres`
user) the section prints why and is skipped. The server is stopped at the end.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

from bench.apps import CLOCK_START, order_body
from bench.latency import HEADLINE_CONNECTIONS
from bench.processes import ROOT, check_state, free_port, otacm_command, request
from bench.stores import StoreServer, _cells, combine, log, print_warps, verdict
from bench.stores_serve import write_json
from bench.warp import bench_warp
from bench.wrk import generator, measure
from mockserver.store.urls import shown

WORKERS = (1, 2, 4)  # `--workers N` on PostgreSQL
TARGET_WORKERS = 2  # the configuration the targets are read on
SCENARIOS = (("get", "getOrder"), ("create", "createOrder"))
RATIO_TARGETS = MappingProxyType({"get": 0.5, "create": 0.4})  # PostgreSQL req/s ÷ memory req/s with 2 workers
SETTLE = "120s"  # the fill's advance: every order past pickup and settling (bench/apps.py fill)
FILL_THREADS = 8  # concurrent createOrders while filling
WARMUP_SECONDS = 2.0  # getOrder load before the rounds, not measured


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers-orders", type=int, default=2000,
                        help="orders created through the API in each sandbox for section 10")
    parser.add_argument("--workers-seconds", type=float, default=2, help="measured seconds per round in section 10")
    parser.add_argument("--workers-rounds", type=int, default=4,
                        help="alternating rounds per figure in section 10 (its advances: half as many, at least 1)")


def postgresql_module() -> ModuleType | str:
    """tests/support/postgresql_server.py (the tests' server: initdb and pg_ctl, as `postgres` when root), or why
    it cannot run here. tests/support is no package: it goes on sys.path as pytest's `pythonpath` puts it there."""
    support = str(ROOT / "tests" / "support")
    if support not in sys.path:
        sys.path.insert(0, support)
    try:
        module = importlib.import_module("postgresql_server")
    except ImportError as error:  # it imports pytest (the test extra)
        return f"tests/support/postgresql_server.py cannot be imported: {error}"
    reason = module.missing_reason()
    return module if reason is None else str(reason)


# -- the section -----------------------------------------------------------------------
def bench_workers_section(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    result: dict[str, Any] = {}
    figures["workers"] = result
    log(f"\n10. Worker processes: `otacm mock --workers N` on PostgreSQL against memory "
        f"(load generator: {generator()}; not pinned)")
    found = postgresql_module()
    if isinstance(found, str):
        result["skipped"] = found
        log(f"  skipped: {found}")
        return
    server, started = found.PostgreSQLServer(), False
    try:
        try:
            server.start()
            started = True
        except RuntimeError as error:
            result["skipped"] = f"PostgreSQL did not start: {error}"
            log(f"  skipped: {result['skipped']}")
            return
        log(f"  PostgreSQL {server.sql('SHOW server_version')[0][0].split()[0]} on 127.0.0.1:{server.port} "
            f"(tests/support/postgresql_server.py: fsync off, synchronous_commit off)")
        with tempfile.TemporaryDirectory(prefix="otacm-bench-workers-") as tmp:
            result["throughput"] = bench_throughput(server, args.workers_orders, args.workers_seconds,
                                                    args.workers_rounds, Path(tmp))
            print_throughput(result["throughput"])
            result["warp"] = bench_warps(server, args.warp_orders, max(1, args.workers_rounds // 2))
            print_warps(result["warp"], "postgresql", "PostgreSQL", ("settled_in_database", "the database"),
                        "one process, a fresh database each round")
    finally:
        try:
            server.stop()  # its folder is removed even when pg_ctl fails (a server that never started)
        except RuntimeError as error:
            if started:
                log(f"  (stopping PostgreSQL: {error})")


# -- getOrder and createOrder ----------------------------------------------------------------
def configurations(server: Any) -> dict[str, tuple[str, int]]:
    """label: (store URL, workers); a new database for each PostgreSQL one."""
    found: dict[str, tuple[str, int]] = {"memory": ("memory", 1)}
    for workers in WORKERS:
        found[f"pg x{workers}"] = (server.url(server.new_database()), workers)
    return found


def bench_throughput(pg: Any, orders: int, seconds: float, rounds: int, workdir: Path) -> dict[str, Any]:
    """Every sandbox up at once, filled, checked and warmed; the scenarios in alternating rounds."""
    configs = configurations(pg)
    servers: dict[str, StoreServer] = {}
    started: dict[str, dict[str, Any]] = {}
    try:
        for label, (url, workers) in configs.items():
            servers[label], started[label] = start_mock(label, url, workers, workdir / label.replace(" ", "-"))
        for label, server in servers.items():
            started[label]["fill_seconds"] = fill(server, orders)
        problems = {label: check_state(server) for label, server in servers.items()}
        for server in servers.values():
            measure(server.port, server.info_file, "get", WARMUP_SECONDS, HEADLINE_CONNECTIONS, warmup=0)
        labels = list(servers)
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {label: {s: [] for s, _ in SCENARIOS} for label in labels}
        for scenario, _ in SCENARIOS:  # createOrder last: it grows the stores
            for round_ in range(rounds):
                for label in (labels if round_ % 2 == 0 else labels[::-1]):
                    server = servers[label]
                    runs[label][scenario].append(
                        measure(server.port, server.info_file, scenario, seconds, HEADLINE_CONNECTIONS))
        alive = {label: server.alive() for label, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    tracebacks = {label: server.log_path.read_text(errors="replace").count("Traceback") for label, server in
                  servers.items()}
    return {"orders": orders, "seconds": seconds, "rounds": rounds, "connections": HEADLINE_CONNECTIONS,
            "whole_reads": whole_reads(pg, configs), "tracebacks": tracebacks, "started": started,
            "problems": problems, "alive": alive, "runs": runs,
            "combined": {label: {s: combine(r) for s, r in by.items()} for label, by in runs.items()}}


def whole_reads(pg: Any, configs: dict[str, tuple[str, int]]) -> dict[str, int]:
    """How often each database's orders were read whole (pg_stat_user_tables' seq scans of otacm.orders): a few
    times as `otacm mock` starts (7 with one worker), then once per load again whole, where a worker could not
    replay what another wrote (store/postgresql.py `_caught_up`). Read once the servers have stopped: their
    sessions have reported their statistics by then."""
    time.sleep(1)
    query = "SELECT seq_scan FROM pg_stat_user_tables WHERE schemaname = 'otacm' AND relname = 'orders'"
    return {label: int(pg.sql(query, url.rsplit("/", 1)[1])[0][0]) for label, (url, _) in configs.items()
            if url != "memory"}


def store_arguments(url: str, workers: int) -> list[str]:
    """What differs between the four `otacm mock` commands (memory: none, it is the default)."""
    return [] if url == "memory" else ["--store", url, "--workers", str(workers)]


def common_arguments(port: int) -> list[str]:
    """On a frozen clock, as the bench app's (bench/apps.py): nothing moves while measured."""
    from mockserver.sandbox.clock import iso

    return ["--port", str(port), "--clock", "frozen", "--clock-start", iso(CLOCK_START)]


def start_mock(label: str, url: str, workers: int, workdir: Path,
               timeout: float = 120) -> tuple[StoreServer, dict[str, Any]]:
    """`otacm mock`, once it answers `GET /_mock/clock`; the seconds that took from process start."""
    from mockserver.config import MockConfig
    from mockserver.server import api_base_url

    workdir.mkdir()
    config, port, log_path = MockConfig.load(), free_port(), workdir / "server.log"
    info = {"api_key": config.default_api_key, "partner_id": config.default_partner_id,
            "base_path": api_base_url("", config), "ids": []}
    began = time.monotonic()
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen([*otacm_command(), "mock", *store_arguments(url, workers), *common_arguments(port)],
                                   cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = StoreServer(label, process.pid, port, info, workdir / "info.json", log_path, process)
    while time.monotonic() - began < timeout:
        if not server.alive():
            raise RuntimeError(f"{label}: otacm mock exited {process.returncode}: {log_path.read_text()[-2000:]}")
        try:
            if request(port, "GET", "/_mock/clock")[0] == 200:
                shown_command = " ".join(["otacm mock", *store_arguments(shown(url), workers)])  # password masked
                return server, {"start_seconds": time.monotonic() - began, "command": shown_command}
        except OSError:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{label}: otacm mock did not answer within {timeout:g} s; see {log_path}")


def fill(server: StoreServer, orders: int) -> float:
    """`orders` createOrders through the API, then one advance settling them; their ids written to the info
    file for the load generator. Seconds taken."""
    info, port = server.info, server.port
    began = time.monotonic()
    tag = uuid.uuid4().hex[:6]

    def create(index: int) -> tuple[int, Any]:
        body = order_body(info["partner_id"], f"FILL-{tag}-{index}", paid=index % 10 != 0, index=index)
        return request(port, "POST", f"{info['base_path']}/channelManager", body, info["api_key"], timeout=60)

    with concurrent.futures.ThreadPoolExecutor(FILL_THREADS) as pool:
        answers = list(pool.map(create, range(orders)))
    refused = [(status, body) for status, body in answers if status != 201]
    if refused:
        raise RuntimeError(f"{server.name}: {len(refused)} of {orders} createOrders refused while filling, first "
                           f"{refused[0]}; see {server.log_path}")
    status, body = request(port, "POST", "/_mock/clock/advance", {"by": SETTLE}, timeout=300)
    if status != 200:
        raise RuntimeError(f"{server.name}: the fill's advance answered {status}: {body}")
    info["ids"] = [body["orderId"] for _, body in answers]
    write_json(server.info_file, info)
    return time.monotonic() - began


def print_throughput(result: dict[str, Any]) -> None:
    combined, runs = result["combined"], result["runs"]
    log(f"  getOrder and createOrder, {result['orders']:,} orders created through the API in each sandbox (a fresh "
        f"database per PostgreSQL configuration); {result['connections']} connections, {result['rounds']} "
        f"alternating rounds of {result['seconds']:g} s (means)")
    for label, started in result["started"].items():
        log(f"    {label:<8} {started['command']:<76} up in {started['start_seconds']:.1f} s, "
            f"filled in {started['fill_seconds']:.1f} s{scans(result, label)}")
    log(f"    (each also {' '.join(common_arguments(0)).replace('--port 0', '--port P')}; filled: createOrders from "
        f"{FILL_THREADS} threads, a connection each, then one advance of {SETTLE};")
    log("     orders read whole: seq scans of otacm.orders over the server's life, a few at start; more are workers "
        "loading the sandbox again whole)")
    log(f"    {'scenario':<13}{'server':<8}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}   {'/memory':>7}  target")
    for scenario, label in SCENARIOS:
        memory = combined["memory"][scenario]
        log(f"    {label:<13}{'memory':<8}{_cells(memory)}{_bad(memory)}")
        by_round = []
        for name in (name for name in combined if name != "memory"):
            run = combined[name][scenario]
            ratio, target = run["rps"] / memory["rps"], RATIO_TARGETS[scenario]
            aim = (f">= {target:g}: {verdict(ratio >= target)}"
                   if name == f"pg x{TARGET_WORKERS}" else "")
            log(f"    {'':<13}{name:<8}{_cells(run)}   {ratio:>7.2f}  {aim}{_bad(run)}".rstrip())
            pairs = zip(runs["memory"][scenario], runs[name][scenario], strict=True)
            by_round.append(f"{name} " + " ".join(f"{p['rps'] / m['rps']:.2f}" for m, p in pairs))
        log(f"    {'':<13}(/memory by round: {'; '.join(by_round)})")
    states = "; ".join(f"{label} {'correct' if not found else 'BROKEN: ' + '; '.join(found)}"
                       for label, found in result["problems"].items())
    log(f"    state check before measuring (bench/processes.py check_state): {states}")
    dead = [label for label, alive in result["alive"].items() if not alive]
    if dead:
        log(f"    (!) exited while measured: {', '.join(dead)}")
    logged = {label: count for label, count in result["tracebacks"].items() if count}
    log(f"    servers' output: {'(!) tracebacks ' + str(logged) if logged else 'no traceback'}")


def scans(result: dict[str, Any], label: str) -> str:
    reads = result["whole_reads"].get(label)
    return "" if reads is None else f", orders read whole {reads}x"


def _bad(run: dict[str, Any]) -> str:
    bad = {k: v for k, v in run["statuses"].items() if not k.startswith("2")}
    return f"  (!) {bad} {run['errors'] or ''}" if bad or run["errors"] else ""


# -- one advance -------------------------------------------------------------------------------
def bench_warps(pg: Any, count: int, rounds: int) -> dict[str, Any]:
    """bench/warp.py's advance on memory and on a fresh database, alternating; each database read back."""
    names = ("memory", "postgresql")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for round_ in range(rounds):
        for name in (names if round_ % 2 == 0 else names[::-1]):
            if name == "memory":
                runs[name].append(bench_warp(count))
                continue
            database = pg.new_database()
            run = bench_warp(count, pg.url(database))
            run["settled_in_database"] = int(pg.sql("SELECT count(*) FROM otacm.orders WHERE status IN "
                                                    "('Issued', 'Draft')", database)[0][0])
            runs[name].append(run)
    mean = {name: statistics.fmean(run["wall_seconds"] for run in by) for name, by in runs.items()}
    return {"orders": count, "runs": runs, "mean_seconds": mean, "ratio": mean["postgresql"] / mean["memory"]}
