"""The synchronous legacy API (docs/003): `?sync=1` and `--api-mode sync`."""

from __future__ import annotations

from typing import Iterator

import pytest

from mockclient import FROZEN_START, Api, line, order_body
from mockserver.server import MockServer, frozen_config


def test_sync_create_with_payment_returns_the_issued_order(api: Api) -> None:
    response = api.create(order_body(api.mock.partner_id), sync=True)
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "Issued" and order["manifestUrl"]
    assert order["items"][0]["wallets"][0]["assets"]
    assert api.history(order["orderId"]) == ["Submitted", "Issued"]


def test_sync_create_without_payment_returns_draft(api: Api) -> None:
    order = api.create(order_body(api.mock.partner_id, payment=None), sync=True).json()
    assert order["status"] == "Draft"


def test_sync_failure_is_400_and_the_order_rests_in_error(api: Api) -> None:
    body = order_body(api.mock.partner_id, reference="sync-fail", items=[line(visit_time="23:00:00")])
    response = api.create(body, sync=True)
    assert response.status_code == 400
    assert "outside the admission slots" in response.json()["message"]
    (summary,) = api.list(api.mock.partner_id, sellToOrderReference="sync-fail").json()["data"]
    assert summary["status"] == "Error" and summary["statusMessage"] == response.json()["message"]
    fixed = {**body, "items": [line()]}
    replaced = api.replace(summary["orderId"], fixed, sync=True)
    assert replaced.status_code == 200 and replaced.json()["status"] == "Issued"


def test_sync_true_spelling_is_accepted(api: Api) -> None:
    response = api.session.post(api.base + "/channelManager", json=order_body(api.mock.partner_id),
                                params={"sync": "true"})
    assert response.json()["status"] == "Issued"


@pytest.fixture
def sync_api() -> Iterator[Api]:
    config = frozen_config(clock_start=FROZEN_START, api_mode="sync", validate_responses=True)
    with MockServer(config) as server:
        yield Api(server)


def test_sync_api_mode_issues_every_create_and_replace_in_the_call(sync_api: Api) -> None:
    body = order_body(sync_api.mock.partner_id, payment=None)
    draft = sync_api.create(body).json()
    assert draft["status"] == "Draft"
    replaced = sync_api.replace(draft["orderId"], {**body, "paymentReference": "PAY"}).json()
    assert replaced["status"] == "Issued"
    assert sync_api.mock.backend.schedule.pending() == []  # nothing left for the background
