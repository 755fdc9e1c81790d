"""Broken targets for the scenario runner's tests: the mock's own Flask app behind a WSGI
middleware that rewrites answers, served on 127.0.0.1 (frozen clock by default, so waits
warp; or any config, e.g. a real clock with short pickups)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable, Iterator

import pytest
from werkzeug.serving import make_server

from contracts.target import Address, Target, detect
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.server import Ticker, frozen_config
from mockserver.server import _QuietHandler  # noqa: PLC2701 (quiet access log in test output)

Rewrite = Callable[[str, str, int, Any, dict], "tuple[int, Any] | None"]


# -- broken targets ----------------------------------------------------------------------
class Rewriting:
    """WSGI middleware: `rewrite(method, path, status, body, state)` may return a new (status, body)."""

    def __init__(self, app: Any, rewrite: Rewrite) -> None:
        self.app, self.rewrite, self.state = app, rewrite, {}

    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        """`rewrite` is first asked with status 0 and no body: an answer then replaces the call itself."""
        instead = self.rewrite(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), 0, None, self.state)
        if instead is not None:
            raw = json.dumps(instead[1]).encode()
            start_response(f"{instead[0]} X", [("Content-Type", "application/json"),
                                               ("Content-Length", str(len(raw)))])
            return [raw]
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> Callable:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        raw = b"".join(self.app(environ, capture))
        status = int(captured["status"].split()[0])
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        changed = self.rewrite(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), status, body, self.state)
        if changed is not None:
            status, body = changed
            raw = json.dumps(body).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(f"{status} X", headers + [("Content-Length", str(len(raw)))])
        return [raw]


@pytest.fixture
def broken() -> Iterator[Callable[[Rewrite], Target]]:
    servers = []

    tickers: list[Ticker] = []

    def serve(rewrite: Rewrite, config: MockConfig | None = None) -> Target:
        config = config or frozen_config(clock_start=float(int(time.time())))
        app = create_app(config)
        server = make_server("127.0.0.1", 0, Rewriting(app, rewrite), threaded=True,
                             request_handler=_QuietHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        if config.clock_mode == "real":  # background work (pickups, deliveries) without a request
            tickers.append(Ticker(app.extensions["otacm"].backend, config.ticker_interval_seconds).start())
        host, port = server.server_address[:2]
        server_url = f"http://{host}:{port}"
        return Target(Address(server_url, config.tenant, config.environment, config.company),
                      config.default_api_key, config.default_partner_id, capabilities=detect(server_url))

    yield serve
    for ticker in tickers:
        ticker.stop()
    for server in servers:
        server.shutdown()
        server.server_close()


