"""The control API, the clock, the pytest fixture, the CLI and the response self-check."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from freezegun import freeze_time

from contracts.cli import build_parser
from mockclient import Api, order_body
from mockserver.cli import mock_config
from mockserver.config import MockConfig
from mockserver.sandbox.clock import (
    ClockError,
    WarpClock,
    iso,
    parse_duration,
    parse_instant,
)
from mockserver.sandbox.representation import Representation
from mockserver.sandbox.schedule import Schedule
from mockserver.server import MockServer, frozen_config


# -- the clock and the schedule ------------------------------------------------------
def test_real_clock_follows_time_and_warps_by_offset() -> None:
    with freeze_time("2026-05-15T09:30:00Z") as frozen:
        clock = WarpClock()
        assert iso(clock.now()) == "2026-05-15T09:30:00Z"
        frozen.tick(10)
        assert iso(clock.now()) == "2026-05-15T09:30:10Z"
        clock.advance(3600)
        frozen.tick(5)
        assert iso(clock.now()) == "2026-05-15T10:30:15Z"


def test_frozen_clock_moves_only_when_told_and_never_backwards() -> None:
    with freeze_time("2026-05-15T09:30:00Z") as frozen:
        clock = WarpClock(frozen=True)
        frozen.tick(60)
        assert iso(clock.now()) == "2026-05-15T09:30:00Z"
        clock.jump(parse_instant("2026-05-16T00:00:00Z"))
        assert iso(clock.now()) == "2026-05-16T00:00:00Z"
        with pytest.raises(ClockError):
            clock.jump(parse_instant("2026-05-15T00:00:00Z"))
        with pytest.raises(ClockError):
            clock.advance(-1)
        clock.resume()
        frozen.tick(7)
        assert iso(clock.now()) == "2026-05-16T00:00:07Z"


def test_schedule_runs_due_events_in_time_order_including_ones_they_add() -> None:
    schedule, ran = Schedule(), []
    schedule.at(30, "b", lambda at: ran.append(("b", at)))
    schedule.at(10, "a", lambda at: (ran.append(("a", at)), schedule.at(at + 5, "a2", lambda t: ran.append(("a2", t)))))
    schedule.at(99, "late", lambda at: ran.append(("late", at)))
    assert schedule.run_until(40) == 3
    assert ran == [("a", 10), ("a2", 15), ("b", 30)]
    assert schedule.next_due() == 99


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("5m", 300), ("2h", 7200), ("1d", 86400), ("1h30m", 5400)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["2x", "h", "1h30", ""])
def test_parse_duration_rejects_nonsense_with_a_hint(text: str) -> None:
    with pytest.raises(ValueError, match="e.g.|no unit"):
        parse_duration(text) if text else parse_duration("m")


# -- the control API ---------------------------------------------------------------
def test_control_api_advances_jumps_and_reports_the_clock(api: Api) -> None:
    control = api.mock.url + "/_mock"
    assert requests.get(control + "/clock").json()["now"] == "2026-05-15T09:30:00Z"
    order_id = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    assert requests.get(control + "/clock").json()["nextDue"] == "2026-05-15T09:31:00Z"
    advanced = requests.post(control + "/clock/advance", json={"by": "2h"}).json()
    assert advanced["now"] == "2026-05-15T11:30:00Z" and advanced["pendingEvents"] == 0
    assert api.status(order_id) == "Issued"
    jumped = requests.post(control + "/clock/jump", json={"to": "2026-05-20T00:00:00Z"}).json()
    assert jumped["now"] == "2026-05-20T00:00:00Z"
    back = requests.post(control + "/clock/jump", json={"to": "2026-05-01T00:00:00Z"})
    assert back.status_code == 400 and "cannot jump back" in back.json()["message"]
    bad = requests.post(control + "/clock/advance", json={"by": "soon"})
    assert bad.status_code == 400 and "duration" in bad.json()["message"]


def test_control_api_lists_history_and_resets_one_partner(api: Api) -> None:
    other = "7b3f9a10-5c2d-4e8f-a1b6-c4d5e6f70812"
    mine = api.create(order_body(api.mock.partner_id)).json()["orderId"]
    theirs = api.create(order_body(other)).json()["orderId"]
    api.mock.clock.advance(120)
    orders = {o["orderId"]: o for o in requests.get(api.mock.url + "/_mock/orders").json()["orders"]}
    history = orders[mine]["history"]
    assert [(h["status"], h["at"], h["trigger"]) for h in history] == [
        ("Submitted", "2026-05-15T09:30:00Z", "createOrder"),
        ("Scheduled", "2026-05-15T09:31:00Z", "pickup"),
        ("Processing", "2026-05-15T09:31:01Z", "processingStarted"),
        ("Issued", "2026-05-15T09:31:04Z", "issuanceCompleted"),
    ]
    assert requests.post(api.mock.url + "/_mock/reset", json={"partnerId": other}).json() == {"removedOrders": 1}
    assert api.get(theirs).status_code == 404 and api.get(mine).status_code == 200
    assert requests.post(api.mock.url + "/_mock/reset").json() == {"removedOrders": 1}
    assert api.get(mine).status_code == 404


def test_info_tells_a_client_how_to_connect(api: Api) -> None:
    info = requests.get(api.mock.url + "/_mock/info").json()
    assert info["apiKey"] == api.mock.api_key and info["partnerId"] == api.mock.partner_id
    assert info["clock"]["frozen"] is True


# -- the test mode ---------------------------------------------------------------------
def test_validate_responses_turns_a_nonconforming_answer_into_a_loud_500(api: Api, monkeypatch) -> None:
    original = Representation.order_json
    monkeypatch.setattr(Representation, "order_json", lambda self, order: {**original(self, order), "status": "Lost"})
    response = api.create(order_body(api.mock.partner_id))
    assert response.status_code == 500
    assert "createOrder 201 response violates the spec" in response.json()["message"]


# -- the pytest plugin (as a partner uses it) ---------------------------------------------
@pytest.mark.otacm_mock(clock_start="2026-05-15T09:30:00Z")
def test_otacm_mock_fixture_gives_a_running_frozen_mock(otacm_mock: MockServer) -> None:
    session = requests.Session()
    session.headers["x-np-api-key"] = otacm_mock.api_key
    body = order_body(otacm_mock.partner_id)
    order = session.post(otacm_mock.base_url + "/channelManager", json=body).json()
    otacm_mock.clock.advance(120)
    assert session.get(f"{otacm_mock.base_url}/channelManager/{order['orderId']}").json()["status"] == "Issued"


@pytest.mark.otacm_mock(clock_start="2026-05-15T09:30:00Z")
def test_the_fixture_clock_takes_the_cli_durations_and_instants(otacm_mock: MockServer) -> None:
    """`otacm clock advance 2m` and `/_mock/clock` take durations; so does the fixture (issue 21)."""
    start = parse_instant("2026-05-15T09:30:00Z")
    assert otacm_mock.clock.advance("2m") == start + 120
    assert otacm_mock.clock.advance("1h30m") == start + 120 + 5400
    assert otacm_mock.clock.advance(30) == start + 5550
    assert otacm_mock.clock.jump("2026-05-16T00:00:00Z") == parse_instant("2026-05-16T00:00:00Z")
    assert otacm_mock.clock.jump(parse_instant("2026-05-17T00:00:00Z")) == parse_instant("2026-05-17T00:00:00Z")
    with pytest.raises(ValueError, match="not a duration: 'two minutes'"):
        otacm_mock.clock.advance("two minutes")


def test_the_fixture_clock_starts_frozen_at_the_real_time_without_clock_start(otacm_mock: MockServer) -> None:
    """What the README says: today's date, so a fixed visitDate goes stale as the calendar moves."""
    before = otacm_mock.clock.now()
    assert abs(before - time.time()) < 60
    assert otacm_mock.backend.clock.frozen and otacm_mock.clock.now() == before


def test_plugin_is_registered_through_the_entry_point() -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "--markers"], capture_output=True, text=True, timeout=120)
    assert "otacm_mock(**options)" in result.stdout


# -- the CLI -------------------------------------------------------------------------------
def test_mock_help_explains_every_flag(capsys) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["mock", "--help"])
    text = capsys.readouterr().out
    for flag in ("--port", "--config", "--api-mode", "--clock", "--clock-start", "--api-key", "--partner-id",
                 "--processing-seconds", "--scheduled-seconds", "--threads", "--validate-responses",
                 "--no-control", "--pickup-seconds", "--control-token"):
        assert flag in text
    assert "8080" in text


def test_mock_flags_override_the_config() -> None:
    args = build_parser().parse_args(["mock", "--api-mode", "sync", "--clock", "frozen", "--clock-start",
                                      "2026-06-01T08:00:00Z", "--api-key", "k2", "--partner-id",
                                      "ABCDEF01-2345-4678-89AB-CDEF01234567", "--processing-seconds", "9"])
    config = mock_config(args)
    assert (config.api_mode, config.clock_mode, config.processing_seconds) == ("sync", "frozen", 9)
    assert config.clock_start == parse_instant("2026-06-01T08:00:00Z")
    assert "k2" in [k.key for k in config.api_keys]
    assert "abcdef01-2345-4678-89ab-cdef01234567" in config.partners


def test_bad_clock_start_is_a_clear_error() -> None:
    args = build_parser().parse_args(["mock", "--clock-start", "tomorrow"])
    with pytest.raises(SystemExit, match="ISO 8601"):
        mock_config(args)


def test_otacm_mock_serves_and_prints_how_to_connect() -> None:
    """The real command, as a partner starts it (a free port instead of 8080)."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from contracts.cli import main; main()", "mock", "--port", "0", "--clock", "frozen"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(5)]
        fields = {line.split()[0] + " " + line.split()[1]: line.split()[2] for line in lines[1:4]}
        base_url, api_key, partner_id = fields["base URL"], fields["API key"], fields["partner id"]
        assert api_key == "otacm-sandbox-key" and partner_id == "21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e"
        response = requests.get(f"{base_url}/channelManager/orders/{partner_id}", headers={"x-np-api-key": api_key})
        assert response.status_code == 200 and response.json()["data"] == []
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("config", ["", "controlToken: s3cret-token\n"], ids=["open", "with a control token"])
def test_every_command_the_banner_prints_works_as_printed(config: str, tmp_path: Path) -> None:
    """`otacm mock` suggests commands; each must run exactly as printed (issue 12:
    `otacm clock advance 5m --url ...` failed with `unrecognized arguments`)."""
    config_file = tmp_path / "mock.yaml"
    config_file.write_text(config or "{}\n")
    process = subprocess.Popen(
        [sys.executable, "-c", "from contracts.cli import main; main()", "mock", "--port", "0", "--clock", "frozen",
         "--clock-start", "2026-05-15T09:30:00Z", "--config", str(config_file)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = [process.stdout.readline()]
        while lines[-1] and not lines[-1].startswith("  control") and len(lines) < 12:
            lines.append(process.stdout.readline())
        banner = "".join(lines)
        commands = re.findall(r"\((otacm [^)]*)\)", banner)
        assert commands, banner
        root = re.search(r"(http://[\d.:]+)/_mock/clock", banner).group(1)
        bin_dir = Path(sys.executable).parent
        assert (bin_dir / "otacm").exists(), "the otacm console script is installed beside the interpreter"
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
        for command in commands:
            result = subprocess.run(command, shell=True, env=env, capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, f"{command!r} exited {result.returncode}: {result.stderr}"
        if any("clock advance 5m" in command for command in commands):
            headers = {"x-otacm-control-token": "s3cret-token"} if config else {}
            assert requests.get(root + "/_mock/clock", headers=headers).json()["now"] == "2026-05-15T09:35:00Z"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("argv", [
    ["clock", "advance", "5m", "--url", "http://h:1"], ["clock", "--url", "http://h:1", "advance", "5m"],
])
def test_clock_options_go_before_or_after_the_action(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.url, args.action, args.duration) == ("http://h:1", "advance", "5m")


@pytest.mark.parametrize("argv, expected", [
    (["scenarios", "--base-url", "http://h:1", "--tag", "t", "run", "p"], {"base_url": "http://h:1", "tag": ["t"]}),
    (["scenarios", "run", "p", "--base-url", "http://h:1", "--tag", "t"], {"base_url": "http://h:1", "tag": ["t"]}),
    (["scenarios", "--api-mode", "sync", "list"], {"api_mode": "sync", "tag": []}),
    (["scenarios", "list"], {"api_mode": None, "tag": []}),
    (["scenarios", "run"], {"api_mode": "async", "base_url": None}),
    (["webhooks", "--port", "0", "listen"], {"port": 0, "host": "127.0.0.1"}),
    (["webhooks", "listen", "--port", "0"], {"port": 0, "host": "127.0.0.1"}),
    (["webhooks", "listen"], {"port": 8765}),
])
def test_every_commands_options_go_before_or_after_the_action(argv: list[str], expected: dict) -> None:
    """Each action keeps its own defaults; an option given before the action is not reset by them."""
    args = vars(build_parser().parse_args(argv))
    assert {key: args[key] for key in expected} == expected


def test_advance_can_wait_for_the_webhooks_it_causes(api: Api) -> None:
    from contracts.webhooks.receiver import WebhookReceiver

    with WebhookReceiver() as receiver:
        subscription = {"notificationUrl": receiver.url, "eventName": "ota_cm_order_processed", "clientState": "s"}
        assert api.session.post(api.base + "/webhook", json=subscription).status_code == 201
        api.create(order_body(api.mock.partner_id))
        state = requests.post(api.mock.url + "/_mock/clock/advance", json={"by": "2m", "waitForWebhooks": True}).json()
        assert state["webhooksIdle"] is True
        assert [e.status for e in receiver.events()] == ["Issued"]


def test_otacm_clock_alone_shows_the_sandbox_time(capsys) -> None:
    """`otacm clock` without an action was an argparse error; now it is `show` (issue 21)."""
    with MockServer(frozen_config(clock_start=parse_instant("2026-05-15T09:30:00Z"))) as mock:
        args = build_parser().parse_args(["clock", "--url", mock.url])
        assert args.handler(args) == 0
    assert capsys.readouterr().out.startswith("2026-05-15T09:30:00Z (frozen; next event due")


def test_otacm_version_prints_the_installed_version(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["--version"])
    assert exit_.value.code == 0
    assert re.fullmatch(r"otacm \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


@pytest.mark.parametrize("command", [["mock"], ["clock"], ["verify"], ["scenarios", "run"], ["webhooks", "listen"]])
def test_help_says_each_default_once_with_plain_metavars(command: list[str], capsys) -> None:
    """Issue 21: '(default: now) (default: None)' and PROCESSING_SECONDS beside SECONDS."""
    with pytest.raises(SystemExit):
        build_parser().parse_args([*command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert not re.search(r"\(default: (None|False|\[\])\)", text)
    assert not re.search(r"default[^()]*\) \(default:", text)
    assert not re.search(r"--[a-z-]+ [A-Z]+_[A-Z_]+", text), "a metavar argparse made from the option's name"


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
def test_the_control_api_reads_json_whatever_the_content_type(api: Api, content_type: str | None) -> None:
    """`curl -X POST .../_mock/clock/advance -d '{"by":"30s"}'` sends form-urlencoded; it answered
    "advance needs 'by'" (issue 21). The Orders API reads such a body (no 415): so does /_mock/."""
    headers = {"Content-Type": content_type} if content_type else {}
    before = api.session.get(f"{api.mock.url}/_mock/clock").json()["nowEpoch"]
    moved = requests.post(f"{api.mock.url}/_mock/clock/advance", data=b'{"by":"30s"}', headers=headers)
    assert moved.status_code == 200, moved.text
    assert moved.json()["nowEpoch"] == before + 30
    waited = requests.post(f"{api.mock.url}/_mock/webhooks/wait", data=b'{"timeout": 0}', headers=headers)
    assert waited.status_code == 200 and waited.json() == {"idle": True}


def test_a_config_with_keys_the_mock_does_not_read_is_refused(tmp_path: Path) -> None:
    """A catalog passed as --config was ignored silently and the sandbox ran on the default catalog."""
    catalog = Path(__file__).parents[1] / "support" / "data" / "catalog-other.yaml"
    with pytest.raises(SystemExit, match="it looks like a catalog: name it in a config file as `catalog: "):
        MockConfig.load(catalog)
    typo = tmp_path / "typo.yaml"
    typo.write_text("pickupSecond: 2\n")
    with pytest.raises(SystemExit, match="has keys the mock does not know: pickupSecond"):
        MockConfig.load(typo)
    good = tmp_path / "good.yaml"
    good.write_text(f"catalog: {catalog}\npickupSeconds: 2\nstore: memory\n")
    assert MockConfig.load(good).catalog_path == catalog.resolve()
