"""The processes of bench section 8 (bench/stores.py), one command each:

    python -m bench.stores_serve serve --store URL --orders N --port P --info-file F [--request-log-limit N]
    python -m bench.stores_serve build --file PATH --orders N

`serve`: granian as `otacm mock` runs it (bench/serve.py), the bench app
(bench/apps.py: settled orders, the `/_bench/limit` route) built on the store
in the worker process, where `otacm mock` opens its store too, every order
rendered once; the app's info (ids, key, base path) goes to F for the load
generator.

`build`: a sandbox file of N settled orders for the start-up measurement,
filled through the backend as one unit of work, so the SQLite store writes it
as one transaction (100,000 orders in seconds; through HTTP it would take
minutes). Prints {"orders", "ids", "seconds", "bytes"} as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from bench.apps import bench_app
from bench.serve import serve_granian_building
from mockserver.cli import GRANIAN_THREADS


def serve(store: str, orders: int, port: int, info_file: Path, request_log_limit: int | None = None) -> None:
    """Serve the bench app on `store` until killed (granian: one process, GRANIAN_THREADS)."""

    def build() -> Any:
        app, info = bench_app(orders, store, request_log_limit)
        render_all(app, info["ids"])
        write_json(info_file, {**info, "pid": os.getpid(), "store": store})
        return app

    serve_granian_building(build, port, GRANIAN_THREADS)


def render_all(app: Any, ids: list[str]) -> None:
    """Every order's JSON built once, as the first runs of section 1 leave them
    (getOrder answers from the cached bytes), so a measured round is no cheaper
    than the one before it for having come second: the stores alternate."""
    state = app.extensions["otacm"]
    with state.backend.lock:
        for order_id in ids:
            state.representation.order_bytes(state.backend.store.get(order_id))


def build_file(path: Path, orders: int) -> dict[str, Any]:
    """A closed sandbox file holding `orders` settled orders; a few of their ids."""
    started = time.perf_counter()
    app, info = bench_app(orders, f"sqlite:{path}")
    app.extensions["otacm"].backend.store.close()  # the lock released, the WAL folded into the file
    ids = info["ids"]
    return {"orders": orders, "ids": [ids[0], ids[len(ids) // 2], ids[-1]],
            "seconds": time.perf_counter() - started, "bytes": path.stat().st_size}


def write_json(path: Path, value: Any) -> None:
    """Written whole or not at all: the bench polls for the file."""
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(value))
    os.replace(partial, path)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stores_serve")
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve")
    serving.add_argument("--store", required=True)
    serving.add_argument("--orders", type=int, required=True)
    serving.add_argument("--port", type=int, required=True)
    serving.add_argument("--info-file", type=Path, required=True)
    serving.add_argument("--request-log-limit", type=int, help="the request log's bound (0: off; default: config)")
    building = commands.add_parser("build")
    building.add_argument("--file", type=Path, required=True)
    building.add_argument("--orders", type=int, required=True)
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.store, args.orders, args.port, args.info_file, args.request_log_limit)
    else:
        print(json.dumps(build_file(args.file, args.orders)), flush=True)


if __name__ == "__main__":
    main()
