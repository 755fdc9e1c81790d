"""Every registered probe check fails on a hand-made violation, passes on the correct case, and skips without one.

The histories are built from `Exchange`s as the probe records them
(`observe` adds the statuses), so each case reads like the calls a target
answered. `CASES` maps a check name to three builders: (violation, correct,
nothing to judge); a test fails when a registered check has no case.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable

import pytest

from contracts.checks.registry import Registry
from listing_cases import LISTING_CASES
from listing_cases import page as listing_page
from listing_cases import summary as listing_row
from listing_cases import walked as listing_walked
from contracts.verify.rules import load_divergences, load_rules
from contracts.checks.violations import Violation
from contracts.target import Exchange
from contracts.verify.evidence import CheckContext, Evidence, ListingWalk, OrderHistory
from contracts.verify.judge import judge, known_divergence
from contracts.verify.poller import observe
from contracts.webhooks.receiver import Delivery

PARTNER = "21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e"
OID = "9c6b2f4e-2b71-4d23-9d6a-a3b4c5d6e7f8"
UNKNOWN = "11111111-2222-4333-8444-555555555555"
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
INACTIVE = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
VENUE = {"group_item": "31010", "individual_item": "31001", "individual_price_excl_vat": 80,
         "individual_price_incl_vat": 100, "group_price_excl_vat": 64, "group_price_incl_vat": 80,
         "inactive_partner_id": INACTIVE}
STATE = "otacm-test"
CLOCK = [1_000.0]


# -- builders ----------------------------------------------------------------------------------
def request(paid: bool = True, quantity: int = 1, ref: str = "otacm-ref-1", **wallet: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"itemNumber": "31001", "visitDate": "2099-01-01", "visitTime": "10:30:00", "quantity": quantity}
    if wallet:
        line["wallet"] = wallet
    body = {"partnerId": PARTNER, "sellToOrderReference": ref, "items": [line]}
    return body | ({"paymentReference": "PAY-1"} if paid else {})


def overriding(name: str) -> dict[str, Any]:
    """A request whose line has its own sellToName."""
    body = request()
    body["items"][0]["sellToName"] = name
    return body


def wallet(seq: int, minted: bool, **changes: Any) -> dict[str, Any]:
    if minted:
        found = {"seqNo": seq, "walletId": f"aaaaaaaa-0000-4000-8000-00000000000{seq}", "walletReferenceNumber": f"10{seq}",
                 "externalReferenceNumber": "", "name": "Castle", "issuedAt": "2099-01-01T00:00:00Z",
                 "unitPriceExclVat": 80, "unitPriceInclVat": 100, "currencyCode": "DKK",
                 "manifestUrl": "https://m/w", "assets": [{"type": "ticket", "referenceNumber": "T1"}]}
    else:
        found = {"seqNo": seq, "walletId": EMPTY_GUID, "walletReferenceNumber": "", "externalReferenceNumber": "",
                 "name": "", "issuedAt": "", "unitPriceExclVat": 0, "unitPriceInclVat": 0, "currencyCode": "",
                 "assets": []}
    return found | changes


def order(status: str, wallets: int = 1, ref: str = "OTACM-REF-1", **changes: Any) -> dict[str, Any]:
    minted = status in ("Draft", "Issued")
    doc: dict[str, Any] = {"orderId": OID, "status": status, "statusMessage": "boom" if status == "Error" else "",
                           "partnerId": PARTNER, "sellToOrderReference": ref, "buyFromOrderReference": "CM-1",
                           "paymentReference": "PAY-1", "receivedAt": "2099-01-01T00:00:00Z",
                           "jobId": "ABC" if minted else ""}
    if status == "Issued":
        doc["manifestUrl"] = "https://m/o"
    if status == "Cancelled":
        doc["items"] = []
    else:
        doc["items"] = [{"lineNo": 100000, "itemNumber": "31001",
                         "wallets": [wallet(i + 1, minted) for i in range(wallets)]}]
    return doc | changes


def call(operation: str, status: int, response: Any = None, *, body: Any = None, query: dict | None = None,
         order_id: str = OID, at: float | None = None) -> Exchange:
    CLOCK[0] += 1
    params = {"orderId": order_id} if operation not in ("createOrder", "listOrdersByPartner") else \
        ({"partnerId": PARTNER} if operation == "listOrdersByPartner" else {})
    return Exchange("GET", f"http://t/{operation}", {}, body, operation, params, query or {}, status, response,
                    at=CLOCK[0] if at is None else at)


def history(*exchanges: Exchange, body: dict | None = None, **facts: Any) -> OrderHistory:
    made = OrderHistory("test", "a test order", body or request(), order_id=OID, facts=facts)
    for exchange in exchanges:
        observe(made, exchange)
    made.background_settles = sum(1 for e in exchanges if e.operation == "getOrder" and e.ok
                                  and e.response.get("status") in ("Issued", "Draft", "Error")
                                  and not facts.get("no_settles"))
    return made


def got(status: str, operation: str = "getOrder", **changes: Any) -> Exchange:
    """A 2xx answer carrying the order in `status` (getOrder unless told)."""
    return call(operation, 200 if operation != "createOrder" else 201, order(status, **changes))


def holding(*found: dict[str, Any]) -> dict[str, Any]:
    """`items` of one line holding these wallets."""
    return {"items": [{"lineNo": 100000, "wallets": list(found)}]}


def deleted() -> Exchange:
    return got("Cancelled", "deleteOrder")


def created(paid: bool = True, wallets: int = 1, body: dict | None = None) -> Exchange:
    return call("createOrder", 201, order("Submitted", wallets), body=body or request(paid))


def error(status: int, message: str = "nope", code: str = "generic_error", **more: Any) -> Exchange:
    return call(more.pop("op", "confirmOrder"), status, {"code": code, "message": message}, **more)


def listed(rows: list[dict], query: dict | None = None, bare: bool = False) -> Exchange:
    body: Any = rows if bare else {"morePages": False, "nextPageKey": "", "nextPageURL": "", "data": rows}
    return call("listOrdersByPartner", 200, body, query=query)


def row(status: str = "Issued", partner: str = PARTNER, **more: Any) -> dict[str, Any]:
    return {"orderId": OID, "partnerId": partner, "sellToOrderReference": "OTACM-REF-1", "status": status,
            "statusMessage": "", "receivedAt": "2099-01-01T00:00:00Z"} | more


def delivery(*events: dict[str, Any], flat: bool = False, violations: tuple = ()) -> Delivery:
    document: Any = events[0] if flat else {"values": list(events)}
    raw = json.dumps(document).encode()
    return Delivery(1, datetime.now(timezone.utc), "/", {}, raw, document, list(violations), 200)


def event(status: str = "Issued", state: str = STATE) -> dict[str, Any]:
    return {"appId": "a", "clientState": state, "companyId": "c", "companyName": "C", "eventName": "ota_cm_order_processed",
            "eventVersion": "1.0", "initiatingUserAADObjectId": "u", "timestamp": "2099-01-01T00:00:00Z",
            "payload": {"orderId": OID, "buyFromOrderReference": "CM-1", "status": status}}


def with_events(made: OrderHistory, *statuses: str) -> OrderHistory:
    made.events = delivery(*(event(s) for s in statuses)).events if statuses else []
    return made


def run(*histories: OrderHistory, exchanges: tuple = (), deliveries: tuple = (), problem: str = "") -> Evidence:
    return Evidence(list(histories), list(exchanges), list(deliveries), problem, quiet_window=60.0)


def _example() -> dict[str, Any]:
    """The spec's example of a getOrder answer (an Issued order, as the server writes it)."""
    from contracts.spec import load_spec

    found = [value for where, _, value in load_spec().examples() if where == "getOrder 200 issued"]
    return json.loads(json.dumps(found[0]))


# -- the cases: (violation, correct, nothing to judge) -----------------------------------------------
Build = Callable[[], Any]
DRAFT_GET = lambda: call("getOrder", 200, order("Draft"))  # noqa: E731
ISSUED_GET = lambda: call("getOrder", 200, order("Issued"))  # noqa: E731
SYNC = {"sync": "1"}
PAYING = {"paymentReference": "P"}
PKG = {"kind": "package", "tickets": 2, "coupons": 1}
TICKETS = [{"type": "ticket"}, {"type": "ticket"}]
WITH_COUPON = TICKETS + [{"type": "coupon"}]
TWO_REFS = request(quantity=2, externalReferenceNumbers=["A", "B"])


def _lined(status: str = "Issued", no: int = 100000, seqs: tuple[int, ...] = (1,), **changes: Any) -> Exchange:
    """getOrder answering one line that echoes request()'s, numbered `no`, with wallets numbered `seqs`."""
    line = {"lineNo": no, "itemNumber": "31001", "quantity": 1, "visitDate": "2099-01-01", "visitTime": "10:30:00",
            "wallets": [wallet(seq, status in ("Draft", "Issued"), seqNo=seq) for seq in seqs]} | changes
    return got(status, items=[line])


def _cleared(**answered: Any) -> OrderHistory:
    """A Draft replaced by request() (no sellToEmail, sellToName, sellToLanguage), answered with `answered`."""
    return history(DRAFT_GET(), call("replaceOrder", 200, order("Submitted", **answered), body=request()))


def _replaced(new_ids: bool) -> OrderHistory:
    again = order("Issued", items=[{"lineNo": 100000, "wallets": [wallet(1, True, walletId=UNKNOWN if new_ids else
                                                                       "aaaaaaaa-0000-4000-8000-000000000001")]}])
    return history(created(False), DRAFT_GET(), call("replaceOrder", 200, order("Submitted"), body=request()),
                   call("getOrder", 200, again))


def _sync_failure(answer: int, row_status: str = "Error") -> OrderHistory:
    body = request()
    made = history(call("createOrder", answer, {"code": "generic_error", "message": "slot"} if answer == 400
                        else order("Issued"), body=body, query=SYNC),
                   listed([row(row_status, statusMessage="slot sold out")], {"sellToOrderReference": "otacm-ref-1"}),
                   body=body, expect="Error")
    made.sync = True
    return made


def _sync(events: tuple = ()) -> OrderHistory:
    made = history(call("createOrder", 201, order("Issued"), body=request(), query=SYNC))
    made.sync = True
    return with_events(made, *events)


def _early() -> Delivery:
    return delivery(event(), violations=(Violation("webhook_after_terminal", "getOrder still says 'Processing'", "values[0]"),))


def _closely(*statuses: str) -> Evidence:
    made = history(created(), *(call("getOrder", 200, order(s)) for s in statuses))
    made.polled_closely = True
    return run(made)


def _rejected(case: str, answer: Exchange) -> Evidence:
    """A run whose invalid-input flow recorded one request built for `case`, answered `answer`."""
    made = run(exchanges=(answer,))
    made.rejections.append((case, answer))
    return made


def _input_rule(rule: str) -> tuple[Build, Build, Build]:
    """An input-rule check: a recorded case of `rule` accepted, refused, and only another rule's case recorded."""
    return (lambda: _rejected(f"{rule}: a case", created()),
            lambda: _rejected(f"{rule}: a case", error(400, op="createOrder", body=request())),
            lambda: _rejected("rejections.invalid-input: quantity 0", error(400, op="createOrder", body=request())))


CASES: dict[str, tuple[Build, Build, Build]] = {
    # orders
    "valid_orders_accepted": (lambda: run(history(error(400, op="createOrder", body=request()))),
                              lambda: run(history(created())), lambda: run(history(DRAFT_GET()))),
    "wallet_counts": (lambda: history(call("getOrder", 200, order("Issued", wallets=1)), body=request(quantity=2)),
                      lambda: history(created(wallets=2), body=request(quantity=2)),
                      lambda: history(got("Cancelled"))),
    "package_wallet_assets": (lambda: history(got("Issued", **holding(wallet(1, True, assets=TICKETS))), **PKG),
                              lambda: history(got("Issued", **holding(wallet(1, True, assets=WITH_COUPON))), **PKG),
                              lambda: history(ISSUED_GET())),
    "shells_while_in_flight": (lambda: history(got("Submitted", "createOrder", **holding(wallet(1, True)))),
                               lambda: history(created()), lambda: history(ISSUED_GET())),
    "shell_values": (lambda: history(got("Submitted", "createOrder", **holding(wallet(1, False, walletId=UNKNOWN)))),
                     lambda: history(created()), lambda: history(ISSUED_GET())),
    "minted_when_settled": (lambda: history(got("Issued", **holding(wallet(1, False)))),
                            lambda: history(ISSUED_GET()), lambda: history(created())),
    "job_id_when_minted": (lambda: history(call("getOrder", 200, order("Issued", jobId=""))),
                           lambda: history(ISSUED_GET()), lambda: history(created())),
    "external_references_echoed": (lambda: history(created(wallets=2), body=TWO_REFS),
                                   lambda: history(got("Submitted", "createOrder",
                                                       **holding(wallet(1, False, externalReferenceNumber="A"),
                                                                 wallet(2, False, externalReferenceNumber="B"))),
                                                   body=TWO_REFS),
                                   lambda: history(created())),
    "wallet_names_echoed": (lambda: history(created(wallets=1), body=request(names=["Jane"])),
                            lambda: history(got("Submitted", "createOrder", **holding(wallet(1, False, name="Jane"))),
                                            body=request(names=["Jane"])),
                            lambda: history(created())),
    "line_overrides_echoed": (lambda: history(ISSUED_GET(), body=overriding("Line Guest")),
                              lambda: history(got("Issued", **{"items": [{"lineNo": 100000, "sellToName": "Line Guest",
                                                                          "wallets": [wallet(1, True)]}]}),
                                              body=overriding("Line Guest")),
                              lambda: history(ISSUED_GET())),
    "status_message_only_on_error": (lambda: history(call("getOrder", 200, order("Error", statusMessage=""))),
                                     lambda: history(call("getOrder", 200, order("Error"))),
                                     lambda: history(error(400))),
    "manifest_on_issued": (lambda: history(call("getOrder", 200, order("Issued", manifestUrl=""))),
                           lambda: history(ISSUED_GET()), lambda: history(DRAFT_GET())),
    "cancelled_shape": (lambda: history(call("deleteOrder", 200, order("Cancelled", items=[{"wallets": []}]))),
                        lambda: history(call("deleteOrder", 200, order("Cancelled", jobId=""))),
                        lambda: history(ISSUED_GET())),
    "identity_echoed": (lambda: history(call("getOrder", 200, order("Issued", ref="OTHER"))),
                        lambda: history(ISSUED_GET()), lambda: history(error(400))),
    "references_upper_cased": (lambda: history(call("getOrder", 200, order("Issued", ref="otacm-ref-1"))),
                               lambda: history(ISSUED_GET()), lambda: history(error(400))),
    "lines_echo_request": (lambda: history(_lined(quantity=2)), lambda: history(_lined()),
                           lambda: history(got("Cancelled"))),
    "line_numbers": (lambda: history(_lined(no=1)), lambda: history(_lined()), lambda: history(got("Cancelled"))),
    "wallet_sequence": (lambda: history(_lined(seqs=(0, 1))), lambda: history(_lined(seqs=(1, 2))),
                        lambda: history(got("Cancelled"))),
    "replace_clears_absent_fields": (lambda: _cleared(sellToEmail="old@example.com"), lambda: _cleared(sellToName=""),
                                     lambda: history(DRAFT_GET())),
    # calls
    "confirm_issues_draft": (lambda: history(DRAFT_GET(), error(400, body={"paymentReference": "P"})),
                             lambda: history(DRAFT_GET(), call("confirmOrder", 200, order("Issued"), body=PAYING), ISSUED_GET()),
                             lambda: history(DRAFT_GET())),
    "confirm_needs_payment_reference": (lambda: history(DRAFT_GET(), call("confirmOrder", 200, order("Issued"), body={})),
                                        lambda: history(DRAFT_GET(), error(400, body={})),
                                        lambda: history(DRAFT_GET(), call("confirmOrder", 200, order("Issued"), body=PAYING))),
    "confirm_on_issued_unchanged": (lambda: history(ISSUED_GET(), error(400, body=PAYING)),
                                    lambda: history(ISSUED_GET(), call("confirmOrder", 200, order("Issued"), body=PAYING)),
                                    lambda: history(ISSUED_GET(), error(400, body={}))),
    "confirm_refused_unless_draft": (lambda: history(created(), call("confirmOrder", 200, order("Issued"))),
                                     lambda: history(created(), error(400)), lambda: history(created())),
    "delete_refused_in_flight": (lambda: history(created(), deleted()),
                                 lambda: history(created(), error(400, op="deleteOrder")), lambda: history(created())),
    "delete_keeps_cancelled_row": (lambda: history(ISSUED_GET(), deleted(), error(404, op="getOrder")),
                                   lambda: history(ISSUED_GET(), deleted(), got("Cancelled")),
                                   lambda: history(ISSUED_GET())),
    "delete_cancelled_again": (lambda: history(deleted(), error(404, op="deleteOrder")),
                               lambda: history(deleted(), deleted()),
                               lambda: history(ISSUED_GET())),
    "delete_removes_draft_or_error": (lambda: history(DRAFT_GET(), deleted(), DRAFT_GET()),
                                      lambda: history(DRAFT_GET(), deleted(), error(404, op="getOrder")),
                                      lambda: history(ISSUED_GET())),
    "replace_refused_unless_draft_or_error": (lambda: history(ISSUED_GET(), call("replaceOrder", 200, order("Submitted"),
                                                                           body=request())),
                                              lambda: history(ISSUED_GET(), error(400, op="replaceOrder", body=request())),
                                              lambda: history(ISSUED_GET())),
    "replace_keeps_identity": (lambda: history(DRAFT_GET(), call("replaceOrder", 200, order("Submitted"),
                                                                     body=request(ref="other"))),
                               lambda: history(DRAFT_GET(), error(400, op="replaceOrder", body=request(ref="other"))),
                               lambda: history(DRAFT_GET(), call("replaceOrder", 200, order("Submitted"), body=request()))),
    "replace_resubmits": (lambda: history(DRAFT_GET(), call("replaceOrder", 200, order("Submitted", buyFromOrderReference="CM-2"),
                                                                body=request())),
                          lambda: history(DRAFT_GET(), call("replaceOrder", 200, order("Submitted"), body=request())),
                          lambda: history(DRAFT_GET())),
    "replace_mints_new_wallets": (lambda: _replaced(False), lambda: _replaced(True), lambda: history(DRAFT_GET())),
    # rejections (exchanges; duplicates over the run)
    "invalid_input_refused": (lambda: call("createOrder", 201, order("Submitted"), body=request() | {"items": []}),
                              lambda: error(400, op="createOrder", body=request() | {"partnerId": "x"}),
                              lambda: created()),
    "unknown_partner_refused": (lambda: call("createOrder", 201, order("Submitted"), body=request() | {"partnerId": UNKNOWN}),
                                lambda: error(400, op="createOrder", body=request() | {"partnerId": UNKNOWN}),
                                lambda: created()),
    "duplicate_reference_refused": (lambda: run(history(created()), exchanges=(created(),)),
                                    lambda: run(history(created()), exchanges=(error(400, op="createOrder", body=request()),)),
                                    lambda: run(history(created()))),
    "unknown_order_not_found": (lambda: run(exchanges=(call("getOrder", 200, order("Issued"), order_id=UNKNOWN),)),
                                lambda: run(exchanges=(error(404, f"Order '{UNKNOWN}' not found Not Found",
                                                             "resource_not_found", op="getOrder", order_id=UNKNOWN),)),
                                lambda: run(exchanges=(created(),))),
    "error_body_flat": (lambda: call("getOrder", 404, {"error": {"code": "x"}}), lambda: error(400), lambda: created()),
    "error_message_wording": (lambda: error(404, "no such order", "resource_not_found", op="getOrder"),
                              lambda: error(404, f"Order '{OID}' not found Not Found", "resource_not_found", op="getOrder"),
                              lambda: created()),
    # the input rules: only the invalid requests the probe recorded with their case (Evidence.rejections)
    "body_object_required": _input_rule("rejections.body-object"),
    "header_fields_refused": _input_rule("rejections.reference-length"),
    "line_fields_refused": _input_rule("rejections.visit-formats"),
    "unknown_item_refused": _input_rule("rejections.unknown-item"),
    "component_schedule_refused": _input_rule("rejections.schedule-entries"),
    # the server's shapes (strict): the spec's getOrder example is the server's own answer
    "server_formats": (lambda: call("getOrder", 200, {**_example(), "buyFromOrderReference": "CM-20260515093000-A1B2"}),
                       lambda: call("getOrder", 200, _example()), lambda: call("getOrder", 502, "Bad Gateway")),
    "server_key_order": (lambda: call("getOrder", 200, dict(reversed(list(_example().items())))),
                         lambda: call("getOrder", 200, _example()), lambda: call("getOrder", 502, "Bad Gateway")),
    # listing (the run)
    "list_envelope": (lambda: run(exchanges=(call("listOrdersByPartner", 200, {"items": []}),)),
                      lambda: run(exchanges=(listed([row()]), listed([row()], bare=True))), lambda: run()),
    "list_paginated_envelope": (lambda: run(exchanges=(listed([row()], bare=True),)),
                                lambda: run(exchanges=(listed([row()]),)), lambda: run()),
    "list_rows_of_partner": (lambda: run(exchanges=(listed([row(partner=UNKNOWN)]),)),
                             lambda: run(exchanges=(listed([row()]),)), lambda: run()),
    "list_summaries": (lambda: run(exchanges=(listed([row(items=[])]),)),
                       lambda: run(exchanges=(listed([row()]),)), lambda: run()),
    # sync
    "sync_create_final": (lambda: history(call("createOrder", 201, order("Submitted"), body=request(), query=SYNC)),
                          lambda: history(call("createOrder", 201, order("Issued"), body=request(), query=SYNC)),
                          lambda: history(created())),
    "sync_replace_final": (lambda: history(DRAFT_GET(), call("replaceOrder", 200, order("Draft"), body=request(), query=SYNC)),
                           lambda: history(DRAFT_GET(), call("replaceOrder", 200, order("Issued"), body=request(), query=SYNC)),
                           lambda: history(DRAFT_GET())),
    "sync_failure_leaves_error": (lambda: run(_sync_failure(201)), lambda: run(_sync_failure(400)),
                                  lambda: run(history(call("createOrder", 201, order("Issued"), body=request(), query=SYNC)))),
    "no_webhook_on_sync": (lambda: _sync(("Issued",)), lambda: _sync(), lambda: history(created())),
    # lifecycle
    "transition_legality": (lambda: history(created(), ISSUED_GET(), call("getOrder", 200, order("Processing"))),
                            lambda: history(created(), call("getOrder", 200, order("Scheduled")), ISSUED_GET()),
                            lambda: history(created())),
    "terminal_sticky": (lambda: history(ISSUED_GET(), DRAFT_GET()), lambda: history(ISSUED_GET(), ISSUED_GET()),
                        lambda: history(created(), DRAFT_GET())),
    "settles_within": (lambda: history(created(), call("getOrder", 200, order("Issued"), at=CLOCK[0] + 500)),
                       lambda: history(created(), ISSUED_GET()), lambda: history(ISSUED_GET(), ISSUED_GET())),
    "settles_by_payment": (lambda: history(created(paid=True), DRAFT_GET()), lambda: history(created(paid=True), ISSUED_GET()),
                           lambda: history(created())),
    "failed_issuance_errors": (lambda: history(created(), ISSUED_GET(), expect="Error"),
                               lambda: history(created(), call("getOrder", 200, order("Error")), expect="Error"),
                               lambda: history(created(), ISSUED_GET())),
    "shows_every_state": (lambda: _closely("Submitted", "Issued"), lambda: _closely("Scheduled", "Processing", "Issued"),
                          lambda: run(history(created(), ISSUED_GET()))),
    # webhooks
    "webhook_conformance": (lambda: delivery(event(), flat=True), lambda: delivery(event()), None),
    "webhook_client_state": (lambda: delivery(event(state="other")), lambda: delivery(event()), lambda: delivery()),
    "webhook_event_values": (lambda: delivery(event() | {"eventVersion": "2.0"}), lambda: delivery(event()),
                             lambda: delivery()),
    "webhook_matches_status": (lambda: (delivery(event("Issued")), run(history(created(False), DRAFT_GET()))),
                               lambda: (delivery(event("Draft")), run(history(created(False), DRAFT_GET()))),
                               lambda: (delivery(event("Draft")), run())),
    "webhook_after_terminal": (lambda: (_early(), run(history(created(), ISSUED_GET()))),
                               lambda: (delivery(event()), run(history(created(), ISSUED_GET()))),
                               lambda: (_early(), run(history(DRAFT_GET(), call("replaceOrder", 200, order("Submitted")))))),
    "webhook_once_per_settle": (lambda: run(with_events(history(created(), ISSUED_GET()), "Issued", "Issued")),
                                lambda: run(with_events(history(created(), ISSUED_GET()), "Issued")),
                                lambda: run(history(created(), ISSUED_GET()), problem="no receiver")),
    "no_webhook_on_confirm_or_delete": (
        lambda: with_events(history(created(False), DRAFT_GET(), call("confirmOrder", 200, order("Issued"))), "Draft", "Issued"),
        lambda: with_events(history(created(False), DRAFT_GET(), call("confirmOrder", 200, order("Issued"))), "Draft"),
        lambda: with_events(history(created(False), DRAFT_GET()), "Draft")),
}


def _group(excl: float, incl: float) -> dict[str, Any]:
    """A group line for 3 whose one wallet has these prices."""
    return {"items": [{"lineNo": 100000, "itemNumber": "31010", "quantity": 3,
                       "wallets": [wallet(1, True, unitPriceExclVat=excl, unitPriceInclVat=incl)]}]}


CASES.update(LISTING_CASES)  # the checks on the probe's own list walks
CASES.update({  # the checks on venue facts (prices, an inactive partner)
    "wallet_prices": (lambda: history(got("Issued", **holding(wallet(1, True, unitPriceInclVat=80)) |
                                           {"items": [{"lineNo": 100000, "itemNumber": "31001",
                                                       "wallets": [wallet(1, True, unitPriceInclVat=80)]}]})),
                      lambda: history(got("Issued")), lambda: history(got("Submitted"))),
    "group_wallet_price": (lambda: history(got("Issued", **_group(64, 80))),
                           lambda: history(got("Issued", **_group(192, 240))), lambda: history(got("Issued"))),
    "inactive_partner_refused": (
        lambda: call("createOrder", 201, order("Submitted"), body=request() | {"partnerId": INACTIVE}),
        lambda: error(400, op="createOrder", body=request() | {"partnerId": INACTIVE}), lambda: created()),
})


# -- issue 18's audit: the checks of the rules it added ------------------------------------------------------------
def _line(**changes: Any) -> dict[str, Any]:
    """`items` of one line of item 31001 (a ticket of the test venue), holding one minted wallet."""
    return {"items": [{"lineNo": 100000, "itemNumber": "31001", "wallets": [wallet(1, True)]} | changes]}


def _addressed(case: str, answer: Exchange) -> Evidence:
    """A run whose strict address flow recorded one request built for `case`, answered `answer`."""
    made = run(exchanges=(answer,))
    made.address_cases.append((case, answer))
    return made


def _sent(method: str, status: int, response: Any, operation: str = "getOrder") -> Exchange:
    return Exchange(method, "http://t/x", {}, None, operation, {"orderId": OID} if operation == "getOrder" else {}, {},
                    status, response)


def _gone(*pages: Exchange) -> Evidence:
    """A Draft deleted and seen gone (404), and list pages asked after it."""
    made = run(history(DRAFT_GET(), deleted(), error(404, op="getOrder")))
    walk = ListingWalk("a window", {}, [])
    walk.pages = list(pages)
    made.listings.append(walk)
    return made


def _listed_at(rows: list[dict[str, Any]]) -> Exchange:
    return call("listOrdersByPartner", 200, {"morePages": False, "nextPageKey": "", "nextPageURL": "", "data": rows},
                at=CLOCK[0] + 100)


def _paged_walk(url_rows: list[dict[str, Any]] | None, more_key: str = "7", complete: bool = True) -> Evidence:
    """A walk in pages of 1: page 1 says more follow (key `more_key`, URL /next), page 2 is the last; its nextPageURL
    fetched answered `url_rows` (None: not fetched)."""
    query = {"pageSize": "1"}
    first = listing_page([listing_row(OID)], query, more=True)
    first.response.update(nextPageKey=more_key, nextPageURL="http://target/next" if more_key else "")
    walk = ListingWalk("pages of 1", query, [], "listing.paging", [first, listing_page([listing_row(UNKNOWN)], query)],
                       complete=complete)
    if url_rows is not None:
        walk.next_urls.append((0, listing_page(url_rows, {})))
    return Evidence(listings=[walk], quiet_window=60.0)


def _refused_walk(status: int, level: str = "documented", rule: str = "listing.complete") -> Evidence:
    walk = ListingWalk("status Draft", {"status": "Draft"}, [], rule, level=level)
    walk.pages = [call("listOrdersByPartner", status, {"code": "resource_not_found", "message": "none"}
                       if status != 200 else [])]
    return Evidence(listings=[walk], quiet_window=60.0)


CASES.update({
    "header_echoed": (lambda: history(got("Issued", sellToName="Old"), body=request() | {"sellToName": "New"}),
                      lambda: history(got("Issued", sellToName="NEW"), body=request() | {"sellToName": "new"}),
                      lambda: history(got("Issued"), body=request(paid=False))),
    "buy_from_reference_stable": (lambda: history(created(), got("Issued", receivedAt="2099-01-01T01:00:00Z")),
                                  lambda: history(created(), ISSUED_GET()),
                                  lambda: history(error(404, op="getOrder"))),
    "package_flag": (lambda: history(got("Issued", **_line(isPackage=True))),
                     lambda: history(got("Issued", **_line(isPackage=False))), lambda: history(ISSUED_GET())),
    "asset_kinds": (lambda: history(got("Issued", **holding(wallet(1, True, assets=[{"type": "Ticket",
                                                                                     "referenceNumber": "T1"}])))),
                    lambda: history(ISSUED_GET()), lambda: history(created())),
    "wallet_name_default": (lambda: history(got("Issued", **_line(description="Castle", wallets=[wallet(1, True, name="")]))),
                            lambda: history(got("Issued", **_line(description="Castle"))),
                            lambda: history(ISSUED_GET())),
    "line_contact_defaults": (lambda: history(got("Issued", sellToName="Jane", **_line(sellToName=""))),
                              lambda: history(got("Issued", sellToName="Jane", **_line(sellToName="Jane"))),
                              lambda: history(ISSUED_GET())),
    "unknown_fields_ignored": (lambda: run(history(error(400, op="createOrder", body=request()), unknown_fields=True)),
                               lambda: run(history(created(), unknown_fields=True)), lambda: run(history(created()))),
    "confirm_on_issued_reads_no_body": (lambda: history(ISSUED_GET(), error(400, body={})),
                                        lambda: history(ISSUED_GET(), call("confirmOrder", 200, order("Issued"), body={})),
                                        lambda: history(ISSUED_GET(), error(400, body=PAYING))),
    "replace_invalid_refused": (lambda: history(DRAFT_GET(), call("replaceOrder", 200, order("Submitted"),
                                                                  body=request(quantity=0))),
                                lambda: history(DRAFT_GET(), error(400, op="replaceOrder", body=request(quantity=0)),
                                                DRAFT_GET()),
                                lambda: history(DRAFT_GET(), call("replaceOrder", 200, order("Submitted"), body=request()))),
    "sync_true_final": (lambda: history(call("createOrder", 201, order("Submitted"), body=request(), query={"sync": "true"})),
                        lambda: history(call("createOrder", 201, order("Issued"), body=request(), query={"sync": "true"})),
                        lambda: history(call("createOrder", 201, order("Issued"), body=request(), query=SYNC))),
    "error_code_of_status": (lambda: run(history(error(404, code="generic_error", op="getOrder"))),
                             lambda: run(history(error(404, code="resource_not_found", op="getOrder"))),
                             lambda: run(history(created()))),
    "company_encodings_accepted": (
        lambda: _addressed("addresses.company-encodings: +", _sent("GET", 404, {"code": "resource_not_found", "message": "x"})),
        lambda: _addressed("addresses.company-encodings: +", _sent("GET", 200, order("Issued"))),
        lambda: _addressed("addresses.routes: PATCH", _sent("PATCH", 404, {}, ""))),
    "literal_segments_any_case": (
        lambda: _addressed("addresses.letter-case: ORDERS", _sent("GET", 404, {"code": "resource_not_found", "message": "x"},
                                                                  "listOrdersByPartner")),
        lambda: _addressed("addresses.letter-case: ORDERS", _sent("GET", 200, [], "listOrdersByPartner")),
        lambda: run()),
    "undeclared_routes_answered": (
        lambda: _addressed("addresses.routes: PATCH", _sent("PATCH", 405, {"code": "generic_error", "message": "x"}, "")),
        lambda: _addressed("addresses.routes: OPTIONS", _sent("OPTIONS", 400, {"code": "unsupported_http_method",
                                                                               "message": "Http method OPTIONS is not supported"}, "")),
        lambda: run()),
    "api_key_forms": (
        lambda: _addressed("addresses.api-key: the key as Authorization: Bearer", _sent("GET", 401, {"code": "unauthorized",
                                                                                                 "message": "x"})),
        lambda: _addressed("addresses.api-key: no key", _sent("GET", 401, {"code": "unauthorized", "message": "x"})),
        lambda: run()),
    "body_read_whatever_its_type": (
        lambda: run(history(call("createOrder", 415, {"code": "generic_error", "message": "x"}), content_type="text/plain")),
        lambda: run(history(created(), content_type="text/plain")), lambda: run(history(created()))),
    "body_size_limited": (
        lambda: _addressed("rejections.body-size: 1 MiB + 1", _sent("POST", 400, {"code": "generic_error", "message": "x"},
                                                                    "createOrder")),
        lambda: _addressed("rejections.body-size: 1 MiB + 1", _sent("POST", 413, {"code": "generic_error", "message": "x"},
                                                                    "createOrder")),
        lambda: run()),
    "reference_unique_per_partner": (
        lambda: run(history(error(400, op="createOrder", body=request()), same_reference=True)),
        lambda: run(history(created(), same_reference=True)), lambda: run(history(created()))),
    "list_queries_answered": (lambda: _refused_walk(404), lambda: _refused_walk(200),
                              lambda: _refused_walk(404, rule="listing.unknown-partner")),
    "list_more_pages_true": (lambda: listing_walked([listing_row(OID)], [], query={"pageSize": "1"}),
                             lambda: listing_walked([listing_row(OID)], [listing_row(UNKNOWN)], query={"pageSize": "1"}),
                             lambda: listing_walked([listing_row(OID)])),
    "list_next_page_given": (lambda: _paged_walk([listing_row(OID)]), lambda: _paged_walk([listing_row(UNKNOWN)]),
                             lambda: listing_walked([listing_row(OID)], query={"pageSize": "5"})),
    "list_in_flight": (lambda: listing_walked([listing_row(UNKNOWN)], rule="listing.in-flight"),
                       lambda: listing_walked([listing_row(OID)], rule="listing.in-flight"),
                       lambda: listing_walked([listing_row(OID)])),
    "list_combined_filters": (
        lambda: listing_walked([listing_row(OID, status="Draft")], query={"status": "Issued", "sellToOrderReference": "x"},
                               expected=(), rule="listing.combined"),
        lambda: listing_walked([], query={"status": "Draft", "sellToOrderReference": "OTACM-REF-1"}, expected=(),
                               rule="listing.combined"),
        lambda: listing_walked([listing_row(OID)])),
    "list_removed_absent": (lambda: _gone(_listed_at([row()])), lambda: _gone(_listed_at([row(orderId=UNKNOWN)])),
                            lambda: _gone()),
})


def context(subject: Any, level: str = "strict") -> CheckContext:
    evidence = subject if isinstance(subject, Evidence) else run(subject) if isinstance(subject, OrderHistory) \
        else run(history(created()))
    return CheckContext(level, VENUE, evidence, 70.0, STATE)


REGISTRY = Registry.collect()


def test_every_registered_check_has_cases() -> None:
    assert sorted(c.name for c in REGISTRY) == sorted(CASES)



def judged(name: str, build: Build) -> Any:
    """Run a check on what a builder made: a subject, or (subject, the run's evidence)."""
    made = build()
    subject, ctx = (made[0], CheckContext("strict", VENUE, made[1], 70.0, STATE)) if isinstance(made, tuple) \
        else (made, context(made))
    return REGISTRY.get(name)(ctx, subject)


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_fails_passes_and_skips(name: str) -> None:
    broken, correct, absent = CASES[name]
    found = judged(name, broken)
    assert found and not all(f.warning for f in found), f"{name} did not fail on its violation"
    assert judged(name, correct) == [], f"{name} did not pass on the correct case"
    if absent is not None:
        assert judged(name, absent) is None, f"{name} judged a subject without its situation"


def test_client_state_falls_back_on_what_the_receiver_found() -> None:
    found = Violation("webhook_conformance", "values[0].clientState: expected 'otacm-test'", "values[0].clientState")
    ctx = CheckContext("strict", VENUE, run(), 70.0, "")
    assert REGISTRY.get("webhook_client_state")(ctx, delivery(event(state="x"), violations=(found,)))
    assert REGISTRY.get("webhook_client_state")(ctx, delivery(event())) == []


def test_refusal_checks_leave_other_clients_orders_and_the_gateway_alone() -> None:
    """Evidence also holds Schemathesis' calls: an order it created is not unknown; 401/413 are not these rules."""
    fuzzed = call("createOrder", 201, order("Submitted", orderId=UNKNOWN))
    ctx = CheckContext("documented", VENUE, run(history(created()), exchanges=(fuzzed,)), 70.0, STATE)
    ctx.evidence.exchanges.append(call("getOrder", 200, order("Issued"), order_id=UNKNOWN))
    assert REGISTRY.get("unknown_order_not_found")(ctx, ctx.evidence) is None  # the fuzzer made it: not unknown
    unauthorized = call("createOrder", 401, "<html>no</html>", body=request() | {"items": []})
    assert REGISTRY.get("invalid_input_refused")(ctx, unauthorized) is None
    assert REGISTRY.get("error_body_flat")(ctx, unauthorized) is None
    assert REGISTRY.get("error_body_flat")(context(unauthorized, "strict"), unauthorized)


def test_input_rule_checks_judge_only_recorded_cases_and_their_error_code() -> None:
    """An invalid body nobody recorded is not judged (Schemathesis' bodies); a recorded one needs generic_error."""
    check = REGISTRY.get("line_fields_refused")
    unrecorded = run(exchanges=(call("createOrder", 201, order("Submitted"), body=request() | {"items": ["x"]}),))
    assert check(context(unrecorded), unrecorded) is None
    other_code = _rejected("rejections.line-fields: a case", error(400, code="resource_not_found", op="createOrder"))
    assert check(context(other_code), other_code)
    unauthorized = _rejected("rejections.line-fields: a case", call("createOrder", 401, "<html>no</html>"))
    assert check(context(unauthorized), unauthorized) is None


@pytest.mark.parametrize("statuses", [("Processing", "Issued"), ("Scheduled", "Issued")])
def test_one_intermediate_state_unseen_is_only_a_warning(statuses: tuple[str, ...]) -> None:
    """How pickup-to-settle splits between Scheduled and Processing is undocumented: a short one may fall between polls."""
    found = judged("shows_every_state", lambda: _closely(*statuses))
    assert found and all(f.warning for f in found)


def test_shell_counts_are_strict_only() -> None:
    """Doc 002 shows the Submitted answer without wallets: only CONTRACT.md (server) puts one shell per wallet."""
    check, shells = REGISTRY.get("wallet_counts"), history(created(wallets=0), body=request(quantity=2))
    assert check(context(shells, "documented"), shells) is None
    assert check(context(shells, "strict"), shells)


def test_line_order_and_in_flight_lines_are_strict_only() -> None:
    """The docs do not say the lines' order, nor show lines in flight: only CONTRACT.md (server) does."""
    check, sent, answered = REGISTRY.get("lines_echo_request"), request()["items"][0], _lined().response["items"][0]
    body = request() | {"items": [sent, dict(sent, itemNumber="31002")]}
    swapped = history(got("Issued", items=[dict(answered, itemNumber="31002", lineNo=200000), answered]), body=body)
    assert check(context(swapped, "documented"), swapped) == []
    assert check(context(swapped, "strict"), swapped)
    in_flight = history(_lined("Submitted", quantity=3))
    assert check(context(in_flight, "documented"), in_flight) is None
    assert check(context(in_flight, "strict"), in_flight)


def test_delivery_checks_are_skipped_without_deliveries() -> None:
    ctx = CheckContext("strict", VENUE, run(problem="subscription refused"), 70.0, STATE)
    outcomes = judge(REGISTRY.select(["webhooks"], "strict"), ctx)
    assert {o.verdict for o in outcomes} == {"skipped"}
    assert any("subscription refused" in m for o in outcomes for m in o.messages)


def test_every_rule_named_by_a_check_is_listed_and_asserted() -> None:
    rules = {rule.id: rule for rule in load_rules()}
    named = {rule for c in REGISTRY for rule in c.rules}
    assert named <= set(rules), named - set(rules)
    assert set(rules) <= named, set(rules) - named
    assert {r.level for r in rules.values()} <= {"documented", "strict"}
    for c in REGISTRY:
        assert c.level == "documented" or all(rules[r].level == "strict" for r in c.rules), c.name


def test_divergence_rows_name_checks_and_label_failures() -> None:
    rows = load_divergences()
    known = {c.name for c in REGISTRY}
    assert all(set(r["checks"]) <= known and {"case", "docs", "server", "matches"} <= set(r) for r in rows)
    label = known_divergence("duplicate_reference_refused",
                             ["createOrder repeating the sellToOrderReference of order x (an Error order): expected 400, "
                              "got 201"], rows)
    assert "production server is known" in label


def test_an_order_keeps_its_reference_in_every_answer() -> None:
    """buyFromOrderReference: the same in every answer, the Submitted one included."""
    check = REGISTRY.get("buy_from_reference_stable")
    for broken in (history(created(), got("Issued", buyFromOrderReference="CM-2")),
                   history(got("Submitted", "createOrder", buyFromOrderReference=""), ISSUED_GET())):
        assert check(context(broken, "documented"), broken)


def test_a_list_query_only_contract_md_describes_is_judged_at_strict_only() -> None:
    """A bound alone, pageSize, pageKey: CONTRACT.md's (server), so a refusal of such a query fails only at strict."""
    check, refused = REGISTRY.get("list_queries_answered"), _refused_walk(404, "strict")
    assert check(context(refused, "documented"), refused) is None
    assert check(context(refused, "strict"), refused)


def test_a_confirm_without_payment_on_issued_is_judged_at_strict_only() -> None:
    """On Issued the body is not read (CONTRACT.md, server): a refused body-less confirm is no documented failure."""
    refused = history(ISSUED_GET(), error(400, body={}))
    assert REGISTRY.get("confirm_on_issued_unchanged")(context(refused, "documented"), refused) is None
    assert REGISTRY.get("confirm_on_issued_reads_no_body").level == "strict"


def test_a_removed_order_is_no_cancelled_one() -> None:
    """After a delete removed a Draft, a second delete is judged as a call on a removed order (404), not on a
    Cancelled one (200)."""
    again = history(DRAFT_GET(), deleted(), error(404, op="getOrder"), error(404, "gone", "resource_not_found",
                                                                             op="deleteOrder"))
    assert REGISTRY.get("delete_cancelled_again")(context(again), again) is None
    assert REGISTRY.get("delete_removes_draft_or_error")(context(again), again) == []


def test_each_settle_is_announced_with_its_own_status() -> None:
    """As many events as settles is not enough: a replaced order's second event must say the second outcome."""
    made = history(created(), call("getOrder", 200, order("Error")), call("replaceOrder", 200, order("Submitted"),
                                                                          body=request()), ISSUED_GET())
    check = REGISTRY.get("webhook_once_per_settle")
    assert check(context(run(with_events(made, "Error", "Error"))), run(made))
    assert check(context(run(with_events(made, "Error", "Issued"))), run(made)) == []
