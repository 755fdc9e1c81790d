"""Venue facts: `load_venue` (vars.yaml, --vars, --var), `needs` inference, and skips for facts a venue lacks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from contracts.cli import main as otacm
from contracts.scenarios import VenueError, facts_needed, load_file, load_library, load_venue
from contracts.scenarios.runner import RunOptions, run_scenarios
from contracts.target import embedded_mock
from mockserver.server import MockServer, frozen_config

DATA = Path(__file__).resolve().parents[1] / "support" / "data"
NO_GROUP = "the venue has no group_item (set it with --var group_item=... or in --vars FILE"


def test_without_files_the_venue_is_vars_yaml() -> None:
    assert load_venue() == load_library().variables


def test_a_venue_file_replaces_vars_yaml_and_pairs_come_last() -> None:
    venue = load_venue([DATA / "venue-other.yaml"], ["failing_time=08:00:00", "package_coupons=3"])
    assert venue["individual_item"] == "HM-100" and venue["failing_time"] == "08:00:00"
    assert venue["package_coupons"] == 3
    assert "group_item" not in venue and "plain_package_item" not in venue  # left out / null: not there
    assert "group_item" not in load_venue(pairs=["group_item="])
    assert load_venue(pairs=["individual_item=31001"])["individual_item"] == "31001"  # text, not a number


@pytest.mark.parametrize("pair, words", [
    ("group_item", "--var 'group_item': expected NAME=VALUE"),
    ("package_tickets=two", "--var 'package_tickets=two': package_tickets must be an integer like 2"),
])
def test_malformed_pairs_are_named(pair: str, words: str) -> None:
    with pytest.raises(VenueError, match=words):
        load_venue(pairs=[pair])


@pytest.mark.parametrize("text, words", [
    ("individual_time: 10:30:00\n", "individual_time must be text; quote it"),
    ("- a list\n", "expected a YAML mapping"),
    ("a: [\n", "not valid YAML"),
])
def test_malformed_files_are_named(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "venue.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VenueError, match=f"--vars {path}: .*{words}"):
        load_venue([path])
    with pytest.raises(VenueError, match="no such file"):
        load_venue([tmp_path / "missing.yaml"])


def test_needs_are_declared_or_inferred_from_templates_and_fixtures(tmp_path: Path) -> None:
    library = load_library()
    scenarios = {s.name: s for s in library.scenarios}
    assert scenarios["group-single-wallet"].needs == ("group_item", "group_time")  # `with` replaced the fixture's line
    assert scenarios["webhook-on-error"].needs == ("individual_item", "failing_time")
    path = tmp_path / "s.yaml"
    path.write_text("""
scenarios:
  - name: case
    doc: test
    needs: [opening_hours]
    steps:
      - call: createOrder
        body: {fixture: orders.paid, with: {sellToName: "{{ guest_name | upper }}"}}
        save: {orderId: orderId}
      - call: getOrder
        params: {orderId: "{{orderId}}"}
        expect: {fields: {partnerId: "{{partner_id}}"}}
""", encoding="utf-8")
    (scenario,) = load_file(path)
    assert facts_needed(scenario, library.fixtures) == (
        "opening_hours", "guest_name", "individual_item", "individual_time")


def test_a_scenario_needing_a_missing_fact_is_skipped_with_the_reason() -> None:
    library = load_library()
    library.variables = load_venue(pairs=["group_item=null"])
    chosen = [s for s in library.scenarios if s.name in ("group-single-wallet", "individual-wallet-per-ticket")]
    with embedded_mock() as target:
        report = run_scenarios(library, target, RunOptions(strictness="strict"), chosen)
    outcome = {r.scenario.name: (r.outcome, r.reason) for r in report.results}
    assert outcome == {"group-single-wallet": ("skipped", NO_GROUP + ")"),  # group_time is still vars.yaml's
                       "individual-wallet-per-ticket": ("passed", "")}


def test_the_library_passes_on_another_venue_with_its_vars_file(capsys: pytest.CaptureFixture[str]) -> None:
    config = frozen_config(catalog_path=(DATA / "catalog-other.yaml").resolve(), clock_start=float(int(time.time())))
    with MockServer(config) as mock:
        code = otacm(["scenarios", "run", "--base-url", mock.base_url, "--strictness", "strict",
                      "--vars", str(DATA / "venue-other.yaml")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert " 0 failed, 2 skipped" in out
    assert f"SKIPPED group-single-wallet — {NO_GROUP}; also missing: group_time)" in out
    assert "SKIPPED plain-package-only-tickets — the venue has no plain_package_item (set it with --var " \
           "plain_package_item=... or in --vars FILE; also missing: plain_package_time, plain_package_tickets)" in out
    assert "PASSED  package-wallets-tickets-and-coupons" in out and "PASSED  webhook-on-error" in out


def test_cli_reports_a_malformed_venue_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert otacm(["scenarios", "run", "--var", "nonsense"]) == 2
    assert "--var 'nonsense': expected NAME=VALUE" in capsys.readouterr().err


def test_run_options_carry_a_whole_venue_as_verify_passes_it() -> None:
    """`otacm verify` passes `load_venue(...)` as RunOptions.variables: a fact it lacks stays lacking."""
    library = load_library()
    chosen = [s for s in library.scenarios if s.name == "group-single-wallet"]
    venue = load_venue([DATA / "venue-other.yaml"])
    with embedded_mock() as target:
        report = run_scenarios(library, target, RunOptions(strictness="strict", variables=venue), chosen)
    (result,) = report.results
    assert (result.outcome, result.reason.split(";")[0]) == ("skipped", NO_GROUP)
