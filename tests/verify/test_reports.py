"""The report writers, on `Report`s built by hand: one per verdict, a known divergence, hostile text."""

from __future__ import annotations

import html
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from contracts.reports import WRITERS, html_page, junit_xml, markdown, summary_text
from contracts.verify.results import (
    EXIT_OK,
    EXIT_UNREACHABLE,
    CoverageRow,
    Outcome,
    Report,
)

CURL = "curl -X POST 'http://127.0.0.1:8080/t/sandbox/c/orders' -H 'Content-Type: application/json' -d '{}'"
DIVERGENCE = ("known divergence: the production server is known to do this "
              "(pageSize below 1 is taken as 20000)")
HOSTILE = "body was <script>alert(1)</script> & [bold]not markup[/bold]"


def _outcomes() -> list[Outcome]:
    return [
        Outcome("responses", "status_code_conformance", "createOrder", "passed"),
        Outcome("responses", "status_code_conformance", "getOrder", "passed"),
        Outcome("lifecycle", "terminal_sticky", "unpaid order (Draft, then confirmed)", "failed",
                ["Issued → Draft after settling", HOSTILE], [CURL, "statuses seen: Draft, Issued, Draft"]),
        Outcome("listing", "page_size_bounds", "listOrdersByPartner", "failed",
                ["pageSize=0 answered 200, not 400"], [CURL], divergence=DIVERGENCE),
        Outcome("responses", "negative_data_rejection", "createWebhookSubscription", "warning",
                ['"clientState": null accepted (CONTRACT.md is silent)']),
        Outcome("scenarios", "wallet_group", "(nothing to judge)", "skipped",
                ["the venue has no group item"]),
        Outcome("scenarios", "wallet_group", "group of 3", "skipped", ["the venue has no group item"]),
    ]


def make_report(outcomes: list[Outcome] | None = None, exit_code: int | None = None) -> Report:
    """A report as a run would leave it: outcomes, coverage, seed, timings, and its exit code settled."""
    report = Report(
        target="http://127.0.0.1:8080/t/sandbox/c", embedded=False, strictness="documented",
        families=["responses", "lifecycle", "listing", "scenarios"],
        outcomes=_outcomes() if outcomes is None else outcomes,
        coverage=[CoverageRow("operations", ["createOrder", "getOrder", "deleteOrder"], {"createOrder", "getOrder"}),
                  CoverageRow("stateful links", [])],
        seconds=12.5, seed=3, timings={"responses": 4.0, "lifecycle": 8.5}, requests=42,
    )
    if exit_code is None:
        report.settle_exit_code()
    else:
        report.exit_code = exit_code
    return report


@pytest.fixture
def report() -> Report:
    return make_report()


def _row(text: str, name: str) -> str:
    rows = [line.strip() for line in text.splitlines() if line.strip().startswith(name)]
    assert len(rows) == 1, text
    return rows[0]


# -- terminal ------------------------------------------------------------------------------------------
def test_terminal_rows_are_one_line_each_ending_with_the_row_verdict(report: Report) -> None:
    text = summary_text(report)
    assert _row(text, "responses/status_code_conformance").split() == [
        "responses/status_code_conformance", "2", "0", "0", "0", "ok"]
    assert _row(text, "lifecycle/terminal_sticky").endswith("FAIL")
    assert _row(text, "responses/negative_data_rejection").endswith("WARN")
    assert _row(text, "scenarios/wallet_group").split()[1:] == ["0", "0", "0", "2", "skip"]


def test_terminal_lists_failures_warnings_skips_and_coverage_in_that_order(report: Report) -> None:
    text = summary_text(report)
    order = [text.index(s) for s in ("Failures:", "Warnings:", "Skipped", "Coverage:", "FAILED")]
    assert order == sorted(order), text
    assert "[terminal_sticky] lifecycle: unpaid order (Draft, then confirmed)" in text
    assert "[negative_data_rejection]" in text.split("Warnings:")[1]
    assert f"reproduce: {CURL}" in text  # the curl line is never wrapped
    assert DIVERGENCE in text
    assert "[bold]not markup[/bold]" in text  # text from the target is never read as rich markup
    assert "- scenarios/wallet_group: the venue has no group item ((nothing to judge), group of 3)" in text
    coverage = _row(text, "operations")
    assert "2/3 (67%)" in coverage and "not covered: deleteOrder" in coverage
    assert "stateful links" not in text  # nothing to cover is not a vacuous 100 %


def test_terminal_ends_with_headline_seed_and_timings(report: Report) -> None:
    lines = [line for line in summary_text(report).splitlines() if line.strip()]
    assert lines[-2] == report.headline()
    assert "seed 3" in lines[-1] and "12.5 s (responses 4.0 s, lifecycle 8.5 s)" in lines[-1]


def test_terminal_is_plain_without_colour_and_coloured_on_request(report: Report) -> None:
    assert "\x1b[" not in summary_text(report)
    assert "\x1b[" in summary_text(report, color=True)


def test_terminal_table_never_wraps_a_long_check_name() -> None:
    name = "a_check_whose_name_is_much_longer_than_any_real_one_is_likely_to_be"
    text = summary_text(make_report([Outcome("strict", name, "getOrder", "failed", ["m"])]), width=40)
    assert _row(text, f"strict/{name}").endswith("FAIL")


def test_terminal_keeps_a_long_target_on_the_title_line() -> None:
    report = make_report([])
    report.target = "http://127.0.0.1:41841/01234567-89ab-cdef-0123-456789abcdef/sandbox/CRONUS%20International%20Ltd."
    title = next(line for line in summary_text(report, width=60).splitlines() if line.strip())
    assert title == f"otacm verify — {report.target} — documented strictness"


def test_terminal_passing_run() -> None:
    text = summary_text(make_report([Outcome("responses", "status_code_conformance", "getOrder", "passed")]))
    assert "PASSED" in text and "Failures:" not in text and "Warnings:" not in text
    assert make_report([]).exit_code == EXIT_OK


# -- JUnit ---------------------------------------------------------------------------------------------
def _junit(report: Report, tmp_path: Path):
    from junitparser import JUnitXml

    path = tmp_path / "verify.xml"
    path.write_text(junit_xml(report), encoding="utf-8")
    return JUnitXml.fromfile(str(path))


def _properties(case) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in case._elem.iter("property")}


def test_junit_has_one_suite_per_family_and_right_counts(report: Report, tmp_path: Path) -> None:
    xml = _junit(report, tmp_path)
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {f"otacm verify.{f}" for f in ("responses", "lifecycle", "listing", "scenarios")}
    assert [(s.tests, s.failures, s.skipped) for s in suites.values()] == [(3, 0, 0), (1, 1, 0), (1, 1, 0), (2, 0, 2)]
    assert (xml.tests, xml.failures, xml.skipped) == (7, 2, 2)
    assert sum(1 for suite in xml for _ in suite) == len(report.outcomes)


def test_junit_cases_carry_failures_skips_warnings_and_divergences(report: Report, tmp_path: Path) -> None:
    from junitparser import Failure, Skipped

    cases = {(case.classname, case.name): case for suite in _junit(report, tmp_path) for case in suite}
    sticky = cases["lifecycle.terminal_sticky", "terminal_sticky [unpaid order (Draft, then confirmed)]"]
    failure = next(r for r in sticky.result if isinstance(r, Failure))
    assert failure.message == "Issued → Draft after settling"
    assert HOSTILE in failure.text and CURL in failure.text  # the messages, then what reproduces it

    diverging = cases["listing.page_size_bounds", "page_size_bounds [listOrdersByPartner]"]
    assert _properties(diverging) == {"known-divergence": DIVERGENCE}
    assert diverging.is_failure and DIVERGENCE in diverging.result[0].text

    skipped = cases["scenarios.wallet_group", "wallet_group [group of 3]"]
    assert skipped.is_skipped
    assert [r.message for r in skipped.result if isinstance(r, Skipped)] == ["the venue has no group item"]

    warned = cases["responses.negative_data_rejection", "negative_data_rejection [createWebhookSubscription]"]
    assert warned.is_passed  # a warning never turns the CI test tab red
    assert _properties(warned)["warning"].startswith('"clientState": null accepted')
    assert "CONTRACT.md is silent" in warned.system_out


def test_junit_of_an_unreachable_target_is_an_error(tmp_path: Path) -> None:
    report = make_report([], exit_code=EXIT_UNREACHABLE)
    report.problem = "could not reach the target: connection refused"
    xml = _junit(report, tmp_path)
    assert xml.errors == 1
    case = next(case for suite in xml for case in suite)
    assert case.result[0].message == report.problem


# -- HTML ----------------------------------------------------------------------------------------------
def test_html_shows_the_four_verdicts_table_failures_skips_and_coverage(report: Report) -> None:
    page = html_page(report)
    assert page.startswith("<!DOCTYPE html>")
    for verdict, count in (("passed", 2), ("failed", 2), ("warning", 1), ("skipped", 2)):
        assert f'<div class="{verdict}"><b>{count}</b>{verdict}</div>' in page
    assert '<td class="FAIL">FAIL</td>' in page and '<td class="WARN">WARN</td>' in page
    assert '<td class="skip">skip</td>' in page and '<td class="ok">ok</td>' in page
    assert page.index("<h2>Failures</h2>") < page.index("<h2>Warnings</h2>") < page.index("<h2>Skipped</h2>")
    assert f'<div class="divergence">{DIVERGENCE}</div>' in page
    assert "the venue has no group item" in page and "2/3 (67%)" in page
    assert report.headline() in page


def test_html_escapes_the_targets_text_and_fetches_nothing(report: Report) -> None:
    page = html_page(report)
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in page
    assert "<link" not in page and " src=" not in page and "@import" not in page and "url(" not in page


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _png_colours(png: bytes) -> int:
    """Distinct byte values in a PNG's decompressed image data: a blank page has two or three."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    data, at = b"", 8
    while at < len(png):
        (length,), kind = struct.unpack(">I", png[at:at + 4]), png[at + 4:at + 8]
        if kind == b"IDAT":
            data += png[at + 8:at + 8 + length]
        at += 12 + length
    return len(set(zlib.decompress(data)))


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed "
                    "(apt-get install -y chromium); the HTML report cannot be rendered to an image")
def test_html_renders_to_a_non_blank_image_in_headless_chromium(report: Report, tmp_path: Path) -> None:
    page, shot = tmp_path / "verify.html", tmp_path / "verify.png"
    page.write_text(html_page(report), encoding="utf-8")
    result = subprocess.run(
        [str(_chromium()), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600",
         f"--screenshot={shot}", page.as_uri()],
        check=False, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0 and shot.exists(), result.stderr
    assert _png_colours(shot.read_bytes()) > 16, "the rendered page is blank"


# -- Markdown ------------------------------------------------------------------------------------------
def test_markdown_puts_the_verdicts_then_the_failures_first(report: Report) -> None:
    text = markdown(report)
    assert "| ✅ passed | ❌ failed | ⚠️ warning | ⏭️ skipped |" in text and "| 2 | 2 | 1 | 2 |" in text
    assert text.index("### Failures") < text.index("### Checks") < text.index("### Warnings") < text.index("### Skipped")
    assert "<code>[terminal_sticky]</code> lifecycle: unpaid order (Draft, then confirmed)" in text
    assert f"> **{DIVERGENCE}**" in text and CURL in text
    assert "| family | check | passed | failed | skipped |" in text  # the former report's columns, then warning
    assert "| lifecycle | `terminal_sticky` ❌ | 0 | 1 | 0 | 0 | FAIL |" in text
    assert "| `scenarios/wallet_group` | the venue has no group item |" in text
    assert "| operations | 2/3 (67%) | deleteOrder |" in text


def test_markdown_text_from_the_target_cannot_break_out() -> None:
    nasty = "a | b\n``` </details> <img src=x>"
    text = markdown(make_report([Outcome("responses", "c", f"subject {nasty}", "failed", [nasty])]))
    assert "<img" not in text.split("````")[0]  # escaped in the summary line
    assert "````" in text  # the fence is longer than the backticks it holds
    assert text.count("</details>") == 2  # the closing tag, and the quoted one inside the fence


def test_writers_map_each_file_format(report: Report) -> None:
    assert WRITERS == {"junit": junit_xml, "html": html_page, "markdown": markdown}
    assert all(isinstance(write(report), str) for write in WRITERS.values())


KEYED_CURL = ("curl -X GET 'http://127.0.0.1:8080/t/sandbox/c/channelManager/x' "
              '-H "x-np-api-key: $OTACM_API_KEY"')


@pytest.mark.parametrize("sandbox_key, shown", [("", "<your key>"), ("otacm-sandbox-key", "otacm-sandbox-key")])
def test_every_format_says_once_to_export_the_key(sandbox_key: str, shown: str) -> None:
    """The reproduce commands read the key from $OTACM_API_KEY; each report says once how to set it, naming
    the value only when it is the mock's public sandbox key (issue 18)."""
    report = make_report([Outcome("responses", "not_a_server_error", "getOrder", "failed", ["500"], [KEYED_CURL])])
    report.sandbox_key = sandbox_key
    line = f"export OTACM_API_KEY={shown}"
    for text in (summary_text(report), markdown(report), html.unescape(html_page(report)),
                 html.unescape(junit_xml(report))):
        assert line in text and KEYED_CURL in text
    assert summary_text(report).count(line) == 1 and markdown(report).count(line) == 1


def test_no_export_line_without_a_keyed_reproduction() -> None:
    report = make_report()
    assert all("export OTACM_API_KEY" not in text for text in
               (summary_text(report), markdown(report), html_page(report), junit_xml(report)))
