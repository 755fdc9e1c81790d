"""The app every benchmarked server serves: the mock with a preloaded store,
plus two baselines answering the bytes of one of its orders:

- `GET /_bench/limit`, a route of the same Flask app (the issue's limit: the
  stack with Flask and no mock work);
- `GET /_bench/floor`, a bare WSGI callable in front of the app (the server
  stack alone; the mock's API does not go through Flask, urls.Gateway).

Filling goes straight through the backend (no HTTP) on a frozen clock, then
one clock advance settles everything: 90 % `Issued`, 10 % `Draft`, so the
store looks like a sandbox that has been in use.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Any, Iterator

from flask import Flask, Response

from bench.visits import visit
from mockserver.app import create_app
from mockserver.sandbox.backend import ChannelManagerBackend
from mockserver.sandbox.clock import parse_instant
from mockserver.server import api_base_url, frozen_config

CLOCK_START = parse_instant("2026-05-15T09:30:00Z")


def order_body(partner_id: str, reference: str, paid: bool = True, index: int = 0) -> dict[str, Any]:
    visit_date, visit_time = visit(index)
    body: dict[str, Any] = {
        "partnerId": partner_id,
        "sellToOrderReference": reference,
        "sellToEmail": "guest@example.com",
        "sellToName": "Bench Guest",
        "items": [{"itemNumber": "31001", "visitDate": visit_date, "visitTime": visit_time, "quantity": 1}],
    }
    if paid:
        body["paymentReference"] = f"PAY-{reference}"
    return body


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Filling allocates millions of objects that all live: the cyclic GC
    would scan them over and over (it doubles the fill time), and afterwards
    a full collection would scan them all (0.7 s at 100,000 orders, every
    request stopped meanwhile), so they are frozen. Serving and measuring
    run with the GC on, as `otacm mock` does."""
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.freeze()  # the filled store is permanent: no later collection scans it again
        gc.enable()


def fill(backend: ChannelManagerBackend, count: int, prefix: str = "FILL", settle: bool = True,
         start: int = 0) -> list[str]:
    """`count` orders of the default partner, created through the backend
    (numbered from `start`: references and visit slots)."""
    config = backend.config
    caller = backend.caller_for(config.default_api_key)
    assert caller is not None
    scope = (config.tenant.lower(), config.environment.lower(), config.company)
    partner = config.default_partner_id
    with gc_paused():
        ids = [
            backend.create_order(caller, scope, order_body(partner, f"{prefix}-{i}", paid=i % 10 != 0, index=i), None, False).order_id
            for i in range(start, start + count)
        ]
        if settle:
            backend.advance(120)
    return ids


def with_floor(wsgi: Any, body: bytes) -> Any:
    """`wsgi`, with `GET /_bench/floor` answered before it by a bare WSGI callable."""
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]

    def serve(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/_bench/floor":
            start_response("200 OK", headers)
            return [body]
        return wsgi(environ, start_response)

    return serve


def bench_app(orders: int, store: str = "memory", request_log_limit: int | None = None) -> tuple[Flask, dict[str, Any]]:
    """The mock app on `store` with `orders` settled orders and the
    `/_bench/limit` route; and what a load generator needs to know (URLs,
    key, ids). The fill is one unit of work, so a durable store writes it in
    one transaction (one per order would be the slow part of a bench).
    `request_log_limit`: the request log's bound (default: the config's; 0: off)."""
    overrides = {} if request_log_limit is None else {"request_log_limit": request_log_limit}
    config = frozen_config(clock_start=CLOCK_START, store=store, **overrides)
    app = create_app(config)
    backend: ChannelManagerBackend = app.extensions["otacm"].backend
    with backend.atomic():
        ids = fill(backend, orders)
    representation = app.extensions["otacm"].representation
    with backend.lock:  # the bytes the mock serves for that order
        constant = representation.order_bytes(backend.store.get(ids[1])) if len(ids) > 1 else b'{"orderId": "none"}'
        max_seq = 0  # the last order sequence number taken: only creating an order takes one, and the app is fresh
        for order_id in ids:
            order = backend.store.get(order_id)
            assert order is not None  # fill just created it
            max_seq = max(max_seq, order.seq)

    def limit() -> Response:
        return Response(constant, status=200, mimetype="application/json")

    app.add_url_rule("/_bench/limit", "bench_limit", limit, methods=["GET"])
    app.wsgi_app.flask_paths.add("/_bench/limit")  # type: ignore[attr-defined]  # urls.Gateway: to Flask, not the API
    app.wsgi_app = with_floor(app.wsgi_app, constant)  # type: ignore[method-assign]
    info = {
        "api_key": config.default_api_key,
        "partner_id": config.default_partner_id,
        "base_path": api_base_url("", config),
        "ids": ids,
        "max_seq": max_seq,
        "order_bytes": len(constant),
        "order_body": constant.decode(),
    }
    return app, info
