"""A request waiting for webhooks holds no thread the API needs (issue 21).

The README's `otacm webhooks listen --base-url ...` calls getOrder for every
event it receives. `otacm mock` runs the API on one thread; an advance with
`waitForWebhooks` used to hold that thread while it waited, so the
listener's getOrder waited too, the delivery timed out three times and the
listener printed BrokenPipeError tracebacks. The control API now runs on a
pool of its own (mockserver/front.py). This runs the README's commands, as
processes, on 127.0.0.1, each wait bounded.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import time

import pytest
import requests

from bench.apps import order_body
from bench.slow_clients import Mock, start_mock

pytestmark = pytest.mark.timeout(120)
ADVANCE_TIMEOUT = 20.0  # s; the mock's own wait is 30 s, a receiver's timeout 5 s (3 attempts: 15 s)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listen(mock: Mock, port: int) -> subprocess.Popen:
    """`otacm webhooks listen` exactly as the README prints it, with this mock's root and a free port."""
    return subprocess.Popen(
        [sys.executable, "-c", "from contracts.cli import main; main()", "webhooks", "listen", "--port", str(port),
         "--base-url", f"http://{mock.host}:{mock.port}", "--api-key", "otacm-sandbox-key", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _lines(process: subprocess.Popen, count: int, timeout: float) -> list[dict]:
    """`count` JSON lines from the listener's stdout, read with a deadline."""
    assert process.stdout is not None
    found: list[dict] = []
    buffered = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while len(found) < count:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise AssertionError(f"the listener printed {len(found)} of {count} deliveries: {buffered!r}")
            chunk = os.read(process.stdout.fileno(), 65536)
            assert chunk, "the listener exited"
            buffered += chunk
            *complete, buffered = buffered.split(b"\n")
            found += [json.loads(line) for line in complete if line.startswith(b"{")]
    return found


def _wait_listening(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)  # polling for the listener's socket, not waiting on the lifecycle
    raise AssertionError(f"otacm webhooks listen is not listening on {port}")


def test_an_advance_waiting_for_webhooks_lets_the_listener_call_get_order_back() -> None:
    mock = start_mock()  # `otacm mock` with its defaults: granian, one app thread
    port = _free_port()
    listener = _listen(mock, port)
    try:
        _wait_listening(port)
        api = requests.Session()
        api.headers["x-np-api-key"] = mock.api_key
        base = f"http://{mock.host}:{mock.port}{mock.base_path}"
        subscribed = api.post(f"{base}/webhook", json={"notificationUrl": f"http://127.0.0.1:{port}/",
                                                        "eventName": "ota_cm_order_processed"}, timeout=10)
        assert subscribed.status_code == 201, subscribed.text
        created = api.post(f"{base}/channelManager", json=order_body(mock.partner_id, "LISTEN-1"), timeout=10)
        assert created.status_code == 201, created.text

        began = time.monotonic()
        advanced = requests.post(f"http://{mock.host}:{mock.port}/_mock/clock/advance",
                                 json={"by": "2m", "waitForWebhooks": True}, timeout=ADVANCE_TIMEOUT)
        took = time.monotonic() - began
        assert advanced.status_code == 200 and advanced.json()["webhooksIdle"] is True, advanced.text
        assert took < 5.0, f"the advance waited {took:.1f} s: the receiver's getOrder was held up"

        [delivery] = _lines(listener, 1, timeout=10)
        assert delivery["answered"] == 200 and delivery["violations"] == [], delivery
        assert delivery["events"][0]["orderId"] == created.json()["orderId"]
    finally:
        listener.terminate()
        _, stderr = listener.communicate(timeout=10)
        mock.stop()
    assert b"Traceback" not in stderr, stderr.decode(errors="replace")
