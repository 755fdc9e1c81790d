"""`python -m bench` section 5: the dashboard with 10,000 orders in the store.

- Server time of the dashboard's first page (and its filtered variants),
  rendered by the Flask app in-process (no network), median and max.
- The server time of one refresh of an open page (its four fragment
  requests), in-process: the share of a core an open page costs.
- getOrder throughput from the load generator (another process) against one
  granian server, in rounds: without the page, while a viewer "keeps the
  page open" (every refresh period it fetches what the page's script
  fetches: clock, orders, webhooks and an open order's panel) at the page's
  2 s and at 0.5 s, then without again; each run with the page is compared
  to its own round's runs without.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path
from typing import Any

from bench.apps import bench_app
from bench.processes import Zygote, loadgen, log, request
from mockserver.cli import GRANIAN_THREADS

PAGE_REFRESH_SECONDS = 2.0  # the page's data-refresh-ms (mockserver/templates/dashboard.html)
FIRST_PAGES = {"first page": "/_mock/ui", "?status=Draft": "/_mock/ui?status=Draft",
               "?status=Issued": "/_mock/ui?status=Issued", "?reference=": "/_mock/ui?reference=FILL-77",
               "older page": "/_mock/ui?before=5000"}


def page_render_times(orders: int, repeat: int = 20) -> dict[str, dict[str, float]]:
    """Milliseconds per render of each page variant, server side only."""
    app, _ = bench_app(orders)
    client = app.test_client()
    client.get("/_mock/ui")  # compile the templates once
    results = {}
    for label, path in FIRST_PAGES.items():
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            assert client.get(path).status_code == 200
            times.append((time.perf_counter() - began) * 1000)
        results[label] = {"median_ms": statistics.median(times), "max_ms": max(times)}
    return results


class PageViewer:
    """What an open dashboard costs the server: its refresh requests, on a period."""

    def __init__(self, port: int, order_id: str, period: float) -> None:
        self.paths = ["/_mock/ui/clock", "/_mock/ui/orders", "/_mock/ui/webhooks", f"/_mock/ui/orders/{order_id}"]
        self.port, self.period = port, period
        self.refreshes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for path in self.paths:
                assert request(self.port, "GET", path)[0] == 200, path
            self.refreshes += 1
            self._stop.wait(self.period)

    def __enter__(self) -> "PageViewer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def refresh_cost_ms(orders: int, repeat: int = 20) -> float:
    """Server time of one page refresh (its four fragment requests), in-process:
    divided by the refresh period, the share of one core an open page takes."""
    app, info = bench_app(orders)
    client = app.test_client()
    paths = PageViewer(0, info["ids"][0], 0).paths
    for path in paths:
        client.get(path)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        for path in paths:
            assert client.get(path).status_code == 200, path
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def throughput_with_page(orders: int, workdir: Path, seconds: float, connections: int,
                         rounds: int = 4) -> dict[str, Any]:
    """Rounds of (without, with the page at its period, with it 4x faster,
    without): each "with" run is compared to the mean of its own round's two
    "without" runs, and the ratios' median is the figure, so the drift of a
    shared machine (±50 % between runs here) cancels out as far as it can."""
    periods = (PAGE_REFRESH_SECONDS, PAGE_REFRESH_SECONDS / 4)
    ratios: dict[str, list[float]] = {f"{p:g}": [] for p in periods}
    refreshes = {f"{p:g}": 0 for p in periods}
    without: list[float] = []
    zygote = Zygote(orders, workdir)
    try:
        server = zygote.serve("granian", GRANIAN_THREADS)  # what `otacm mock` runs
        try:
            server.wait_ready()
            for _ in range(rounds):
                first = loadgen(server, "get", seconds, connections)["rps"]
                open_runs = {}
                for period in periods:
                    with PageViewer(server.port, zygote.info["ids"][0], period) as viewer:
                        open_runs[f"{period:g}"] = loadgen(server, "get", seconds, connections)["rps"]
                    refreshes[f"{period:g}"] += viewer.refreshes
                last = loadgen(server, "get", seconds, connections)["rps"]
                without += [first, last]
                for label, rps in open_runs.items():
                    ratios[label].append(rps / ((first + last) / 2))
        finally:
            server.stop()
    finally:
        zygote.stop()
    with_page = {label: {"ratios": values, "refreshes": refreshes[label], "drop": 1 - statistics.median(values)}
                 for label, values in ratios.items()}
    return {"without_rps": without, "with_page": with_page}


def bench_dashboard_section(orders: int, workdir: Path, seconds: float, connections: int,
                            figures: dict[str, Any]) -> None:
    log(f"\n6. Dashboard with {orders:,} orders in the store")
    renders = figures["dashboard_render"] = page_render_times(orders)
    for label, timing in renders.items():
        log(f"  {label:<16} rendered in {timing['median_ms']:.1f} ms median, {timing['max_ms']:.1f} ms max "
            "(server time, budget 300 ms)")
    cost = figures["dashboard_refresh_ms"] = refresh_cost_ms(orders)
    log(f"  one refresh (clock, orders, webhooks, an open order) costs {cost:.1f} ms of server time: "
        f"{cost / (PAGE_REFRESH_SECONDS * 1000) * 100:.2f} % of one core at the page's {PAGE_REFRESH_SECONDS:g} s period")
    result = figures["dashboard_throughput"] = throughput_with_page(orders, workdir, seconds, connections)
    samples = " / ".join(f"{x:.0f}" for x in result["without_rps"])
    log(f"  getOrder on granian@{GRANIAN_THREADS} without the page: {samples} req/s")
    for period, run in result["with_page"].items():
        ratios = " / ".join(f"{x:.2f}" for x in run["ratios"])
        log(f"  with the page open, refreshing every {period} s ({run['refreshes']} refreshes): "
            f"ratio to its round's runs without {ratios}, median drop {run['drop'] * 100:.1f} %"
            f"{' (budget < 10 %)' if period == '2' else ''}")
