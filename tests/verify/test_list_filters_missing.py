"""list_filters_honoured: a status filter that leaves out an order the run knows to be in that status fails.

Before, only rows outside the filter failed it, so a target answering an
empty page for `status=Draft,Error` passed. The cases are built as
test_probe_checks builds them: the probe's calls, then a list.
"""

from __future__ import annotations

from contracts.checks.registry import Registry
from contracts.verify.evidence import CheckContext, Evidence
from contracts.verify.judge import judge
from test_probe_checks import DRAFT_GET, ISSUED_GET, VENUE, call, created, history, listed, order, row, run


def verdicts(evidence: Evidence) -> set[str]:
    outcomes = judge(Registry.collect().select(["list_filters_honoured"], "documented"),
                     CheckContext("documented", VENUE, evidence, 70.0))
    return {o.verdict for o in outcomes}


def test_an_order_in_the_status_asked_for_left_out_fails() -> None:
    assert verdicts(run(history(created(), ISSUED_GET()), exchanges=(listed([], {"status": "Issued"}),))) == {"failed"}


def test_an_order_in_one_of_the_statuses_of_a_comma_list_left_out_fails() -> None:
    settled = history(created(False), DRAFT_GET())
    assert verdicts(run(settled, exchanges=(listed([], {"status": "Draft,Error"}),))) == {"failed"}


def test_the_order_listed_passes() -> None:
    listing = listed([row()], {"status": "Issued"})
    assert verdicts(run(history(created(), ISSUED_GET()), exchanges=(listing,))) == {"passed"}


def test_an_order_in_flight_at_the_call_may_be_left_out() -> None:
    """Its status at the list is not known (it may have moved on since the last look)."""
    listing = listed([], {"status": "Issued"})
    later = history(created(), ISSUED_GET())
    later.observations[-1] = type(later.observations[-1])("Issued", listing.at + 10, "getOrder")
    assert verdicts(run(later, exchanges=(listing,))) == {"passed"}


def test_a_page_with_more_pages_after_it_is_not_held_to_it() -> None:
    page = call("listOrdersByPartner", 200, {"morePages": True, "nextPageKey": "2", "nextPageURL": "u", "data": []},
                query={"status": "Issued"})
    assert verdicts(run(history(created(), ISSUED_GET()), exchanges=(page,))) == {"passed"}


def test_a_removed_order_is_not_expected() -> None:
    removed = history(created(False), DRAFT_GET(), call("deleteOrder", 200, order("Cancelled")))
    assert verdicts(run(removed, exchanges=(listed([], {"status": "Cancelled,Draft"}),))) == {"passed"}
