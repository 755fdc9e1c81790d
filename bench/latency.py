"""Section 1 of `python -m bench`: the otacm mock against its stack's limit
and against the anchors, in one run, on one load generator (bench/wrk.py).

- getOrder at 1, 4, 16 and 64 connections, each next to the limit (bare
  Flask answering an order's bytes on the same granian server and app) at
  the same connection count: req/s, p50/p90/p99/max and the ratios. At 16
  also the floor: a bare WSGI callable on the same server, the stack without
  Flask (which the mock's API does not go through: urls.Gateway).
- createOrder and listOrdersByPartner (a page of 100) at 16 connections.
- getOrder's URL at 16 connections on Prism and on a warmed WireMock.

The otacm server is `otacm mock`'s stack: granian, one process, its blocking
threads (GRANIAN_THREADS), the ticker running, forked from the zygote's filled store.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from bench import anchors
from bench.wrk import generator, measure
from mockserver.cli import GRANIAN_THREADS

CONNECTIONS = [1, 4, 16, 64]
HEADLINE_CONNECTIONS = 16
WIREMOCK_WARMUP_SECONDS = 12  # the JIT: WireMock's rate keeps rising for ~10 s of load


def log(message: str = "") -> None:
    print(message, flush=True)


def bench_latency(zygote: Any, workdir: Path, seconds: float, with_anchors: bool) -> dict[str, Any]:
    """Every figure of the section, printed as it comes and returned."""
    log(f"\n1. otacm mock against its stack's limit and the anchors: {len(zygote.info['ids']):,} orders in the store "
        f"(load generator: {generator()}; {seconds:g} s per measurement)")
    server = zygote.serve("granian", GRANIAN_THREADS)
    figures: dict[str, Any] = {"generator": generator(), "get": {}, "limit": {}}
    try:
        server.wait_ready()
        port, info_file = server.port, server.info_file
        for connections in CONNECTIONS:
            figures["limit"][connections] = measure(port, info_file, "limit", seconds, connections)
            figures["get"][connections] = measure(port, info_file, "get", seconds, connections)
        c = HEADLINE_CONNECTIONS
        figures["floor"] = measure(port, info_file, "floor", seconds, c)
        figures["list"] = measure(port, info_file, "list", seconds, c)
        figures["create"] = measure(port, info_file, "create", seconds, c)  # last: it grows the store
        figures["limit-end"] = measure(port, info_file, "limit", seconds, c)
    finally:
        server.stop()
    print_connections(figures)
    figures["anchors"] = measure_anchors(zygote, workdir, seconds) if with_anchors else {}
    print_side_by_side(figures)
    return figures


def measure_anchors(zygote: Any, workdir: Path, seconds: float) -> dict[str, Any]:
    info = zygote.info
    get_path = f"{info['base_path']}/channelManager/{info['ids'][0]}"
    body = info["order_body"].encode()
    reason = anchors.install()
    results: dict[str, Any] = {}
    for key, start in (("prism", lambda: anchors.start_prism(workdir, get_path)),
                       ("wiremock", lambda: anchors.start_wiremock(workdir, get_path, body))):
        results[key] = {"skipped": reason} if reason else _measure_anchor(start, zygote.info_file, seconds, key)
        log(f"  anchor {key}: " + (f"skipped ({results[key]['skipped']})" if "skipped" in results[key]
                                   else f"{results[key]['rps']:.0f} req/s"))
    return results


def _measure_anchor(start: Callable[[], anchors.Anchor], info_file: Path, seconds: float,
                    key: str) -> dict[str, Any]:
    began = time.monotonic()
    try:
        anchor = start()
    except anchors.Skipped as why:
        return {"skipped": str(why)}
    try:
        warmup = WIREMOCK_WARMUP_SECONDS if key == "wiremock" else 0.5
        result = measure(anchor.port, info_file, "get", seconds, HEADLINE_CONNECTIONS, warmup=warmup)
    finally:
        anchor.stop()
    return {**result, "name": anchor.name, "version": anchor.version, "warmup_s": warmup,
            "seconds": time.monotonic() - began}


# -- printing --------------------------------------------------------------------
def _cells(run: dict[str, Any]) -> str:
    return (f"{run['rps']:>8.0f}{run['p50_ms']:>8.2f}{run['p90_ms']:>8.2f}{run['p99_ms']:>8.2f}"
            f"{run['max_ms']:>8.1f}")


def print_connections(figures: dict[str, Any]) -> None:
    log("\n  getOrder (otacm mock) and the limit (bare Flask, same server), by connections; ms")
    log(f"    {'conns':>5}  {'server':<8}{'req/s':>8}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}"
        f"   {'mock/limit':>10}  {'p99 mock/limit':>14}  {'p99/p50':>7}")
    for connections in CONNECTIONS:
        limit, get = figures["limit"][connections], figures["get"][connections]
        log(f"    {connections:>5}  {'limit':<8}{_cells(limit)}")
        log(f"    {'':>5}  {'otacm':<8}{_cells(get)}   {get['rps'] / limit['rps']:>10.2f}  "
            f"{get['p99_ms'] / limit['p99_ms']:>14.2f}  {get['p99_ms'] / get['p50_ms']:>7.1f}"
            f"{_problems(get)}")
    limit = limit_at_headline(figures)
    for scenario, label in (("create", "createOrder"), ("list", "listOrdersByPartner, page of 100")):
        run = figures[scenario]
        log(f"    {HEADLINE_CONNECTIONS:>5}  {label}: {run['rps']:.0f} req/s, p50 {run['p50_ms']:.2f} / p99 "
            f"{run['p99_ms']:.2f} ms: {run['rps'] / limit:.2f} of the limit ({limit:.0f} req/s){_problems(run)}")


def limit_at_headline(figures: dict[str, Any]) -> float:
    """The limit at 16 connections: the mean of its runs before and after the scenarios."""
    return (figures["limit"][HEADLINE_CONNECTIONS]["rps"] + figures["limit-end"]["rps"]) / 2


def _problems(run: dict[str, Any]) -> str:
    bad = {k: v for k, v in run["statuses"].items() if not k.startswith("2")}
    return f"  (!) {bad} {run['errors'] or ''}" if bad or run["errors"] else ""


def print_side_by_side(figures: dict[str, Any]) -> None:
    c = HEADLINE_CONNECTIONS
    otacm = figures["get"][c]
    rows = [(f"otacm mock (granian, {GRANIAN_THREADS} thread)", otacm), ("limit: bare Flask, same server", figures["limit"][c]),
            ("floor: bare WSGI callable, same server", figures["floor"])]
    skipped = []
    for key, run in figures.get("anchors", {}).items():
        if "skipped" in run:
            skipped.append(f"{key}: skipped ({run['skipped']})")
        else:
            warm = f", warmed {run['warmup_s']:g} s" if run["warmup_s"] > 1 else ""
            rows.append((f"{run['name']} {run['version']}{warm}", run))
    log(f"\n  getOrder at {c} connections, side by side; ms")
    log(f"    {'server':<40}{'req/s':>8}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}"
        f"   {'otacm req/s ÷ this':>18}  {'this p99 ÷ otacm p99':>20}")
    for label, run in rows:
        log(f"    {label:<40}{_cells(run)}   {otacm['rps'] / run['rps']:>18.2f}  "
            f"{run['p99_ms'] / otacm['p99_ms']:>20.2f}{_problems(run)}")
    for line in skipped:
        log(f"    {line}")
