"""The dashboard driven in headless Chromium (Debian's package; skipped with a
reason without it): the form creates an order, a button advances the frozen
clock, and the rendered DOM shows the timeline reach Issued and the webhook
delivery; a rejected createOrder is found in the Requests view and opened.
Waits poll the DOM with a deadline; the sandbox's time never runs.

Set OTACM_DASHBOARD_PNG=docs/dashboard.png to also write the README's screenshot.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Iterator

import pytest

from cdp import Browser, find_browser
from contracts.webhooks.receiver import WebhookReceiver
from mockclient import Api, line, order_body
from mockserver.server import MockServer

pytest.importorskip("websocket", reason="websocket-client (the test extra) drives chromium over CDP")
BINARY = find_browser()
pytestmark = pytest.mark.skipif(BINARY is None, reason="no chromium on PATH (apt-get install chromium)")


@pytest.fixture
def browser() -> Iterator[Browser]:
    assert BINARY is not None
    with Browser(BINARY) as opened:
        yield opened


def _text(selector: str) -> str:
    return f"(document.querySelector({selector!r}) || {{}}).textContent || ''"


def test_form_button_timeline_and_delivery_in_the_rendered_page(browser: Browser, api: Api) -> None:
    with WebhookReceiver() as receiver:
        hook = {"notificationUrl": receiver.url, "eventName": "ota_cm_order_processed", "clientState": "ui"}
        assert api.session.post(api.base + "/webhook", json=hook).status_code == 201
        browser.goto(api.mock.url + "/")
        browser.wait_for("document.body.dataset.ready === '1'")
        assert "frozen" in browser.evaluate(_text("#clock-state"))

        browser.evaluate("document.getElementById('try-submit').click()")
        message = browser.wait_for(f"({_text('#try-message')}).startsWith('created') && {_text('#try-message')}")
        order_id = message.split()[1]
        browser.wait_for(f"!!document.querySelector('tr.order-row[data-order-id=\"{order_id}\"]')")
        browser.wait_for(f"({_text('#detail-status')}) === 'Submitted'")

        browser.evaluate("document.querySelector('#detail details').open = true")  # the JSON, being read
        browser.evaluate("document.getElementById('advance-5m').click()")
        browser.wait_for("!!document.querySelector('#timeline li[data-status=\"Issued\"]')")
        timeline = browser.evaluate("[...document.querySelectorAll('#timeline li')].map(li => li.dataset.status)")
        assert timeline == ["Submitted", "Scheduled", "Processing", "Issued"]
        browser.wait_for("!!document.querySelector('#detail tr.delivery[data-outcome=\"delivered\"]')")
        browser.wait_for("!!document.querySelector('#webhooks tr.delivery[data-outcome=\"delivered\"]')")
        row = browser.evaluate(f"document.querySelector('tr.order-row[data-order-id=\"{order_id}\"]').textContent")
        assert "Issued" in row
        assert [e.status for e in receiver.events()] == ["Issued"]
        assert browser.evaluate("document.querySelector('#detail details').open") is True  # kept open

        png = browser.screenshot()
    assert_not_blank(png)
    target = os.environ.get("OTACM_DASHBOARD_PNG")
    if target:
        Path(target).write_bytes(png)


def test_forced_error_from_the_form(browser: Browser, api: Api) -> None:
    browser.goto(api.mock.url + "/_mock/ui")
    browser.wait_for("document.body.dataset.ready === '1'")
    browser.evaluate("""(() => { const s = document.querySelector('#try-order select[name=outcome]');
        s.selectedIndex = [...s.options].findIndex(o => o.value.startsWith('outcome=Error')); })()""")
    browser.evaluate("document.getElementById('try-submit').click()")
    browser.wait_for(f"({_text('#try-message')}).startsWith('created')")
    browser.evaluate("document.querySelector('[data-advance=\"1h\"]').click()")
    reason = browser.wait_for("(document.querySelector('#timeline li[data-status=\"Error\"] .reason') || {}).textContent")
    assert "Forced from the dashboard" in reason


def test_a_bad_custom_advance_shows_the_error(browser: Browser, mock: MockServer) -> None:
    browser.goto(mock.url + "/_mock/ui")
    browser.wait_for("document.body.dataset.ready === '1'")
    browser.evaluate("""(() => { const f = document.getElementById('advance-custom');
        f.elements.by.value = 'soon'; f.requestSubmit(); })()""")
    assert browser.wait_for(_text("#clock-message"))


def test_a_rejected_create_order_in_the_requests_view(browser: Browser, api: Api) -> None:
    """The request log seen from the dashboard: filter the Requests view to 4xx, open the rejected
    createOrder's row, and read the error message and the body the client sent."""
    assert api.create(order_body(api.mock.partner_id, reference="ACCEPTED-ONE")).status_code == 201
    rejected = api.create(order_body(api.mock.partner_id, reference="REJECTED-BY-CHROMIUM-7Q",
                                     items=[line("99999-NOT-IN-CATALOG")]))
    assert rejected.status_code == 400, rejected.text
    browser.goto(api.mock.url + "/_mock/ui")
    browser.wait_for("document.body.dataset.ready === '1'")
    assert browser.evaluate("document.querySelectorAll('#requests tr.request-row').length") == 2

    browser.evaluate("""(() => { const f = document.getElementById('requests-filters');
        f.elements.status.value = '4xx'; f.elements.operation.value = 'createOrder'; f.requestSubmit(); })()""")
    browser.wait_for("document.querySelectorAll('#requests tr.request-row').length === 1")
    row = "document.querySelector('#requests tr.request-row')"
    assert browser.evaluate(f"{row}.dataset.status") == "400"
    assert rejected.json()["code"] in browser.evaluate(f"{row}.textContent")

    browser.evaluate(f"{row}.querySelector('td').click()")
    message = browser.wait_for(_text("#exchange-message"))
    assert rejected.json()["message"] in message
    sent = browser.wait_for(_text("#exchange-request-body"))
    assert "REJECTED-BY-CHROMIUM-7Q" in sent and "99999-NOT-IN-CATALOG" in sent
    assert browser.evaluate(_text("#exchange-status")) == "400"
    assert browser.evaluate(f"{row}.classList.contains('selected')") is True


def assert_not_blank(png: bytes) -> None:
    """A real PNG of a real page: sized, and far from one flat colour."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width >= 800 and height >= 600, (width, height)
    chunks, offset = [], 8
    while offset < len(png):
        length, kind = struct.unpack(">I4s", png[offset:offset + 8])
        if kind == b"IDAT":
            chunks.append(png[offset + 8:offset + 8 + length])
        offset += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    assert len(set(pixels[::7])) > 40, "the screenshot is (nearly) one colour"
