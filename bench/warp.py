"""Section 3 of `python -m bench`: one clock advance settling thousands of orders (bench/stores.py runs it per store)."""

from __future__ import annotations

import time
from typing import Any

REAL_TIME_LIFECYCLE = 64.0  # s: pickup on the 60 s cadence + 1 s + 3 s (defaults.yaml)


def bench_warp(count: int, store: str = "memory") -> dict[str, Any]:
    """One advance settling `count` orders on `store` (filled in one unit of work)."""
    import requests

    from bench.apps import CLOCK_START, fill
    from mockserver.server import MockServer, frozen_config

    with MockServer(frozen_config(clock_start=CLOCK_START, store=store)) as mock:
        backend = mock.backend
        with backend.atomic():
            fill(backend, count, prefix="WARP", settle=False)
        started = time.perf_counter()
        response = requests.post(f"{mock.url}/_mock/clock/advance", json={"by": f"{REAL_TIME_LIFECYCLE:.0f}s"},
                                 timeout=300)
        wall = time.perf_counter() - started
        response.raise_for_status()
        orders = backend.orders()
        settled = sum(o.status in ("Issued", "Draft") for o in orders)
        once = sum(sum(c.status in ("Issued", "Draft", "Error") for c in o.history) == 1 for o in orders)
    return {"orders": count, "wall_seconds": wall, "settled": settled, "settled_once": once,
            "ratio": REAL_TIME_LIFECYCLE / wall, "per_second": count / wall}


