"""`--no-control` and `--pickup-seconds`: the mock as a real-time target that
looks like a real server (no `/_mock/`), settling within a short pickup."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
import requests

from contracts.cli import build_parser
from mockclient import Api, line, order_body
from mockserver.cli import mock_config
from mockserver.config import MockConfig
from mockserver.server import MockServer

CONTROL_PATHS = ["/_mock/clock", "/_mock/info", "/_mock/orders", "/_mock/webhooks/deliveries", "/_mock/ui", "/"]


@pytest.fixture
def real_time() -> MockServer:
    quick = MockConfig.load(scheduled_to_processing_seconds=0.1, processing_seconds=0.2)
    with MockServer(quick, control=False, pickup_seconds=0.2) as server:
        yield server


def test_flags_and_config_set_control_and_pickup() -> None:
    config = mock_config(build_parser().parse_args(["mock", "--no-control", "--pickup-seconds", "2.5"]))
    assert (config.control, config.pickup_seconds, config.clock_mode) == (False, 2.5, "real")
    assert (MockConfig.load().control, MockConfig.load().pickup_seconds) == (True, None)


@pytest.mark.parametrize("argv, message", [
    (["--no-control", "--clock", "frozen"], "real clock"),
    (["--pickup-seconds", "0"], "positive"),
    (["--pickup-seconds", "-1"], "positive"),
])
def test_bad_combinations_are_clear_errors(argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        mock_config(build_parser().parse_args(["mock", *argv]))


def test_config_file_sets_both(tmp_path) -> None:
    path = tmp_path / "sandbox.yaml"
    path.write_text("control: false\npickupSeconds: 2\n")
    config = MockConfig.load(path)
    assert (config.control, config.pickup_seconds) == (False, 2.0)
    path.write_text("pickupSeconds: soon\n")
    with pytest.raises(SystemExit, match="pickupSeconds"):
        MockConfig.load(path)


@pytest.mark.parametrize("path", CONTROL_PATHS)
def test_control_paths_answer_like_unknown_api_routes(real_time: MockServer, path: str) -> None:
    unknown = requests.get(real_time.url + "/no/such/route")
    hidden = requests.get(real_time.url + path)
    assert (hidden.status_code, hidden.json()) == (unknown.status_code, unknown.json()) == (401, hidden.json())
    keyed = {"x-np-api-key": real_time.api_key}
    unknown = requests.post(real_time.url + "/no/such/route", headers=keyed)
    hidden = requests.post(real_time.url + path, headers=keyed)
    assert (hidden.status_code, hidden.json()) == (unknown.status_code, unknown.json())
    assert hidden.status_code == 404 and set(hidden.json()) == {"code", "message"}


def test_a_frozen_config_without_control_still_runs_in_real_time() -> None:
    config = MockConfig.load(clock_mode="frozen")
    with MockServer(config, control=False) as server:
        assert not server.backend.clock.frozen


def test_short_pickup_settles_an_order_without_any_control_call(real_time: MockServer) -> None:
    """Real clock by design: poll getOrder with a deadline (pickup 0.2 s)."""
    api = Api(real_time)
    visit = (date.today() + timedelta(days=30)).isoformat()
    created = api.create(order_body(real_time.partner_id, items=[{**line(), "visitDate": visit}]))
    assert created.status_code == 201, created.text
    order_id, seen = created.json()["orderId"], []
    deadline = time.monotonic() + 10  # due after 0.2 + 0.1 + 0.2 s
    while time.monotonic() < deadline:
        status = api.get(order_id).json()["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in ("Issued", "Draft", "Error"):
            break
        time.sleep(0.05)
    assert seen[-1] == "Issued", seen


def test_banner_has_no_control_lines_without_control() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "from contracts.cli import main; main()", "mock", "--port", "0", "--no-control",
         "--pickup-seconds", "2", "--server", "waitress"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        while len(lines) < 15 and not lines[-1:] == [""]:  # up to the banner's server line (or its end)
            lines.append(process.stdout.readline())
            if lines[-1].startswith("  server"):
                break
    finally:
        process.terminate()
        process.wait(timeout=10)
    text = "".join(lines)
    assert "base URL" in text and "every 2 s" in text
    assert "/_mock/" not in text and "otacm clock" not in text
