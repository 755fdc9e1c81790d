"""Deliberately broken targets for `otacm verify`'s tests.

Each break switches one documented rule off on one mock instance: a WSGI
middleware that rewrites what it answers, a patch of its backend, or a
wrapped webhook sender. Nothing is patched globally, so every break lives and
dies with its `MockServer`. The tables that pair breaks with checks are in
test_verify_broken.py, test_probe_broken.py and broken_rules.py.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any, Callable

from mockserver.sandbox.errors import ApiError
from mockserver.sandbox.models import StatusChange
from mockserver.server import MockServer


# -- helpers ------------------------------------------------------------------------------
def rewrite_responses(server: MockServer, rewrite: Callable[[str, str, int, dict[str, str], bytes],
                                                            tuple[int, dict[str, str], bytes]]) -> None:
    """Put a middleware in front of the API: `rewrite(method, path, status, headers, body)`."""
    inner = server.app.wsgi_app

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(inner(environ, capture))
        path = environ.get("PATH_INFO", "")
        code = int(captured["status"].split()[0])
        headers = {k: v for k, v in captured["headers"]}
        if path.startswith("/_mock/"):
            new_code, new_headers, new_body = code, headers, body
        else:
            new_code, new_headers, new_body = rewrite(environ["REQUEST_METHOD"], path, code, headers, body)
        new_headers = {k: v for k, v in new_headers.items() if k.lower() != "content-length"}
        new_headers["Content-Length"] = str(len(new_body))
        reason = {200: "OK", 201: "CREATED", 500: "INTERNAL SERVER ERROR"}.get(new_code, "STATUS")
        start_response(f"{new_code} {reason}", list(new_headers.items()))
        return [new_body]

    server.app.wsgi_app = app


def rewrite_orders(server: MockServer, change: Callable[[str, str, int, dict[str, Any]], dict[str, Any] | None]) -> None:
    """Rewrite JSON order bodies (any answer with an `orderId` and a `status`)."""

    def rewrite(method: str, path: str, code: int, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        try:
            document = json.loads(body)
        except ValueError:
            return code, headers, body
        if isinstance(document, dict) and "orderId" in document and "status" in document:
            changed = change(method, path, code, document)
            if changed is not None:
                return code, headers, json.dumps(changed).encode()
        return code, headers, body

    rewrite_responses(server, rewrite)


def wrap_sender(server: MockServer, change: Callable[[dict[str, Any]], list[dict[str, Any]]]) -> None:
    """Rewrite each webhook body before the mock POSTs it (`change` returns the bodies to send)."""
    dispatcher = server.webhooks.dispatcher
    send = dispatcher.sender

    def sender(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str | None]:
        result: tuple[int | None, str | None] = (200, None)
        for new in change(json.loads(body)):
            result = send(url, json.dumps(new).encode(), headers, timeout)
        return result

    dispatcher.sender = sender


# -- the breaks ---------------------------------------------------------------------------------
def _create_answers_200(server: MockServer) -> None:
    def rewrite(method, path, code, headers, body):  # noqa: ANN001, ANN202
        return (200 if method == "POST" and path.endswith("/channelManager") and code == 201 else code), headers, body

    rewrite_responses(server, rewrite)


def _errors_as_text(server: MockServer) -> None:
    def rewrite(method, path, code, headers, body):  # noqa: ANN001, ANN202
        if code >= 400:
            message = json.loads(body).get("message", "error")
            return code, {**headers, "Content-Type": "text/plain; charset=utf-8"}, message.encode()
        return code, headers, body

    rewrite_responses(server, rewrite)


def _no_auth(server: MockServer) -> None:
    backend = server.backend
    known = backend.caller_for

    def caller_for(api_key: str | None) -> Any:
        return known(api_key) or known(server.api_key)

    backend.caller_for = caller_for  # type: ignore[method-assign]


def _unknown_order_500(server: MockServer) -> None:
    backend = server.backend
    get_order = backend.get_order

    def broken(caller: Any, scope: Any, order_id: str) -> Any:
        try:
            return get_order(caller, scope, order_id)
        except ApiError as error:
            if error.status == 404:
                raise RuntimeError(f"order {order_id} is not in the store") from None
            raise

    backend.get_order = broken  # type: ignore[method-assign]


def _drop_received_at(server: MockServer) -> None:
    rewrite_orders(server, lambda method, path, code, order: {k: v for k, v in order.items() if k != "receivedAt"})


def _created_order_not_found(server: MockServer) -> None:
    backend = server.backend

    def broken(caller: Any, scope: Any, order_id: str) -> Any:
        from mockserver.sandbox.errors import order_not_found

        raise order_not_found(order_id)

    backend.get_order = broken  # type: ignore[method-assign]


def _keys_sorted(server: MockServer) -> None:
    rewrite_orders(server, lambda method, path, code, order: dict(sorted(order.items())))


def _short_not_found(server: MockServer) -> None:
    def rewrite(method, path, code, headers, body):  # noqa: ANN001, ANN202
        if code == 404 and b"not found Not Found" in body and b"Order '" in body:
            return code, headers, json.dumps({"code": "resource_not_found", "message": "Order not found"}).encode()
        return code, headers, body

    rewrite_responses(server, rewrite)


def _long_buy_from_reference(server: MockServer) -> None:
    def change(method, path, code, order):  # noqa: ANN001, ANN202
        reference = order.get("buyFromOrderReference", "")
        if reference.startswith("CM-") and len(reference) == 20:
            order["buyFromOrderReference"] = "CM-20" + reference[3:]  # the docs' 22 characters
        return order

    rewrite_orders(server, change)


def _create_answers_scheduled(server: MockServer) -> None:
    def change(method, path, code, order):  # noqa: ANN001, ANN202
        if method == "POST" and path.endswith("/channelManager") and order.get("status") == "Submitted":
            return {**order, "status": "Scheduled"}
        return None

    rewrite_orders(server, change)


def _delete_issued_removes(server: MockServer) -> None:
    backend = server.backend
    delete_order = backend.delete_order

    def broken(caller: Any, scope: Any, order_id: str) -> Any:
        order = delete_order(caller, scope, order_id)
        if backend.store.get(order.order_id) is order:
            backend.store.remove(order)
        return order

    backend.delete_order = broken  # type: ignore[method-assign]


def _webhook_value_key(server: MockServer) -> None:
    wrap_sender(server, lambda body: [{"value": body["values"]}])


def _webhook_without_client_state(server: MockServer) -> None:
    def change(body: dict[str, Any]) -> list[dict[str, Any]]:
        for event in body["values"]:
            event.pop("clientState", None)
        return [body]

    wrap_sender(server, change)


def _webhook_says_issued(server: MockServer) -> None:
    def change(body: dict[str, Any]) -> list[dict[str, Any]]:
        for event in body["values"]:
            event["payload"]["status"] = "Issued"
        return [body]

    wrap_sender(server, change)


def _webhook_before_settled(server: MockServer) -> None:
    """The event announces the outcome as processing starts; processing then takes 600 s."""
    backend, dispatcher = server.backend, server.webhooks.dispatcher
    backend.settle_listeners.remove(dispatcher.on_settle)
    move = backend._move

    def early(order: Any, target: str, trigger: str, at: float, reason: str = "") -> Any:
        transition = move(order, target, trigger, at, reason)
        if target == "Processing":
            announced = "Issued" if order.payment_reference else "Draft"
            dispatcher.on_settle(order, StatusChange(announced, at, "issuanceCompleted"))
        return transition

    backend._move = early


def _delete_in_flight_pretends(server: MockServer) -> None:
    """Deleting an in-flight order answers 200 Cancelled but leaves the order as it was."""
    backend = server.backend
    delete = backend.delete_order

    def pretend(caller: Any, scope: Any, order_id: str) -> Any:
        order = backend.get_order(caller, scope, order_id)
        if order.status in backend.lifecycle.in_flight:
            return dataclasses.replace(order, status="Cancelled", lines=[])
        return delete(caller, scope, order_id)

    backend.delete_order = pretend


# -- the webhook event's values (issue 18: what each event must carry) ----------------------------------
def on_events(change: Callable[[dict[str, Any]], None]) -> Callable[[MockServer], None]:
    """Change, in place, every event the mock's sender POSTs."""
    def apply(server: MockServer) -> None:
        def each(body: dict[str, Any]) -> list[dict[str, Any]]:
            for event in body["values"]:
                change(event)
            return [body]

        wrap_sender(server, each)
    return apply


def _company_encoded(event: dict[str, Any]) -> None:
    from urllib.parse import quote

    event["companyName"] = quote(event["companyName"], safe="")  # CRONUS%20International%20Ltd.


def _event_version_wrong(event: dict[str, Any]) -> None:
    event["eventVersion"] = "2.0"


def _event_name_wrong(event: dict[str, Any]) -> None:
    event["eventName"] = "ota_cm_order_Processed"


def _no_timestamp(event: dict[str, Any]) -> None:
    event.pop("timestamp", None)


def _empty_reference(event: dict[str, Any]) -> None:
    event["payload"]["buyFromOrderReference"] = ""


def _order_id_unknown(event: dict[str, Any]) -> None:
    """The event names an order nobody made (its reference is still the order's)."""
    event["payload"]["orderId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, event["payload"]["orderId"]))


def _reference_of_another_order(server: MockServer) -> None:
    """Each event carries the buyFromOrderReference of the order announced before it (the first: a made-up one)."""
    previous: list[tuple[str, str]] = []

    def change(event: dict[str, Any]) -> None:
        payload = event["payload"]
        others = [ref for order_id, ref in previous if order_id != payload["orderId"]]
        mine = payload["buyFromOrderReference"]
        previous.append((payload["orderId"], mine))
        made_up = mine[:-4] + ("FFFF" if mine[-4:] != "FFFF" else "0000")
        payload["buyFromOrderReference"] = others[-1] if others else made_up

    on_events(change)(server)


company_encoded = on_events(_company_encoded)
event_version_wrong = on_events(_event_version_wrong)
event_name_wrong = on_events(_event_name_wrong)
no_timestamp = on_events(_no_timestamp)
empty_reference = on_events(_empty_reference)
order_id_unknown = on_events(_order_id_unknown)
reference_of_another_order = _reference_of_another_order
