"""`otacm verify` as QA and CI run it: addresses, verdicts, exit codes, the rule list, the pytest entry."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from contracts.checks.lifecycle import Observation
from contracts.cli import build_parser, main
from contracts.verify.coverage import edges_seen, lifecycle_edges
from contracts.verify.pytest_entry import check_ids, contract_tests, options_from
from contracts.verify.results import EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, EXIT_VIOLATION
from contracts.verify.rules import load_rules
from mockserver.server import MockServer, frozen_config
from realtime_targets import verify_argv, realtime_mock

SMALL = ["--max-examples", "4", "--seed", "3", "--quiet"]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("strictness", ["documented", "strict"])
def test_embedded_mock_passes_with_no_failure_and_no_warning(strictness: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(["verify", "--strictness", strictness, *SMALL], capsys)
    assert code == EXIT_OK, out
    assert "PASSED" in out and " 0 failed, 0 warning" in out, out
    for family in ("responses/", "lifecycle/", "webhooks/", "orders/", "calls/", "sync/", "scenarios/"):
        assert family in out
    for figure in ("operations", "documented responses", "lifecycle transitions", "stateful links"):
        assert "%" in next(line for line in out.splitlines() if line.strip().startswith(figure))
    if strictness == "strict":
        assert "strict/server_key_order" in out and "rejections/error_message_wording" in out


@pytest.mark.parametrize("strictness", ["documented", "strict"])
def test_the_real_time_mock_passes_addressed_as_its_banner_prints_it(strictness: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """No /_mock/: verify polls on the real clock, runs its sources at once, and finds nothing wrong."""
    with realtime_mock() as server:
        code, out = run(verify_argv(server, "--strictness", strictness), capsys)
    assert code == EXIT_OK, out
    assert " 0 failed, 0 warning" in out and "warped" not in out, out


def test_another_venue_passes_with_its_facts(capsys: pytest.CaptureFixture[str]) -> None:
    """A mock with another catalog, told about it with --vars: nothing fails, missing items are skipped."""
    data = Path(__file__).resolve().parents[1] / "support" / "data"
    with realtime_mock(catalog_path=data / "catalog-other.yaml") as server:
        code, out = run(verify_argv(server, "--vars", str(data / "venue-other.yaml")), capsys)
    assert code == EXIT_OK, out
    assert " 0 failed, 0 warning" in out, out
    assert "the venue has no group_item" in out


@pytest.mark.parametrize("encode", [lambda c: c.replace(" ", "%20"), lambda c: c.replace(" ", "+"),
                                    lambda c: c.replace(" ", "%2520")], ids=["%20", "+", "%2520"])
def test_the_base_url_takes_each_encoding_of_the_company(encode, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    with MockServer(frozen_config()) as server:
        config = server.config
        base = f"{server.url}/{config.tenant}/{config.environment}/{encode(config.company)}"
        code, out = run(["verify", "--base-url", base, "--checks", "lifecycle", "--no-scenarios", "--quiet"], capsys)
    assert code == EXIT_OK, out
    assert "CRONUS%20International%20Ltd." in out


def test_a_server_root_with_the_three_segments(capsys: pytest.CaptureFixture[str]) -> None:
    with MockServer(frozen_config()) as server:
        config = server.config
        code, out = run(["verify", "--base-url", server.url, "--tenant", config.tenant, "--environment",
                         config.environment, "--company", config.company, "--checks", "lifecycle",
                         "--no-scenarios", "--quiet"], capsys)
    assert code == EXIT_OK, out


@pytest.mark.parametrize("args", [
    ["--base-url", "http://127.0.0.1:9/only-one-segment"],
    ["--base-url", "http://127.0.0.1:9/t/e/c", "--tenant", "t"],
    ["--base-url", "http://127.0.0.1:9/t/e/c/channelManager"],
])
def test_an_ambiguous_address_is_a_usage_error_showing_both_forms(args: list[str],
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(["verify", *args, "--api-key", "k", "--partner-id", "p", "--quiet"], capsys)
    assert code == EXIT_USAGE, out
    assert "the full base, as `otacm mock` prints it" in out and "--tenant T --environment E --company C" in out


def test_a_doubled_base_is_refused_not_fuzzed(capsys: pytest.CaptureFixture[str]) -> None:
    """The banner's base plus segment flags (issue 10's 42 false failures) is now a usage error."""
    with MockServer(frozen_config()) as server:
        code, out = run(["verify", "--base-url", server.base_url, "--tenant", "x", "--quiet"], capsys)
    assert code == EXIT_USAGE, out


def test_unreachable_target_has_its_own_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        code, out = run(["verify", "--base-url", f"http://127.0.0.1:{port}/t/e/c", "--api-key", "k",
                         "--partner-id", "21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e", "--quiet"], capsys)
    assert code == EXIT_UNREACHABLE
    assert "could not reach" in out


def test_rejected_api_key_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with MockServer(frozen_config()) as server:
        code, out = run(["verify", "--base-url", server.base_url, "--api-key", "wrong", "--partner-id",
                         server.partner_id, "--quiet"], capsys)
    assert code == EXIT_USAGE
    assert "401" in out


def test_unknown_check_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(["verify", "--checks", "no_such_check", "--quiet"], capsys)
    assert code == EXIT_USAGE and "--list-checks" in out


def test_help_explains_exit_codes_verdicts_and_addresses() -> None:
    parser = build_parser()
    verify_parser = parser._subparsers._group_actions[0].choices["verify"]  # type: ignore[union-attr]
    text = verify_parser.format_help()
    for code in ("0", "1", "2", "3", "4"):
        assert f"\n  {code}  " in text
    for word in ("passed", "failed", "warning", "skipped", "--fail-on", "--vars", "--list-rules",
                 "as `otacm mock` prints it"):
        assert word in text


def test_the_rule_list_names_every_rule_with_its_checks(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(["verify", "--list-rules"], capsys)
    assert code == EXIT_OK
    for rule in load_rules():
        assert rule.id in out
    assert "(none)" not in out  # every rule has a check


def test_a_running_mock_is_found_and_warped(capsys: pytest.CaptureFixture[str]) -> None:
    """--base-url of an `otacm mock` root: key and partner come from /_mock/info, waits are warped."""
    with MockServer(frozen_config()) as server:
        code, out = run(["verify", "--base-url", server.url, "--checks", "lifecycle,webhooks", "--no-scenarios",
                         "--quiet"], capsys)
    assert code == EXIT_OK, out
    assert "lifecycle/settles_within" in out and "webhooks/webhook_once_per_settle" in out and "warped" in out


def test_reports_are_written_and_warnings_fail_only_when_asked(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from junitparser import JUnitXml

    junit, html, md = tmp_path / "v.xml", tmp_path / "v.html", tmp_path / "v.md"
    code, out = run(["verify", "--checks", "lifecycle", "--no-scenarios", "--junit", str(junit), "--html",
                     str(html), "--markdown", str(md), "--quiet"], capsys)
    assert code == EXIT_OK, out
    cases = [case for suite in JUnitXml.fromfile(str(junit)) for case in suite]
    assert cases and any("transition_legality" in case.name for case in cases)
    assert "transition_legality" in html.read_text() and "transition_legality" in md.read_text()


def test_edges_seen_counts_direct_moves_only() -> None:
    timeline = [Observation("Submitted", 0, "createOrder"), Observation("Issued", 70),
                Observation("Cancelled", 80, "deleteOrder")]
    assert edges_seen(timeline) == {"Issued → Cancelled"}  # Submitted → Issued skipped states: not a direct edge
    assert "Submitted → Scheduled" in lifecycle_edges()


def test_pytest_entry_ids_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTACM_STRICTNESS", "strict")
    options = options_from(checks="lifecycle,strict")
    assert options.strictness == "strict"
    ids = check_ids(options)
    assert "lifecycle/settles_within" in ids and "strict/server_key_order" in ids
    assert not any(i.startswith("responses/") for i in ids)


def test_exit_codes_differ() -> None:
    assert len({EXIT_OK, EXIT_VIOLATION, EXIT_UNREACHABLE, EXIT_USAGE}) == 4


# the pytest entry as QA would use it, against the embedded mock
test_contract_lifecycle = contract_tests(checks=("lifecycle", "webhooks"), scenarios=False)


@pytest.mark.parametrize("width", [60, 100, 200])
def test_the_rule_list_fits_the_terminal(width: int) -> None:
    """--list-rules printed 329 columns whatever the terminal (issue 21): blocks when narrow, a table when wide."""
    import io

    from contracts.cli.rules import print_rules

    out = io.StringIO()
    assert print_rules(out, "text", width) == 0
    text = out.getvalue()
    assert max(len(line) for line in text.splitlines()) <= width
    for rule in load_rules():
        assert rule.id in text


def test_the_rule_and_check_lists_have_a_json_form(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(["verify", "--list-rules", "--format", "json"], capsys)
    assert code == EXIT_OK
    rules = json.loads(out)
    assert [r["id"] for r in rules] == [r.id for r in load_rules()] and all(r["checks"] for r in rules)
    code, out = run(["verify", "--list-checks", "--format", "json"], capsys)
    assert code == EXIT_OK and {"family", "check", "level"} <= set(json.loads(out)[0])
