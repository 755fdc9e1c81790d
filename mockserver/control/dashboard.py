"""The sandbox dashboard: one server-rendered page at `/` and `/_mock/ui`.

The page is Jinja templates (templates/), plain CSS and a little JavaScript
(static/): no build step, no CDN, so it works offline. Its panels are HTML
fragments under `/_mock/ui/...` that the script re-fetches to stay live;
actions go through the JSON control API (`/_mock/clock/...`,
`/_mock/webhooks/deliveries/<id>/retry`) and createOrder itself. Every read
is a page from the store's indexes: never a sort or scan of the whole store.
The Requests view (dashboard_requests.py) shows a page of the request log, newest first.
"""

from __future__ import annotations

import json
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request

from mockserver.api.request_entries import BadFilter
from mockserver.config import api_base_url
from mockserver.control import dashboard_requests as requests_view
from mockserver.control.api import clock_state, order_history
from mockserver.sandbox.backend import ChannelManagerBackend
from mockserver.sandbox.clock import iso, to_datetime
from mockserver.sandbox.models import Order

dashboard = Blueprint("dashboard", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/_mock/ui/static")

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
LATEST_DELIVERIES = 50
STATUSES = ("Submitted", "Scheduled", "Processing", "Issued", "Draft", "Error", "Cancelled")
# The "Try an order" outcomes: label → (Prefer header, paymentReference?).
OUTCOMES = MappingProxyType({
    "Issued": ("", True),
    "Draft (no paymentReference)": ("", False),
    "Error": ('outcome=Error; message="Forced from the dashboard"', True),
    "Stall in Scheduled (once)": ("stall=Scheduled", True),
    "Stall in Processing (→ Error after 1 h)": ("stall=Processing", True),
})


def _state() -> Any:
    return current_app.extensions["otacm"]


def _backend() -> ChannelManagerBackend:
    return _state().backend


def _bad(message: str, status: int = 400) -> Response:
    """A flat JSON error, as the rest of the control API answers."""
    return Response(json.dumps({"code": "generic_error", "message": message}), status, mimetype="application/json")


@dashboard.route("/", methods=["GET"], provide_automatic_options=False)
def root() -> Any:
    """The page (an API client's `GET /` never gets here: urls.Gateway)."""
    return page()


@dashboard.get("/_mock/ui")
def page() -> Any:
    query = _orders_query()
    if isinstance(query, Response):
        return query
    return render_template("dashboard.html", **_page_context(query))


@dashboard.get("/_mock/ui/orders")
def orders_fragment() -> Any:
    query = _orders_query()
    if isinstance(query, Response):
        return query
    return render_template("_orders.html", **_orders_context(query))


@dashboard.get("/_mock/ui/orders/<order_id>")
def order_fragment(order_id: str) -> Any:
    order = _backend().order(order_id)
    if order is None:
        return _bad(f"no order {order_id!r} in the sandbox", 404)
    return render_template("_order.html", **_order_context(order))


@dashboard.get("/_mock/ui/requests")
def requests_fragment() -> Any:
    """The Requests view's table; a filter it (or the log) refuses is a message in the view, with a 400."""
    try:
        context = requests_view.requests_context(_state(), requests_view.requests_query(request.args))
    except BadFilter as error:  # the view's page key or size, or a filter the log refuses
        return render_template("_requests.html", requests_error=str(error)), 400
    return render_template("_requests.html", **context)


@dashboard.get("/_mock/ui/requests/<int:entry_id>")
def request_fragment(entry_id: int) -> Any:
    """One exchange: the request as sent, the answer, the timing."""
    entry = _state().request_log.entry(entry_id)
    if entry is None:
        return _bad(f"no request {entry_id} in the log (the log keeps the newest only)", 404)
    return render_template("_request.html", **requests_view.exchange_context(_state(), entry))


@dashboard.get("/_mock/ui/clock")
def clock_fragment() -> Any:
    return render_template("_clock.html", clock=clock_state())


@dashboard.get("/_mock/ui/webhooks")
def webhooks_fragment() -> Any:
    return render_template("_webhooks.html", **_webhooks_context())


# -- context ----------------------------------------------------------------------------
def _orders_query() -> dict[str, Any] | Response:
    """The filters and page key from the query string; a bad one is a 400."""
    args = request.args
    statuses = frozenset(s for s in args.get("status", "").split(",") if s)
    unknown = statuses - set(STATUSES)
    if unknown:
        return _bad(f"status must be one of {', '.join(STATUSES)} (got {', '.join(sorted(unknown))})")
    try:
        before, size = requests_view.page_args(args, PAGE_SIZE, MAX_PAGE_SIZE)
    except BadFilter as error:
        return _bad(str(error))
    return {"partner": args.get("partner", "").strip(), "statuses": statuses,
            "reference": args.get("reference", "").strip(), "before": before, "size": size}


def _orders_context(query: dict[str, Any]) -> dict[str, Any]:
    orders, more = _backend().recent_orders(query["size"], query["partner"], query["statuses"],
                                            query["reference"], query["before"])
    partners = _state().config.partners
    rows = [{
        "id": o.order_id, "seq": o.seq, "received": iso(o.received_at), "status": o.status,
        "partner": partners[o.partner_id].name if o.partner_id in partners else o.partner_id,
        "reference": o.sell_to_order_reference, "lines": len(o.lines),
    } for o in orders]
    older = rows[-1]["seq"] if more and rows else None
    return {"rows": rows, "older": older, "query": query, "total": _store_size()}


def _store_size() -> int:
    return _backend().order_count()


def _order_context(order: Order) -> dict[str, Any]:
    body = _state().representation.order_json(order)
    wallets = [wallet for line in body.get("items", []) for wallet in line.get("wallets", [])]
    return {
        "order": order_history(order),
        "json": json.dumps(body, indent=2, ensure_ascii=False),
        "wallets": wallets,
        "deliveries": _actionable(_state().webhooks.dispatcher.deliveries(order.order_id)[::-1]),
        "order_requests": requests_view.order_requests(_state(), order.order_id),
    }


def _actionable(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark, in a newest-first log, the entries a "deliver now" applies to:
    a delivery's newest attempt, when it is still waiting for its retry."""
    seen: set[str] = set()
    for entry in entries:
        delivery_id = entry.get("deliveryId")
        entry["actionable"] = entry["outcome"] == "retrying" and bool(delivery_id) and delivery_id not in seen
        seen.add(delivery_id or "")
    return entries


def _webhooks_context() -> dict[str, Any]:
    webhooks = _state().webhooks
    return {
        "subscriptions": webhooks.subscriptions(),
        "deliveries": _actionable(webhooks.dispatcher.latest(LATEST_DELIVERIES)),
        "pending": webhooks.dispatcher.pending_count(),
        "held": webhooks.dispatcher.held_count(),
    }


def _page_context(query: dict[str, Any]) -> dict[str, Any]:
    state = _state()
    config = state.config
    visit = (to_datetime(_backend().clock.now()) + timedelta(days=30)).date().isoformat()
    catalog = state.backend.issuer.catalog
    return {
        **_orders_context(query),
        **_webhooks_context(),
        **requests_view.requests_context(state, requests_view.empty_query()),
        **requests_view.filter_context(state),
        "clock": clock_state(),
        "statuses": STATUSES,
        "partners": config.partners,
        "catalog": catalog.items.values(),
        "outcomes": OUTCOMES,
        "visit_date": visit,
        "api_base": api_base_url("", config),
        "api_key": config.default_api_key,
        "partner_id": config.default_partner_id,
        "mode": config.api_mode,
    }
