"""A sandbox over Flask's test client (no server thread, so freezegun holds), reopened on a store by the store tests."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from mockclient import order_body
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.sandbox.clock import parse_instant

START = parse_instant("2026-05-15T09:30:00Z")
KEY = {"x-np-api-key": "otacm-sandbox-key"}


class Sandbox:
    """One sandbox over HTTP (Flask's test client: no server thread, so freezegun holds)."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.app: Flask = create_app(config)
        self.client: FlaskClient = self.app.test_client()
        self.base = f"/{config.tenant}/{config.environment}/{config.company.replace(' ', '%20')}/channelManager"

    @property
    def backend(self) -> Any:
        return self.app.extensions["otacm"].backend

    def create(self, reference: str, prefer: str | None = None) -> str:
        paid = "PAY-1" if reference != "UNPAID" and reference != "REMOVED" else None
        headers = {**KEY, **({"Prefer": prefer} if prefer else {})}
        answer = self.client.post(self.base, json=order_body(self.config.default_partner_id, reference, payment=paid),
                                  headers=headers)
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return answer.get_json()["orderId"]

    def get(self, order_id: str) -> tuple[int, bytes]:
        answer = self.client.get(f"{self.base}/{order_id}", headers=KEY)
        return answer.status_code, answer.get_data()

    def delete(self, order_id: str) -> None:
        assert self.client.delete(f"{self.base}/{order_id}", headers=KEY).status_code == 200

    def listing(self) -> bytes:
        return self.client.get(f"{self.base}/orders/{self.config.default_partner_id}", headers=KEY).get_data()

    def timelines(self) -> dict[str, list[tuple[str, float, str]]]:
        """reference → [(status, at, trigger)] for every order the store holds."""
        return {o.sell_to_order_reference: [(c.status, c.at, c.trigger) for c in o.history]
                for o in self.backend.orders()}

    def close(self) -> None:
        self.app.extensions["otacm"].webhooks.stop()
        self.backend.store.close()
