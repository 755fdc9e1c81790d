"""The probe's list queries: planned for the run's own orders, walked page by page, judged on nothing else."""

from __future__ import annotations

from typing import Any

from listing_cases import PARTNER, page, summary
from contracts.checks.registry import Registry
from contracts.target import Exchange, embedded_mock, reach
from contracts.verify.evidence import CheckContext, Evidence, ListedOrder, ListingWalk, OrderHistory
from contracts.verify.listing_walks import listed_orders, paged, plan, walk_ids
from contracts.verify.poller import observe
from contracts.verify.probe import Probe
from contracts.scenarios.loader import load_venue

REGISTRY = Registry.collect()
LISTING = [c for c in REGISTRY if c.family == "listing"]


def order(order_id: str, status: str, received: str = "2026-12-02T10:00:00Z") -> ListedOrder:
    return ListedOrder(order_id, f"ref-{order_id}", received, status, {"sellToOrderReference": f"REF-{order_id}"})


def test_the_plan_asks_each_status_a_comma_list_the_reference_and_windows() -> None:
    orders = [order("a", "Issued"), order("b", "Draft", "2026-12-02T10:00:07Z"), order("c", "Error"), order("d", "")]
    walks = {w.purpose: w for w in plan(orders, "documented")}
    assert {w.query.get("status") for w in walks.values()} >= {"Draft", "Error", "Issued", "Draft,Error,Issued"}
    assert [o.order_id for o in walks["status list Draft,Error,Issued"].expected] == ["a", "b", "c"]
    assert walks["reference as answered"].query == {"sellToOrderReference": "REF-a"}
    window = walks["window around the run"]
    assert window.query == {"receivedAtFrom": "2026-12-02T09:59:59Z", "receivedAtTo": "2026-12-02T10:00:08Z"}
    assert len(window.expected) == 4, "an order in flight is still in a window: its status is not asked"
    assert walks["window after the run"].expected == [] and walks["window before the run"].expected == []
    assert all(w.rule in ("listing.complete", "listing.combined") for w in walks.values())
    combined = [w for w in walks.values() if w.rule == "listing.combined"]
    assert {"status", "receivedAtFrom", "receivedAtTo"} <= set(combined[0].query), "a status in the window"
    assert any(set(w.query) == {"sellToOrderReference", "status"} and not w.expected for w in combined), \
        "the reference with a status its order does not have holds nothing"
    assert {w.level for w in walks.values() if "receivedAtFrom" in w.query and "receivedAtTo" not in w.query} == \
        {"strict"}, "a bound alone is CONTRACT.md's"
    strict = {w.purpose: w for w in plan(orders, "strict")}
    assert strict["window with inclusive bounds"].query == {"receivedAtFrom": "2026-12-02T10:00:00Z",
                                                            "receivedAtTo": "2026-12-02T10:00:07Z"}
    assert strict["reference in another letter case"].query == {"sellToOrderReference": "REF-A"}
    exact = strict["reference in one page of exactly its one row"]
    assert exact.query == {"sellToOrderReference": "REF-a", "pageSize": "1"} and exact.rule == "listing.more-pages", \
        "a page no other client's row can join: exactly full, and the last"


def _history(status_calls: list[tuple[str, int, Any]]) -> OrderHistory:
    history = OrderHistory("paid", "an order", {"partnerId": PARTNER, "sellToOrderReference": "ref-1"},
                           order_id="o-1")
    for operation, code, body in status_calls:
        observe(history, Exchange("GET", "u", {}, None, operation, {}, {}, code, body))
    return history


def test_orders_deleted_from_draft_or_error_are_gone_even_unread() -> None:
    doc = {"orderId": "o-1", "receivedAt": "2026-12-02T10:00:00Z"}
    draft_deleted = _history([("getOrder", 200, doc | {"status": "Draft"}), ("deleteOrder", 200,
                                                                            doc | {"status": "Cancelled"})])
    issued_deleted = _history([("getOrder", 200, doc | {"status": "Issued"}), ("deleteOrder", 200,
                                                                              doc | {"status": "Cancelled"})])
    assert listed_orders([draft_deleted]) == []
    assert [o.status for o in listed_orders([issued_deleted])] == ["Cancelled"]


def test_a_random_list_query_is_never_judged_for_what_it_must_hold() -> None:
    """The measured false failure: Schemathesis asked May's window; the run's order of December is not missing."""
    settled = _history([("getOrder", 200, {"orderId": "o-1", "status": "Issued", "receivedAt": "2026-12-02T10:00:00Z"})])
    fuzzed = page([], {"receivedAtFrom": "2026-05-01T00:00:00Z", "receivedAtTo": "2026-05-31T23:59:59Z"})
    evidence = Evidence([settled], [fuzzed], quiet_window=60.0)
    ctx = CheckContext("strict", {}, evidence, 70.0)
    judged = {c.name: c(ctx, evidence) for c in LISTING}
    assert all(judged[name] is None for name in ("list_filters_honoured", "list_complete", "list_page_size")), judged


class Pages:
    """A list endpoint answering from a list of row sets, one per call (a stand-in client)."""

    def __init__(self, *answers: list[dict[str, Any]]) -> None:
        self.answers, self.calls = list(answers), 0

    def call(self, operation: str, params: Any, query: dict[str, str] | None = None, body: Any = None) -> Exchange:
        rows = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return page(rows, dict(query or {}))


def test_a_walk_during_which_rows_came_or_went_is_not_judged_for_completeness() -> None:
    whole = ListingWalk("window around the run", {"receivedAtFrom": "x"}, [])
    whole.pages, whole.complete = [page([summary("1"), summary("2")], whole.query)], True
    steady, exact = paged(Pages([summary("1")], [summary("1"), summary("2")]), PARTNER, whole)  # type: ignore[arg-type]
    assert steady.complete and steady.query["pageSize"] == "1"
    assert exact.complete and exact.query["pageSize"] == "2", "the window in one page of exactly its rows"
    churned = paged(Pages([summary("1")], [summary("1"), summary("3")]), PARTNER, whole)  # type: ignore[arg-type]
    assert all(not w.complete and "came or went" in w.stopped for w in churned)


def test_the_plan_asks_the_reference_that_begins_another() -> None:
    """A reference filter matching prefixes shows the late order under its model's reference."""
    orders = [order("a", "Issued"), order("b", "Draft"), ListedOrder("c", "ref-b-late", "2026-12-02T10:00:09Z", "Draft")]
    walks = {w.purpose: w for w in plan(orders, "documented")}
    assert walks["reference as answered"].query == {"sellToOrderReference": "REF-b"}


def test_on_the_mock_every_walk_is_complete_and_holds_the_run_s_orders() -> None:
    with embedded_mock() as target:
        venue = load_venue([], [])
        probe = Probe(target, venue, strictness="strict", today=reach(target, 10.0), poll=1.0, close_poll=0.25,
                      timeout=10.0, webhooks=False, quiet_window=0.0)
        evidence = probe.run()
    assert evidence.listings and all(w.complete for w in evidence.listings), \
        [(w.purpose, w.stopped) for w in evidence.listings if not w.complete]
    paged_walk = next(w for w in evidence.listings if w.rule == "listing.paging")
    assert len(paged_walk.pages) >= 3 and len(paged_walk.expected) >= 10
    assert {o.order_id for o in paged_walk.expected} <= set(walk_ids(paged_walk))
    received = sorted({o.received_at for o in paged_walk.expected})
    assert len(received) >= 2, "the late order gives the window a second receivedAt, so row order can be seen"

