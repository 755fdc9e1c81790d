"""Memory per stored order, in a fresh process, at growing store sizes:

    python -m bench.memory 100000,1000000

Builds a mock app, fills the store through the backend (as `apps.fill`:
settled orders, 90 % Issued with minted wallets, 10 % Draft) up to each size
in turn and prints one JSON line per size: the process RSS growth since the
empty store, per order. (`--tracemalloc` adds the bytes Python allocated per
order: exact, but tracing makes the fill about 5x slower.)
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
    parser.add_argument("sizes", help="comma list of store sizes, ascending")
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
    filled = 0
    for size in sorted(int(s) for s in args.sizes.split(",") if s):
        fill(backend, size - filled, prefix="MEM", start=filled)
        filled = size
        rss = rss_bytes()
        result = {
            "orders": len(backend.store),
            "fill_seconds": time.perf_counter() - started,
            "rss_delta_bytes": rss - rss_before,
            "rss_per_order": (rss - rss_before) / size,
            "rss_total_bytes": rss,
        }
        if args.tracemalloc:
            traced = tracemalloc.get_traced_memory()[0] - traced_before
            result["traced_bytes"] = traced
            result["traced_per_order"] = traced / size
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
