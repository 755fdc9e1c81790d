"""Memory per stored order, in a fresh process:

    python -m bench.memory 100000 [--tracemalloc]

Builds a mock app, fills the store through the backend (as `apps.fill`:
settled orders, 90 % Issued with minted wallets, 10 % Draft) and prints JSON:
the RSS growth per order, and with --tracemalloc the bytes Python allocated
per order (exact, but tracing slows the fill about 2x).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
import tracemalloc

from bench.apps import CLOCK_START, fill
from mockserver.app import create_app
from mockserver.server import frozen_config


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("orders", type=int)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    app = create_app(frozen_config(clock_start=CLOCK_START))
    backend = app.extensions["otacm"].backend
    gc.collect()
    if args.tracemalloc:
        tracemalloc.start()
    traced_before = tracemalloc.get_traced_memory()[0] if args.tracemalloc else 0
    rss_before = rss_bytes()
    started = time.perf_counter()
    fill(backend, args.orders)
    elapsed = time.perf_counter() - started
    rss_after = rss_bytes()
    result = {
        "orders": len(backend.store),
        "fill_seconds": elapsed,
        "rss_delta_bytes": rss_after - rss_before,
        "rss_per_order": (rss_after - rss_before) / args.orders,
        "rss_total_bytes": rss_after,
    }
    if args.tracemalloc:
        traced = tracemalloc.get_traced_memory()[0] - traced_before
        result["traced_bytes"] = traced
        result["traced_per_order"] = traced / args.orders
    print(json.dumps(result))


if __name__ == "__main__":
    main()
