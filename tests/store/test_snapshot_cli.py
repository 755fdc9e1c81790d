"""`otacm sandbox export FILE` / `otacm sandbox import FILE [--replace]` against sandboxes serving over HTTP.

As the README documents them: `--url`, `--token` or $OTACM_CONTROL_TOKEN, `-`
for stdout and stdin, every error one line on stderr and exit status 2.
"""

from __future__ import annotations

import io
import json
import socket
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests

from contracts.cli import main
from mockserver.server import MockServer, frozen_config
from store_engines import durable_url, store, store_url  # noqa: F401, F811 (pytest fixtures)
from store_sandbox import START


@pytest.fixture
def serving() -> Iterator[Callable[..., MockServer]]:
    """Mocks on a frozen clock, serving on free ports, stopped at the end."""
    servers: list[MockServer] = []

    def start(url: str = "memory", **overrides: object) -> MockServer:
        servers.append(MockServer(frozen_config(clock_start=START, store=url, **overrides)).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def create(server: MockServer, reference: str, payment: str | None = "PAY-1") -> str:
    body = {"partnerId": server.partner_id, "sellToOrderReference": reference,
            "items": [{"itemNumber": "31001", "visitDate": "2026-06-01", "visitTime": "10:30:00", "quantity": 1}],
            **({"paymentReference": payment} if payment else {})}
    answer = requests.post(f"{server.base_url}/channelManager", json=body, headers={"x-np-api-key": server.api_key},
                           timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["orderId"]


def shown(server: MockServer, order_id: str) -> tuple[int, bytes]:
    answer = requests.get(f"{server.base_url}/channelManager/{order_id}", headers={"x-np-api-key": server.api_key},
                          timeout=10)
    return answer.status_code, answer.content


def with_orders(serving: Callable[..., MockServer]) -> tuple[MockServer, list[str]]:
    """A sandbox with an Issued, a Draft and a Submitted order."""
    source = serving()
    ids = [create(source, "PAID"), create(source, "UNPAID", payment=None)]
    source.clock.advance(70)
    ids.append(create(source, "NEW"))
    return source, ids


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    """What the command wrote to stderr, which must be one line."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_export_then_import_into_a_fresh_sandbox(store_url: str, serving: Callable[..., MockServer], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    source, ids = with_orders(serving)
    file = tmp_path / "bug.json"
    assert main(["sandbox", "export", str(file), "--url", source.url]) == 0
    assert capsys.readouterr().out == (f"exported 3 order(s), 1 pending step(s), 0 webhook record(s); "
                                       f"clock frozen at 2026-05-15T09:31:10Z (to {file})\n")
    target = serving(store_url)
    assert main(["sandbox", "--url", target.url, "import", str(file)]) == 0  # options before or after the action
    assert capsys.readouterr().out == (f"imported 3 order(s), 1 pending step(s), 0 webhook record(s) from {file}; "
                                       "clock frozen at 2026-05-15T09:31:10Z\n")
    assert [shown(target, order_id) for order_id in ids] == [shown(source, order_id) for order_id in ids]
    assert json.loads(file.read_text())["format"] == "otacm-sandbox-snapshot"


def test_import_into_a_sandbox_holding_state_needs_replace(serving: Callable[..., MockServer], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    source, ids = with_orders(serving)
    file = tmp_path / "bug.json"
    assert main(["sandbox", "export", str(file), "--url", source.url]) == 0
    target = serving()
    own = create(target, "MINE")
    capsys.readouterr()
    assert main(["sandbox", "import", str(file), "--url", target.url]) == 2
    error = one_line(capsys)
    assert error.startswith("otacm sandbox import: this sandbox is not empty (1 order(s)") and "--replace" in error
    assert shown(target, own)[0] == 200
    assert main(["sandbox", "import", str(file), "--replace", "--url", target.url]) == 0
    assert shown(target, own)[0] == 404 and shown(target, ids[0]) == shown(source, ids[0])


def test_dash_is_stdout_and_stdin(serving: Callable[..., MockServer], capsysbinary: pytest.CaptureFixture[bytes],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    source, ids = with_orders(serving)
    assert main(["sandbox", "export", "-", "--url", source.url]) == 0
    captured = capsysbinary.readouterr()
    assert json.loads(captured.out)["orders"][0]["order_id"] == ids[0]
    assert captured.err.startswith(b"exported 3 order(s)") and captured.err.endswith(b"(to stdout)\n")
    target = serving()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(captured.out)))
    assert main(["sandbox", "import", "-", "--url", target.url]) == 0
    assert b"from stdin" in capsysbinary.readouterr().out
    assert shown(target, ids[2]) == shown(source, ids[2])


def test_errors_are_one_line_and_exit_2(serving: Callable[..., MockServer], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    target = serving()
    nowhere = f"http://127.0.0.1:{free_port()}"
    assert main(["sandbox", "export", str(tmp_path / "x.json"), "--url", nowhere]) == 2
    assert one_line(capsys).startswith(f"otacm sandbox export: cannot reach a sandbox at {nowhere}")
    assert main(["sandbox", "export", str(tmp_path / "no" / "x.json"), "--url", target.url]) == 2
    assert one_line(capsys).startswith(f"otacm sandbox export: cannot write {tmp_path / 'no' / 'x.json'}")
    assert main(["sandbox", "import", str(tmp_path / "missing.json"), "--url", target.url]) == 2
    assert one_line(capsys) == f"otacm sandbox import: {tmp_path / 'missing.json'}: no such file\n"
    for content in ("not json at all", json.dumps({"orders": []})):
        (tmp_path / "other.json").write_text(content)
        assert main(["sandbox", "import", str(tmp_path / "other.json"), "--url", target.url]) == 2
        assert one_line(capsys).startswith(f"otacm sandbox import: {tmp_path / 'other.json'} is not an otacm "
                                           "sandbox snapshot")
    without_control = serving(control=False)
    assert main(["sandbox", "export", str(tmp_path / "x.json"), "--url", without_control.url]) == 2
    assert "is it an otacm mock with its control API on" in one_line(capsys)
    newer = {"format": "otacm-sandbox-snapshot", "version": 99}
    (tmp_path / "newer.json").write_text(json.dumps(newer))
    assert main(["sandbox", "import", str(tmp_path / "newer.json"), "--url", target.url]) == 2
    assert "written by a newer otacm" in one_line(capsys)
    assert main(["sandbox", "import", str(tmp_path / "newer.json"), "--url", nowhere]) == 2
    assert one_line(capsys).startswith("otacm sandbox import: cannot reach a sandbox")


def test_the_control_token_from_the_option_or_the_environment(serving: Callable[..., MockServer], tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    guarded = serving(control_token="s3cret")
    file = str(tmp_path / "snapshot.json")
    monkeypatch.delenv("OTACM_CONTROL_TOKEN", raising=False)
    assert main(["sandbox", "export", file, "--url", guarded.url]) == 2
    assert "control token" in one_line(capsys)
    assert main(["sandbox", "export", file, "--url", guarded.url, "--token", "s3cret"]) == 0
    monkeypatch.setenv("OTACM_CONTROL_TOKEN", "s3cret")
    assert main(["sandbox", "import", file, "--replace", "--url", guarded.url]) == 0
