"""The order operations' handlers: request parts in, backend calls, JSON out.

No business rule lives here: `urls.py` authenticates and routes to these
handlers, `http.py` parses and schema-validates the request (the server's
error texts come from validation.py); a handler calls the backend and shapes
the answer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from mockserver.api.http import Call, directives, json_body, sync
from mockserver.sandbox.models import Order
from mockserver.sandbox.order_input import list_query
from mockserver.sandbox.representation import page_bytes

Answer = tuple[int, Any]  # (status, JSON body, JSON already serialised (bytes), or None)

# Each handler asks the backend for one atomic unit, the operation and its
# rendering (`answered`): the body shows the order exactly as the operation
# left it, and no handler ever holds the backend's lock itself.


def create_order(call: Call) -> Answer:
    body, forced = json_body(call, "createOrder"), directives(call.request)
    be = call.mock.backend
    return 201, be.answered(call.mock.representation.order_bytes, be.create_order,
                            call.caller, call.scope, body, forced, sync(call.request))


def get_order(call: Call) -> Answer:
    be = call.mock.backend
    return 200, be.answered(call.mock.representation.order_bytes, be.get_order,
                            call.caller, call.scope, call.match.params["orderId"])


def replace_order(call: Call) -> Answer:
    body, forced = json_body(call, "replaceOrder"), directives(call.request)
    be = call.mock.backend
    return 200, be.answered(call.mock.representation.order_bytes, be.replace_order,
                            call.caller, call.scope, call.match.params["orderId"], body, forced, sync(call.request))


def confirm_order(call: Call) -> Answer:
    be = call.mock.backend
    return 200, be.answered(call.mock.representation.order_bytes, be.confirm_order,
                            call.caller, call.scope, call.match.params["orderId"],
                            lambda: json_body(call, "confirmOrder"))


def delete_order(call: Call) -> Answer:
    be = call.mock.backend
    return 200, be.answered(call.mock.representation.order_bytes, be.delete_order,
                            call.caller, call.scope, call.match.params["orderId"])


def list_orders_by_partner(call: Call) -> Answer:
    request, be = call.request, call.mock.backend
    statuses = call.mock.spec.document["components"]["schemas"]["OrderStatus"]["enum"]
    query = list_query(request.args.to_dict(), statuses)

    def page(found: tuple[list[Order], bool]) -> bytes:
        orders, more = found
        next_key = str(orders[-1].seq) if more else ""
        next_url = ""
        if more:
            next_url = request.base_url + "?" + urlencode({**request.args.to_dict(), "pageKey": next_key})
        return page_bytes(orders, more, next_key, next_url)

    return 200, be.answered(page, be.list_orders, call.caller, call.scope, call.match.params["partnerId"], query)
