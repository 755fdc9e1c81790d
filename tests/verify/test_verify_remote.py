"""`otacm verify` against a target that is not on this machine's loopback, and a run that cleans up after itself.

The remote case: the receiver listens on another interface and port
(127.0.0.2:<fixed>), the target is told to call a public URL (a TCP forwarder
on 127.0.0.1, as a tunnel would be), and the webhook checks must pass — not be
skipped — with every POST going through the forwarder.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from realtime_targets import realtime_mock, verify_argv

from contracts.cli import build_parser, main
from contracts.cli.verify import _options
from contracts.reports import summary_text
from contracts.target.cleanup import DELETABLE
from contracts.verify.run import verify
from contracts.webhooks.router import free_port
from mockserver.server import MockServer, frozen_config

SMALL = ("--phases", "examples", "--max-examples", "2", "--seed", "5", "--quiet")


class Forwarder:
    """A TCP forwarder on 127.0.0.1 to (host, port): what a tunnel does; counts the POSTs it carried."""

    def __init__(self, host: str, port: int) -> None:
        self.to = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.posts = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            upstream = socket.create_connection(self.to, timeout=10)
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, inbound: bool) -> None:
        with contextlib.suppress(OSError):
            source.settimeout(30)
            while data := source.recv(65536):
                if inbound:
                    with self.lock:
                        self.posts += data.count(b"POST /")
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()


@contextlib.contextmanager
def forwarder(host: str, port: int) -> Iterator[Forwarder]:
    tunnel = Forwarder(host, port)
    try:
        yield tunnel
    finally:
        tunnel.close()


def run_verify(argv: list[str]) -> Any:
    """verify() with the options the CLI builds from `argv` (the report, not only the exit code)."""
    args = build_parser().parse_args(argv)
    with open("/dev/null", "w", encoding="utf-8") as out:
        return verify(_options(args, out))


def test_webhooks_verified_through_a_tunnel_to_another_interface_and_port() -> None:
    port = free_port("127.0.0.2")
    with realtime_mock() as server, forwarder("127.0.0.2", port) as tunnel:
        report = run_verify(verify_argv(server, "--checks", "webhooks,scenarios", "-k", "webhook-on-issued",
                                        "--webhook-host", "127.0.0.2", "--webhook-port", str(port),
                                        "--webhook-url", f"http://127.0.0.1:{tunnel.port}/"))
        attempts = server.webhooks.dispatcher.deliveries()
    webhooks = [o for o in report.outcomes if o.family in ("webhooks", "scenarios")]
    assert len(webhooks) > 1 and not [o for o in webhooks if o.verdict != "passed"], summary_text(report)
    public = f"http://127.0.0.1:{tunnel.port}/"
    assert {a["endpoint"] for a in attempts} == {public + "probe/", public + "scenarios/"}  # one tunnel, two receivers
    assert {a["outcome"] for a in attempts} == {"delivered"}, attempts
    assert tunnel.posts == len(attempts), f"the forwarder carried {tunnel.posts} of {len(attempts)} POST(s)"
    assert not any(note.startswith("webhooks NOT verified") for note in report.notes), report.notes


def test_a_refused_subscription_skips_the_webhook_checks_and_says_so() -> None:
    """A notificationUrl the target refuses (not a URL): the webhook checks are skipped, the summary says why."""
    with realtime_mock() as server:
        report = run_verify(verify_argv(server, "--checks", "webhooks", "--no-scenarios", "--webhook-url", "nowhere"))
    webhooks = [o for o in report.outcomes if o.family == "webhooks"]
    assert webhooks and all(o.verdict == "skipped" for o in webhooks), summary_text(report)
    text = summary_text(report)
    line = next(line for line in text.splitlines() if line.startswith("webhooks NOT verified"))
    assert "refused" in line and "--webhook-url" in line, line


def test_no_webhooks_says_the_webhook_half_was_not_verified(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--no-webhooks", "--no-scenarios", "--checks", "webhooks", *SMALL]) == 0
    out = capsys.readouterr().out
    assert "webhooks NOT verified: --no-webhooks turned the webhook receiver off" in out, out


def _rows(server: MockServer) -> list[dict[str, Any]]:
    """Every row of the partner's list, page after page."""
    rows: list[dict[str, Any]] = []
    query: dict[str, str] = {"pageSize": "100"}
    url = f"{server.base_url}/channelManager/orders/{server.partner_id}"
    for _ in range(100):
        page = requests.get(url, params=query, headers={"x-np-api-key": server.api_key}, timeout=10).json()
        rows += page["data"]
        if not page.get("morePages"):
            return rows
        query = {"pageSize": "100", "pageKey": page["nextPageKey"]}
    raise AssertionError("the list did not end within 100 pages")


@pytest.fixture
def warped_mock() -> Iterator[MockServer]:
    with MockServer(frozen_config()) as server:
        yield server


def test_verify_deletes_the_settled_orders_it_made(warped_mock: MockServer,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify", "--base-url", warped_mock.base_url, "-k", "webhook-on-issued", *SMALL])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = _rows(warped_mock)
    assert rows, "the Issued orders stay as Cancelled rows"
    assert not [r for r in rows if r["status"] in DELETABLE], [(r["orderId"], r["status"]) for r in rows]
    assert "cleanup: deleted" in out, out


def test_keep_orders_keeps_them(warped_mock: MockServer, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify", "--base-url", warped_mock.base_url, "--no-scenarios", "--keep-orders", *SMALL])
    out = capsys.readouterr().out
    assert code == 0, out
    assert {"Issued", "Draft"} <= {r["status"] for r in _rows(warped_mock)}
    assert "--keep-orders kept the run's" in out, out


def test_scenarios_run_deletes_its_settled_orders(warped_mock: MockServer, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scenarios", "run", "--base-url", warped_mock.base_url, "-k", "confirm", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = _rows(warped_mock)
    assert rows and not [r for r in rows if r["status"] in DELETABLE], [(r["orderId"], r["status"]) for r in rows]
    assert "cleanup: deleted" in out, out


@pytest.mark.parametrize(("text", "seconds"), [("10", 10.0), ("2.5", 2.5), ("500ms", 0.5), ("10s", 10.0),
                                               ("2m", 120.0), ("1h30m", 5400.0)])
def test_both_commands_take_durations_with_units(text: str, seconds: float) -> None:
    parser = build_parser()
    for argv in (["verify", "--poll-interval", text, "--quiet-window", text],
                 ["scenarios", "run", "--poll-interval", text, "--quiet-window", text]):
        args = parser.parse_args(argv)
        assert (args.poll_interval, args.quiet_window) == (seconds, seconds)


def test_both_commands_share_the_scenario_filter_and_the_other_partner() -> None:
    parser = build_parser()
    for command in (["verify"], ["scenarios", "run"]):
        for spelling in ("-k", "--name", "--scenario"):
            args = parser.parse_args([*command, spelling, "paid", "--other-partner-id", "P", "--other-api-key", "K"])
            assert (args.name, args.other_partner_id, args.other_api_key) == ("paid", "P", "K")


def test_the_readme_ci_job_uses_flags_verify_has() -> None:
    """The GitHub Actions job in the README parses as `otacm verify` options (values as placeholders)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    job = re.search(r"### In CI \(GitHub Actions\).*?```yaml\n(.*?)```", readme, re.DOTALL)
    assert job, "the README's CI section has a yaml job"
    command = re.search(r"run: >\n((?:\s+.*\n)+?)\s+- uses", job.group(1))
    assert command and "if: always()" in job.group(1) and "upload-artifact" in job.group(1)
    argv = shlex.split(" ".join(line.strip() for line in command.group(1).splitlines()))
    assert argv[:2] == ["otacm", "verify"]
    args = build_parser().parse_args(argv[1:])
    assert (args.webhook_host, args.webhook_port, args.markdown) == ("0.0.0.0", 8765, "$GITHUB_STEP_SUMMARY")


def test_cleanup_deletes_settled_orders_and_leaves_those_in_flight(mock: MockServer) -> None:
    """Issued → a Cancelled row, Draft → removed, Submitted → left (it cannot be deleted), an unknown id → gone."""
    from mockclient import Api, order_body

    from contracts.target import TargetOptions, open_target
    from contracts.target.cleanup import Created, clean_up

    api = Api(mock)
    issued, draft = (api.create(order_body(mock.partner_id, payment=p)).json()["orderId"] for p in ("PAY-1", None))
    mock.clock.advance(600)
    in_flight = api.create(order_body(mock.partner_id)).json()["orderId"]
    created = Created(orders=[issued, draft, in_flight, "00000000-0000-0000-0000-000000000000"])
    with open_target(TargetOptions(mock.base_url)) as target:
        result = clean_up(target, created)
    assert (result.deleted, result.gone, result.left) == ([issued, draft], ["00000000-0000-0000-0000-000000000000"],
                                                          {"in flight (Submitted)": [in_flight]})
    assert [api.status(issued), api.get(draft).status_code, api.status(in_flight)] == ["Cancelled", 404, "Submitted"]
    assert result.summary() == ("cleanup: deleted 2 order(s) (Issued ones stay as Cancelled rows); 1 already deleted; "
                                "left 1: 1 in flight (Submitted)")
    with open_target(TargetOptions(mock.base_url)) as target:
        assert clean_up(target, Created(orders=[in_flight]), keep=True).summary() == \
            "cleanup: --keep-orders kept the run's 1 order(s)"
