"""The order operations' handlers: request parts in, backend calls, JSON out.

No business rule lives here: `urls.py` authenticates and routes to these
handlers, `http.py` parses and schema-validates the request (the server's
error texts come from validation.py); a handler calls the backend and shapes
the answer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import request

from mockserver.backend import Caller, ChannelManagerBackend
from mockserver.http import directives, json_body, sync
from mockserver.models import Scope
from mockserver.order_input import list_query
from mockserver.representation import page_bytes
from mockserver.routing import Match
from mockserver.state import state

Answer = tuple[int, Any]  # (status, JSON body, JSON already serialised (bytes), or None)

# Bodies are rendered under the backend lock (re-entrant): the order cannot
# change between the call and its JSON.


def create_order(be: ChannelManagerBackend, caller: Caller, scope: Scope, match: Match) -> Answer:
    body = json_body("createOrder")
    forced = directives()
    with be.lock:
        return 201, state().representation.order_bytes(be.create_order(caller, scope, body, forced, sync()))


def get_order(be: ChannelManagerBackend, caller: Caller, scope: Scope, match: Match) -> Answer:
    with be.lock:
        return 200, state().representation.order_bytes(be.get_order(caller, scope, match.params["orderId"]))


def replace_order(be: ChannelManagerBackend, caller: Caller, scope: Scope, match: Match) -> Answer:
    body = json_body("replaceOrder")
    forced = directives()
    with be.lock:
        order = be.replace_order(caller, scope, match.params["orderId"], body, forced, sync())
        return 200, state().representation.order_bytes(order)


def confirm_order(be: ChannelManagerBackend, caller: Caller, scope: Scope, match: Match) -> Answer:
    with be.lock:
        order = be.confirm_order(caller, scope, match.params["orderId"], lambda: json_body("confirmOrder"))
        return 200, state().representation.order_bytes(order)


def delete_order(be: ChannelManagerBackend, caller: Caller, scope: Scope, match: Match) -> Answer:
    with be.lock:
        return 200, state().representation.order_bytes(be.delete_order(caller, scope, match.params["orderId"]))


def list_orders_by_partner(be: ChannelManagerBackend, caller: Caller, scope: Scope, match: Match) -> Answer:
    statuses = state().spec.document["components"]["schemas"]["OrderStatus"]["enum"]
    query = list_query(request.args.to_dict(), statuses)
    with be.lock:
        orders, more = be.list_orders(caller, scope, match.params["partnerId"], query)
        next_key = str(orders[-1].seq) if more else ""
        next_url = ""
        if more:
            next_url = request.base_url + "?" + urlencode({**request.args.to_dict(), "pageKey": next_key})
        return 200, page_bytes(orders, more, next_key, next_url)
