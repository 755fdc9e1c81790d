"""Serve the bench app with one WSGI server, in one process (the mock's
state is in memory, so more worker processes would each have their own store).

    python -m bench.serve --orders N --info-file F

fills the store once (the slow part), writes the app's info (ids, key, base
path) to F as JSON, then reads commands on stdin, one a line:
`SERVER PORT THREADS LOGFILE`. For each it forks a child (its own session)
that serves the filled app with that server, and prints the child's pid.
Every server thus starts from the same store, filled once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Any, Callable

from bench.apps import bench_app

SERVERS = ["werkzeug", "waitress", "gunicorn", "granian", "gunicorn-2proc"]


def serve_werkzeug(app: Any, port: int, threads: int) -> None:
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    # What MockServer (the pytest fixture, the embedded mock) uses: a thread per connection.
    make_server("127.0.0.1", port, app, threaded=True, request_handler=Quiet).serve_forever()


def serve_waitress(app: Any, port: int, threads: int) -> None:
    from waitress.server import create_server

    with_ticker(app)
    create_server(app, host="127.0.0.1", port=port, threads=threads).run()


def serve_gunicorn(app: Any, port: int, threads: int, workers: int = 1) -> None:
    from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]  # gunicorn ships no type hints

    class Embedded(BaseApplication):
        def load_config(self) -> None:
            for key, value in {
                "bind": f"127.0.0.1:{port}", "workers": workers, "worker_class": "gthread", "threads": threads,
                "accesslog": None, "loglevel": "warning", "timeout": 120, "keepalive": 30,
                "reuse_port": workers > 1,  # the kernel spreads connections over the processes
            }.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    sys.argv = sys.argv[:1]  # gunicorn parses argv
    Embedded().run()


def serve_granian(app: Any, port: int, threads: int) -> None:
    """The filled app, forked into granian's worker (it inherits `app`)."""
    serve_granian_building(lambda: app, port, threads)


def serve_granian_building(build: Callable[[], Any], port: int, threads: int) -> None:
    """Granian as `otacm mock` runs it, the app built by `build` in the worker
    process: a store holding a file (SQLite) must be opened there, after the
    fork, as `otacm mock` opens it, not inherited across it."""
    from mockserver.cli import granian_server
    from mockserver.server import for_granian

    def load() -> Any:
        """In the worker: the app, the ticker, for_granian."""
        app = build()
        with_ticker(app)
        return for_granian(app, threads)

    server = granian_server("127.0.0.1", port)  # as `otacm mock` builds it
    server.serve(target_loader=load, wrap_loader=False)


def with_ticker(app: Any) -> None:
    from mockserver.server import Ticker

    state = app.extensions["otacm"]
    Ticker(state.backend, state.config.ticker_interval_seconds).start()


RUNNERS: dict[str, Callable[[Any, int, int], None]] = {
    "werkzeug": serve_werkzeug,
    "waitress": serve_waitress,
    "gunicorn": serve_gunicorn,
    "granian": serve_granian,
    # Only for the state check: two processes, two stores (what not to do).
    "gunicorn-2proc": lambda app, port, threads: serve_gunicorn(app, port, threads, workers=2),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--info-file", required=True)
    args = parser.parse_args()
    app, info = bench_app(args.orders)
    info["pid"] = os.getpid()
    tmp = args.info_file + ".tmp"
    with open(tmp, "w") as out:
        json.dump(info, out)
    os.replace(tmp, args.info_file)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    for line in sys.stdin:
        if not line.strip():
            continue
        name, port, threads, log_file = line.split()
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the servers wait for their own workers
            os.setsid()
            log = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.close(0)
            try:
                RUNNERS[name](app, int(port), int(threads))
            finally:
                os._exit(0)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
