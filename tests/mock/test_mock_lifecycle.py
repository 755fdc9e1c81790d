"""The lifecycle table of docs/000, row by row, through HTTP on the frozen clock."""

from __future__ import annotations

import pytest

from contracts.lifecycle import load_lifecycle
from mockclient import FROZEN_START, Api, line, order_body
from mockserver.sandbox.background import STUCK_IN_PROCESSING
from mockserver.server import MockServer, frozen_config

LIFECYCLE = load_lifecycle()


def test_submitted_is_picked_up_on_the_60_second_cadence(api: Api) -> None:
    order = api.create(order_body(api.mock.partner_id)).json()
    assert order["status"] == "Submitted"
    api.mock.clock.advance(29)  # clock 09:30:29: no pickup yet
    assert api.status(order["orderId"]) == "Submitted"
    api.mock.clock.advance(31)  # 09:31:00: the pickup
    assert api.status(order["orderId"]) == "Scheduled"


def test_scheduled_moves_to_processing_then_issued_with_payment(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    api.mock.clock.advance(62)  # picked up at 09:31:00, processing from 09:31:01
    assert api.status(order_id) == "Processing"
    api.mock.clock.advance(3)
    issued = api.get(order_id).json()
    assert issued["status"] == "Issued"
    assert issued["manifestUrl"] and issued["jobId"]
    assert api.history(order_id) == ["Submitted", "Scheduled", "Processing", "Issued"]


def test_settles_in_draft_without_payment_reference(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id, payment=None)).json()["orderId"]
    api.mock.clock.advance(120)
    draft = api.get(order_id).json()
    assert draft["status"] == "Draft"
    assert "manifestUrl" not in draft  # built on confirm
    assert draft["items"][0]["wallets"][0]["assets"], "Draft has minted tickets"


def test_issuance_failure_settles_in_error_with_reason(api: Api) -> None:
    body = order_body(api.mock.partner_id, items=[line(visit_time="23:00:00")])
    order_id = api.create(body).json()["orderId"]
    api.mock.clock.advance(120)
    failed = api.get(order_id).json()
    assert failed["status"] == "Error"
    assert "outside the admission slots" in failed["statusMessage"]


def test_scheduled_stall_is_recovered_to_submitted_after_5_minutes(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id), prefer="stall=Scheduled").json()["orderId"]
    api.mock.clock.advance(300)  # picked up at 09:31; at the 09:35 pickup still Scheduled
    assert api.status(order_id) == "Scheduled"
    api.mock.clock.advance(60)  # the pickup at 09:36 recovers it and picks it up again
    assert api.history(order_id)[:4] == ["Submitted", "Scheduled", "Submitted", "Scheduled"]
    api.mock.clock.advance(10)
    assert api.status(order_id) == "Issued"


def test_processing_stall_flips_to_error_after_1_hour(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id), prefer="stall=Processing").json()["orderId"]
    api.mock.clock.advance(3600)
    assert api.status(order_id) == "Processing"
    api.mock.clock.advance(3600)
    failed = api.get(order_id).json()
    assert failed["status"] == "Error"
    assert failed["statusMessage"] == STUCK_IN_PROCESSING


def test_draft_to_issued_via_confirm(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id, payment=None)).json()["orderId"]
    api.mock.clock.advance(120)
    confirmed = api.confirm(order_id, {"paymentReference": "pay-late"})
    assert confirmed.status_code == 200
    body = confirmed.json()
    assert body["status"] == "Issued" and body["paymentReference"] == "PAY-LATE"
    assert body["manifestUrl"]
    assert all(w["manifestUrl"] for w in body["items"][0]["wallets"])


@pytest.mark.parametrize("payment", ["PAY-1", None], ids=["Error", "Draft"])
def test_replace_from_draft_or_error_resubmits_and_destroys_old_wallets(api: Api, payment: str | None) -> None:
    prefer = "outcome=Error" if payment else None
    body = order_body(api.mock.partner_id, payment=payment)
    created = api.create(body, prefer=prefer).json()
    api.mock.clock.advance(120)
    before = api.get(created["orderId"]).json()
    assert before["status"] == ("Error" if payment else "Draft")
    old_wallets = {w["walletId"] for w in before["items"][0]["wallets"]}
    replaced = api.replace(created["orderId"], {**body, "paymentReference": "PAY-2"})
    assert replaced.status_code == 200
    resubmitted = replaced.json()
    assert resubmitted["status"] == "Submitted"
    assert all(not w["assets"] for w in resubmitted["items"][0]["wallets"])
    for kept in ("orderId", "buyFromOrderReference", "receivedAt"):
        assert resubmitted[kept] == created[kept]
    api.mock.clock.advance(120)
    after = api.get(created["orderId"]).json()
    assert after["status"] == "Issued"
    assert not old_wallets & {w["walletId"] for w in after["items"][0]["wallets"]}


def test_replace_clears_header_fields_absent_from_the_body(api: Api) -> None:
    body = order_body(api.mock.partner_id, payment=None, sellToEmail="a@example.com", sellToName="Ann")
    order_id = api.create(body).json()["orderId"]
    api.mock.clock.advance(120)
    del body["sellToEmail"]
    replaced = api.replace(order_id, body).json()
    assert replaced["sellToEmail"] == "" and replaced["sellToName"] == "Ann"


@pytest.mark.parametrize("outcome", ["Draft", "Error"])
def test_delete_draft_or_error_removes_the_order(api: Api, outcome: str) -> None:
    prefer = "outcome=Error" if outcome == "Error" else None
    order_id = api.create(order_body(api.mock.partner_id, payment=None), prefer=prefer).json()["orderId"]
    api.mock.clock.advance(120)
    assert api.status(order_id) == outcome
    deleted = api.delete(order_id)
    assert deleted.status_code == 200
    assert deleted.json()["status"] == "Cancelled" and deleted.json()["items"] == []
    assert api.get(order_id).status_code == 404
    assert api.delete(order_id).status_code == 404


def test_delete_issued_keeps_the_row_as_cancelled_and_is_idempotent(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    api.mock.clock.advance(120)
    first = api.delete(order_id)
    assert first.status_code == 200
    cancelled = api.get(order_id).json()
    assert cancelled["status"] == "Cancelled"
    assert cancelled["items"] == [] and cancelled["jobId"] == "" and "manifestUrl" not in cancelled
    again = api.delete(order_id)
    assert again.status_code == 200 and again.json()["status"] == "Cancelled"
    assert api.history(order_id)[-2:] == ["Cancelled", "Cancelled"]


def test_every_recorded_history_follows_the_spec_lifecycle(api: Api) -> None:
    """Whatever the mock does, it only ever moves along x-lifecycle."""
    ids = [
        api.create(order_body(api.mock.partner_id, payment=p), prefer=prefer).json()["orderId"]
        for p, prefer in [("P", None), (None, None), ("P", "outcome=Error"), ("P", "stall=Scheduled"),
                          ("P", "stall=Processing"), ("P", "delay=600")]
    ]
    api.mock.clock.advance(7200)
    for order_id in ids:
        history = api.history(order_id)
        assert not LIFECYCLE.illegal_steps(history), history
        assert history[-1] in LIFECYCLE.settled


def test_forced_delay_postpones_settling(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id), prefer="delay=600").json()["orderId"]
    api.mock.clock.advance(600)  # processing from 09:31:01, due 3 s + 600 s later
    assert api.status(order_id) == "Processing"
    api.mock.clock.advance(70)
    assert api.status(order_id) == "Issued"


def test_forced_error_carries_the_given_message(api: Api) -> None:
    order_id = api.create(order_body(api.mock.partner_id), prefer='outcome=Error; message="Slot closed"').json()["orderId"]
    api.mock.clock.advance(120)
    assert api.get(order_id).json()["statusMessage"] == "Slot closed"


def test_partner_directive_from_config_fails_every_order(api: Api) -> None:
    failing_partner = "e4f5a6b7-c8d9-4eaf-b0c1-d2e3f4a5b6c7"
    order_id = api.create(order_body(failing_partner)).json()["orderId"]
    api.mock.clock.advance(120)
    failed = api.get(order_id).json()
    assert failed["status"] == "Error" and "unavailable for this partner" in failed["statusMessage"]


def test_bad_prefer_directive_is_a_400_naming_it(api: Api) -> None:
    response = api.create(order_body(api.mock.partner_id), prefer="stall=Forever")
    assert response.status_code == 400
    assert "Prefer" in response.json()["message"] and "stall" in response.json()["message"]


def test_one_advance_settles_1000_orders() -> None:
    """1,000 orders, three kinds, one clock advance: each settles as expected.

    Response checking is off here: it is about scale, and every other test
    checks shapes."""
    with MockServer(frozen_config(clock_start=FROZEN_START)) as mock:
        _settle_1000(Api(mock))


def _settle_1000(api: Api) -> None:
    expected = {}
    for n in range(1000):
        kind = n % 3
        payment = None if kind == 1 else "PAY"
        prefer = "outcome=Error" if kind == 2 else None
        order = api.create(order_body(api.mock.partner_id, payment=payment), prefer=prefer)
        assert order.status_code == 201
        expected[order.json()["orderId"]] = ["Issued", "Draft", "Error"][kind]
    api.mock.clock.advance(3600)
    page = api.list(api.mock.partner_id).json()["data"]
    assert {o["orderId"]: o["status"] for o in page} == expected
