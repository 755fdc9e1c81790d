"""The probe against the embedded mock, warped: every flow runs, and a correct target passes both levels cleanly."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from contracts.checks.registry import Registry
from contracts.verify.rules import load_divergences
from contracts.target import embedded_mock, reach
from contracts.verify.evidence import CheckContext, Evidence, OrderHistory
from contracts.verify.strict_flows import ALL_FLOWS
from contracts.verify.judge import judge
from contracts.verify.poller import Poller
from contracts.verify.probe import Probe
from realtime_targets import PICKUP_SECONDS, realtime_mock
from test_probe_broken import target_of

VENUE = yaml.safe_load((Path(__file__).resolve().parents[2] / "scenarios" / "vars.yaml").read_text())


def probe(target, venue: dict, **changes) -> tuple[Evidence, str, float]:
    options = dict(strictness="strict", today=reach(target), poll=2.0, close_poll=0.5, timeout=15.0,
                   settle_timeout=120.0, webhooks=True, quiet_window=0.0) | changes
    made = Probe(target, venue, **options)
    started = time.monotonic()
    evidence = made.run()
    return evidence, made.client_state, time.monotonic() - started


@pytest.fixture(scope="module")
def warped() -> tuple[Evidence, str, float]:
    with embedded_mock() as target:
        return probe(target, VENUE)


def test_every_flow_runs_in_a_few_seconds(warped) -> None:
    evidence, _, seconds = warped
    assert evidence.skipped_flows == {}
    assert {h.flow for h in evidence.histories} == set(ALL_FLOWS) - {"invalid-input"} | {"listing"}
    assert all(h.order_id for h in evidence.histories)
    assert evidence.deliveries and not evidence.webhook_problem
    assert evidence.quiet_window >= 60, "a warped quiet window costs nothing: at least a minute of target time"
    assert seconds < 15, f"the warped probe took {seconds:.1f} s"


@pytest.mark.parametrize("level", ["documented", "strict"])
def test_the_mock_passes_cleanly(warped, level: str) -> None:
    evidence, state, _ = warped
    outcomes = judge(Registry.collect().select([], level), CheckContext(level, VENUE, evidence, 70.0, state),
                     load_divergences())
    verdicts = Counter(o.verdict for o in outcomes)
    bad = [(o.check, o.subject, o.messages[:2]) for o in outcomes if o.verdict in ("failed", "warning", "skipped")]
    assert verdicts["failed"] == verdicts["warning"] == verdicts["skipped"] == 0, bad


def test_a_missing_venue_fact_skips_its_flows() -> None:
    venue = {k: v for k, v in VENUE.items() if k not in ("group_item", "failing_time")}
    with embedded_mock() as target:
        evidence, _, _ = probe(target, venue, webhooks=False)
    assert evidence.skipped_flows["group"] == "needs venue fact group_item (--var group_item=...)"
    assert {"failing-replace", "failing-delete", "error-duplicate", "sync-failure"} <= set(evidence.skipped_flows)
    assert evidence.webhook_problem and not evidence.deliveries


def test_a_real_time_target_passes_cleanly_within_its_budget() -> None:
    """The mock without /_mock/ (pickups every half second): polled on the real clock, one quiet window."""
    with realtime_mock() as server:
        target = target_of(server)
        evidence, state, seconds = probe(target, VENUE, poll=0.2, close_poll=0.05, settle_timeout=10.0,
                                         quiet_window=2.0)
    assert not target.clock_control and seconds < 30, f"the real-time probe took {seconds:.1f} s"
    for level in ("documented", "strict"):
        ctx = CheckContext(level, VENUE, evidence, PICKUP_SECONDS + 5.0, state)
        outcomes = judge(Registry.collect().select([], level), ctx, load_divergences())
        bad = [(o.check, o.verdict, o.messages[:2]) for o in outcomes if o.verdict != "passed"]
        assert not bad, bad


class _BrokenClient:
    """A client whose polling fails: the target went away mid-run."""

    warp = False

    def now(self) -> float:
        return time.monotonic()

    def call(self, *args, **kwargs):
        raise RuntimeError("connection reset")


def test_a_poller_that_breaks_lets_every_waiting_flow_go_on() -> None:
    poller = Poller(_BrokenClient(), warp=False, poll=0.01, close_poll=0.01, timeout=5.0, flows=1)
    seen: list = []
    waiting = threading.Thread(target=lambda: seen.append(poller.settle(OrderHistory("f", "f", {}, "o-1"), time.monotonic())))
    waiting.start()
    with pytest.raises(RuntimeError, match="connection reset"):
        poller.drive()
    waiting.join(timeout=5)
    assert seen == [None] and not waiting.is_alive()
