"""Deliberately broken targets for `otacm verify`'s tests.

Each `BrokenRule` is the mock with one documented rule switched off: a WSGI
middleware that rewrites what one instance answers, a patch of one
instance's backend, a wrapped webhook sender, or a config change. Nothing is
patched globally, so every break lives and dies with its `MockServer`.

`broken_mock(rule)` starts the broken mock (frozen clock, as `otacm verify`
finds it: with `/_mock/` clock control, so lifecycle waits are warped).
"""

from __future__ import annotations

import dataclasses

import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from mockserver.errors import ApiError
from mockserver.models import StatusChange
from mockserver.server import MockServer, frozen_config


@dataclass(frozen=True)
class BrokenRule:
    name: str
    rule: str  # the documented rule, in CONTRACT.md's words
    family: str  # responses | lifecycle | webhooks
    check: str  # the check that must name it
    args: tuple[str, ...]  # `otacm verify` options that select just enough to see it
    apply: Callable[[MockServer], None] = field(repr=False, compare=False, default=lambda server: None)
    config: dict[str, Any] = field(default_factory=dict, compare=False)
    strict_only: bool = False


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


def _lenient_page_size(server: MockServer) -> None:
    """pageSize out of 1..20000 (or not a number) is answered 200 instead of 400."""

    def rewrite(method, path, code, headers, body):  # noqa: ANN001, ANN202
        if method == "GET" and "/channelManager/orders/" in path and code == 400 and b"pageSize" in body:
            return 200, headers, json.dumps({"morePages": False, "nextPageKey": "", "nextPageURL": "",
                                             "data": []}).encode()
        return code, headers, body

    rewrite_responses(server, rewrite)


def _created_order_not_found(server: MockServer) -> None:
    backend = server.backend

    def broken(caller: Any, scope: Any, order_id: str) -> Any:
        from mockserver.errors import order_not_found

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


def _issued_not_sticky(server: MockServer) -> None:
    """An Issued order shows Processing again on the second look (as if re-issued by itself)."""
    looks: dict[str, int] = {}

    def change(method, path, code, order):  # noqa: ANN001, ANN202
        if method == "GET" and order.get("status") == "Issued":
            looks[order["orderId"]] = looks.get(order["orderId"], 0) + 1
            if looks[order["orderId"]] >= 2:
                return {**order, "status": "Processing"}
        return None

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


def _webhook_twice(server: MockServer) -> None:
    wrap_sender(server, lambda body: [body, body])


def _webhook_not_on_error(server: MockServer) -> None:
    def change(body: dict[str, Any]) -> list[dict[str, Any]]:
        body["values"] = [e for e in body["values"] if e["payload"]["status"] != "Error"]
        return [body] if body["values"] else []

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


RESPONSES = ("--checks", "{check}", "--no-scenarios", "--no-webhooks", "--max-examples", "3", "--seed", "7")
LIFECYCLE = ("--checks", "lifecycle", "--no-scenarios", "--no-webhooks")
WEBHOOKS = ("--checks", "webhooks", "--no-scenarios")

RULES: tuple[BrokenRule, ...] = (
    BrokenRule("create-answers-200", "createOrder accepted → 201 (CONTRACT.md status table)", "responses",
               "status_code_conformance", (*RESPONSES, "--phases", "examples", "--operations", "createOrder"),
               _create_answers_200),
    BrokenRule("errors-as-text", "errors are the flat JSON body {code, message} (CONTRACT.md)", "responses",
               "content_type_conformance", (*RESPONSES, "--phases", "examples", "--operations", "getOrder"),
               _errors_as_text),
    BrokenRule("no-auth", "a missing or unknown API key is 401 (CONTRACT.md)", "responses", "ignored_auth",
               (*RESPONSES, "--phases", "examples", "--operations", "listOrdersByPartner"), _no_auth),
    BrokenRule("unknown-order-500", "an unknown orderId is 404 resource_not_found (CONTRACT.md)", "responses",
               "not_a_server_error", (*RESPONSES, "--phases", "examples", "--operations", "getOrder"),
               _unknown_order_500),
    BrokenRule("order-without-receivedAt", "every order carries receivedAt (OrderHeader, docs/002)", "responses",
               "response_schema_conformance", (*RESPONSES, "--phases", "examples", "--operations", "createOrder"),
               _drop_received_at),
    BrokenRule("lenient-pageSize", "pageSize must be 1..20000 (docs/002, spec)", "responses",
               "negative_data_rejection", (*RESPONSES, "--phases", "coverage", "--operations", "listOrdersByPartner"),
               _lenient_page_size),
    BrokenRule("created-order-not-found", "getOrder finds the order createOrder just made (docs/002)", "responses",
               "ensure_resource_availability",
               (*RESPONSES, "--phases", "stateful", "--operations", "createOrder,getOrder"),
               _created_order_not_found),
    BrokenRule("keys-sorted", "order keys in the server's order (CONTRACT.md, strict)", "responses",
               "strict_key_order",
               (*RESPONSES, "--strictness", "strict", "--phases", "examples", "--operations", "createOrder"),
               _keys_sorted, strict_only=True),
    BrokenRule("short-not-found", "404 message \"Order '<id>' not found Not Found\" (CONTRACT.md, strict)",
               "responses", "strict_error_message",
               (*RESPONSES, "--strictness", "strict", "--phases", "examples", "--operations", "getOrder"),
               _short_not_found, strict_only=True),
    BrokenRule("long-buyFromOrderReference", "buyFromOrderReference is CM-<yyMMddHHmmss>-<4 hex> (CONTRACT.md, strict)",
               "responses", "strict_response_schema",
               (*RESPONSES, "--strictness", "strict", "--phases", "examples", "--operations", "createOrder"),
               _long_buy_from_reference, strict_only=True),
    BrokenRule("issued-not-sticky", "Issued never changes without a call (docs/000 lifecycle)", "lifecycle",
               "terminal_sticky", LIFECYCLE, _issued_not_sticky),
    BrokenRule("create-answers-scheduled", "createOrder answers Submitted (docs/000 lifecycle)", "lifecycle",
               "transition_legality", LIFECYCLE, _create_answers_scheduled),
    BrokenRule("delete-issued-removes", "deleting an Issued order keeps it as Cancelled (docs/000)", "lifecycle",
               "transition_legality", LIFECYCLE, _delete_issued_removes),
    BrokenRule("slow-settle", "an order settles a few seconds after pickup (docs/000, 001)", "lifecycle",
               "settles_within", LIFECYCLE, config={"processing_seconds": 600.0}),
    BrokenRule("delete-in-flight-pretends", "a deleted order is gone or Cancelled; in flight it is a 400 (docs/000)",
               "responses", "use_after_free",
               (*RESPONSES, "--phases", "stateful", "--max-examples", "10"), _delete_in_flight_pretends),
    BrokenRule("webhook-value-key", "the webhook envelope is {\"values\": [...]} (docs/004)", "webhooks",
               "webhook_conformance", WEBHOOKS, _webhook_value_key),
    BrokenRule("webhook-without-clientState", "each event mirrors the subscription's clientState (docs/004)",
               "webhooks", "webhook_conformance", WEBHOOKS, _webhook_without_client_state),
    BrokenRule("webhook-says-issued", "payload.status is the settled status (docs/004)", "webhooks",
               "webhook_matches_status", WEBHOOKS, _webhook_says_issued),
    BrokenRule("webhook-twice", "one event per settle (docs/001, 004)", "webhooks", "webhook_once_per_settle",
               WEBHOOKS, _webhook_twice),
    BrokenRule("webhook-not-on-error", "the webhook fires on Error settles too (docs/001, 004)", "webhooks",
               "webhook_once_per_settle", WEBHOOKS, _webhook_not_on_error),
    BrokenRule("webhook-before-settled", "the event fires once the order has settled (docs/001, 004)", "webhooks",
               "webhook_after_terminal", WEBHOOKS, _webhook_before_settled, config={"processing_seconds": 600.0}),
)


@contextlib.contextmanager
def broken_mock(rule: BrokenRule) -> Iterator[MockServer]:
    server = MockServer(frozen_config(clock_start=float(int(time.time())), **rule.config))
    rule.apply(server)
    with server:
        yield server


def verify_args(rule: BrokenRule, server: MockServer) -> list[str]:
    args = [a.replace("{check}", rule.check) for a in rule.args]
    return ["verify", "--base-url", server.url, "--api-key", server.api_key, "--partner-id", server.partner_id,
            "--quiet", *args]
