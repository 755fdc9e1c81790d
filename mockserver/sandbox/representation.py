"""Orders as the API shows them: JSON dicts in the server's key order.

While an order is in flight (or in Error) each line shows one shell per
expected wallet; minted wallets replace the shells from Draft/Issued on.

Reads are served from JSON serialised once per version of an order
(`Representation.order_bytes`, `summary_bytes`): `Order.changed()` drops it
on every change. Call them under the backend lock, so a body is never built
from an order that a background settle is changing.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from contracts.spec import Spec
from mockserver.sandbox.clock import iso
from mockserver.sandbox.models import Asset, Order, OrderLine, Wallet

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


# The server's key orders (CONTRACT.md): the order's comes from the spec (`Representation`).
SUMMARY_KEYS = (
    "orderId", "partnerId", "sellToOrderReference", "buyFromOrderReference", "sellToEmail", "sellToName",
    "sellToLanguage", "paymentReference", "status", "statusMessage", "receivedAt", "jobId", "manifestUrl",
)


class Representation:
    """Orders in the key order of the spec the app was built with (read once, in `create_app`)."""

    def __init__(self, spec: Spec) -> None:
        self.order_keys = spec.key_order("OrderHeader")

    def order_json(self, order: Order) -> dict[str, Any]:
        """The full order; `manifestUrl` is left out while empty."""
        values = _header(order)
        values["items"] = [line_json(line) for line in order.lines]
        return {key: values[key] for key in self.order_keys if key != "manifestUrl" or order.manifest_url}

    def order_bytes(self, order: Order) -> bytes:
        """The full order as JSON bytes, built once per version of the order."""
        if order.rendered is None:
            order.rendered = _dumps(self.order_json(order))
        return order.rendered


def summary_bytes(order: Order) -> bytes:
    """One row of listOrdersByPartner as JSON bytes, built once per version."""
    if order.summary is None:
        order.summary = _dumps(summary_json(order))
    return order.summary


def page_bytes(orders: Iterable[Order], more: bool, next_key: str, next_url: str) -> bytes:
    """The list envelope around cached rows: only the envelope is serialised per request."""
    head = _dumps({"morePages": more, "nextPageKey": next_key, "nextPageURL": next_url})
    rows = [order.summary or summary_bytes(order) for order in orders]
    return head[:-1] + b', "data": [' + b", ".join(rows) + b"]}"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def summary_json(order: Order) -> dict[str, Any]:
    """The compact summary of listOrdersByPartner: no items, `manifestUrl` always."""
    values = _header(order)
    return {key: values[key] for key in SUMMARY_KEYS}


def _header(order: Order) -> dict[str, Any]:
    return {
        "orderId": order.order_id,
        "status": order.status,
        "statusMessage": order.status_message,
        "partnerId": order.partner_id,
        "sellToOrderReference": order.sell_to_order_reference,
        "buyFromOrderReference": order.buy_from_order_reference,
        "sellToEmail": order.sell_to_email,
        "sellToName": order.sell_to_name,
        "sellToLanguage": order.sell_to_language,
        "paymentReference": order.payment_reference,
        "receivedAt": iso(order.received_at),
        "jobId": order.job_id,
        "manifestUrl": order.manifest_url,
    }


def line_json(line: OrderLine) -> dict[str, Any]:
    body: dict[str, Any] = {
        "lineNo": line.line_no,
        "itemNumber": line.item_number,
        "description": line.description,
        "isPackage": line.is_package,
        "quantity": line.quantity,
        "visitDate": line.visit_date,
        "visitTime": line.visit_time,
        "sellToName": line.sell_to_name,
        "sellToEmail": line.sell_to_email,
        "sellToLanguage": line.sell_to_language,
    }
    if line.component_schedule:
        body["componentSchedule"] = [
            {"itemNumber": v.item_number, "visitDate": v.visit_date, "visitTime": v.visit_time}
            for v in line.component_schedule
        ]
    body["wallets"] = [wallet_json(w) for w in line.wallets] if line.wallets else shells_json(line)
    return body


def shells_json(line: OrderLine) -> list[dict[str, Any]]:
    return [
        {
            "seqNo": seq,
            "walletId": EMPTY_GUID,
            "walletReferenceNumber": "",
            "externalReferenceNumber": line.submitted_reference(seq),
            "name": line.submitted_name(seq),
            "issuedAt": "",
            "unitPriceExclVat": 0,
            "unitPriceInclVat": 0,
            "currencyCode": "",
            "assets": [],
        }
        for seq in range(1, line.expected_wallets + 1)
    ]


def wallet_json(wallet: Wallet) -> dict[str, Any]:
    body: dict[str, Any] = {
        "seqNo": wallet.seq_no,
        "walletId": wallet.wallet_id,
        "walletReferenceNumber": wallet.wallet_reference_number,
        "externalReferenceNumber": wallet.external_reference_number,
        "name": wallet.name,
        "issuedAt": wallet.issued_at,
        "unitPriceExclVat": wallet.unit_price_excl_vat,
        "unitPriceInclVat": wallet.unit_price_incl_vat,
        "currencyCode": wallet.currency_code,
    }
    if wallet.manifest_url:
        body["manifestUrl"] = wallet.manifest_url
    body["assets"] = [asset_json(a) for a in wallet.assets]
    return body


def asset_json(asset: Asset) -> dict[str, Any]:
    return {
        "id": asset.id,
        "type": asset.type,
        "assetId": asset.asset_id,
        "referenceNumber": asset.reference_number,
        "itemNumber": asset.item_number,
        "description": asset.description,
    }
