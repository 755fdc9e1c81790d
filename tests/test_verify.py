"""`otacm verify` against the embedded mock and a running mock: passes, exit codes, reports."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from contracts.cli import build_parser, main
from contracts.reports import html_page, junit_xml, markdown
from contracts.verify.run import (
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    EXIT_VIOLATION,
    CheckOutcome,
    VerifyOptions,
    verify,
)
from mockserver.server import MockServer, frozen_config

SMALL = ["--max-examples", "4", "--seed", "3", "--quiet"]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().out


@pytest.mark.parametrize("strictness", ["documented", "strict"])
def test_embedded_mock_passes_with_coverage(strictness: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(["verify", "--strictness", strictness, *SMALL], capsys)
    assert code == EXIT_OK, out
    assert "PASSED" in out
    for family in ("responses/", "lifecycle/", "webhooks/", "scenarios/"):
        assert family in out
    for figure in ("operations", "documented responses", "lifecycle transitions", "stateful links"):
        line = next(line for line in out.splitlines() if line.strip().startswith(figure))
        assert "%" in line
    if strictness == "strict":
        assert "strict_key_order" in out and "strict_error_message" in out


def test_unreachable_target_has_its_own_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        code, out = run(["verify", "--base-url", f"http://127.0.0.1:{port}", "--api-key", "k",
                         "--partner-id", "21e8c1d2-3f4a-4c5b-9e6d-7f8a9b0c1d2e", "--quiet"], capsys)
    assert code == EXIT_UNREACHABLE
    assert "could not reach" in out


def test_rejected_api_key_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with MockServer(frozen_config()) as server:
        code, out = run(["verify", "--base-url", server.url, "--api-key", "wrong", "--partner-id",
                         server.partner_id, "--quiet"], capsys)
    assert code == EXIT_USAGE
    assert "401" in out


def test_unknown_check_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--checks", "no_such_check", "--quiet"]) == EXIT_USAGE


def test_help_documents_the_exit_codes() -> None:
    parser = build_parser()
    verify_parser = parser._subparsers._group_actions[0].choices["verify"]  # type: ignore[union-attr]
    text = verify_parser.format_help()
    for code in ("0", "1", "2", "3", "4"):
        assert f"\n  {code}  " in text
    assert "could not reach the target" in text and "contract was violated" in text


def test_a_running_mock_is_found_and_warped(capsys: pytest.CaptureFixture[str]) -> None:
    """--base-url of an `otacm mock`: key and partner come from /_mock/info, waits are warped."""
    with MockServer(frozen_config()) as server:
        code, out = run(["verify", "--base-url", server.url, "--checks", "lifecycle,webhooks", "--no-scenarios",
                         "--quiet"], capsys)
    assert code == EXIT_OK, out
    assert "lifecycle/settles_within" in out and "webhooks/webhook_once_per_settle" in out


@pytest.fixture(scope="module")
def failing_report() -> object:
    """A small run with one failing check, for the report formats."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from broken_targets import RULES, broken_mock

    rule = next(r for r in RULES if r.name == "webhook-says-issued")
    with broken_mock(rule) as server:
        return verify(VerifyOptions(base_url=server.url, checks=("lifecycle", "webhooks"), scenarios=False))


def test_junit_parses_with_one_case_per_check_and_subject(failing_report, tmp_path: Path) -> None:  # noqa: ANN001
    from junitparser import Failure, JUnitXml

    path = tmp_path / "verify.xml"
    path.write_text(junit_xml(failing_report), encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    cases = [case for suite in xml for case in suite]
    assert len(cases) == len(failing_report.outcomes)
    names = {case.name for case in cases}
    assert "webhook_matches_status [unpaid order (Draft, then confirmed)]" in names
    failed = [case for case in cases if any(isinstance(r, Failure) for r in case.result)]
    assert failed and all("webhook_matches_status" in case.name for case in failed)


def test_markdown_has_the_table_and_the_failures(failing_report) -> None:  # noqa: ANN001
    text = markdown(failing_report)
    assert "| family | check | passed | failed | skipped |" in text
    assert "`webhook_matches_status` ❌" in text
    assert "lifecycle transitions" in text


def test_html_is_self_contained(failing_report) -> None:  # noqa: ANN001
    page = html_page(failing_report)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page and " src=" not in page  # nothing to fetch
    assert "webhook_matches_status" in page


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed "
                    "(apt-get update && apt-get install -y chromium); the HTML report cannot be rendered")
def test_html_renders_in_headless_chromium(failing_report, tmp_path: Path) -> None:  # noqa: ANN001
    page = tmp_path / "verify.html"
    page.write_text(html_page(failing_report), encoding="utf-8")
    result = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         page.as_uri()],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "webhook_matches_status" in result.stdout and "Coverage" in result.stdout
    console_errors = [line for line in result.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()]
    assert not console_errors, console_errors


def test_exit_code_follows_the_outcomes() -> None:
    assert EXIT_VIOLATION != EXIT_UNREACHABLE != EXIT_USAGE
    outcome = CheckOutcome("lifecycle", "terminal_sticky", "x", "failed", ["m"])
    assert outcome.failed
