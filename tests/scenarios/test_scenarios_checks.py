"""The lifecycle checks (contracts.checks.lifecycle): pure functions on observed statuses."""

from __future__ import annotations

from contracts.checks.lifecycle import (
    Observation,
    effective_states,
    lifecycle_violations,
    settles_within,
    terminal_sticky,
    transition_legality,
)


def seen(*steps: str | tuple[str, str]) -> list[Observation]:
    """Observations one second apart: "Status" is a poll, ("Status", "opId") a call's answer."""
    out = []
    for at, step in enumerate(steps):
        status, via = (step, "getOrder") if isinstance(step, str) else step
        out.append(Observation(status, float(at), via))
    return out


def checks(violations: list) -> list[str]:
    return [v.check for v in violations]


def test_the_documented_async_path_is_legal() -> None:
    timeline = seen(("Submitted", "createOrder"), "Submitted", "Scheduled", "Processing", "Issued",
                    ("Cancelled", "deleteOrder"), ("Cancelled", "deleteOrder"), "Cancelled")
    assert lifecycle_violations(timeline) == []


def test_a_poller_may_miss_intermediate_states() -> None:
    assert transition_legality(seen(("Submitted", "createOrder"), "Processing", "Draft")) == []
    assert transition_legality(seen(("Submitted", "createOrder"), "Error")) == []


def test_issued_to_processing_is_illegal_and_not_sticky() -> None:
    timeline = seen(("Submitted", "createOrder"), "Issued", "Processing", "Issued")
    legality = transition_legality(timeline, order_id="o-1")
    assert checks(legality) == ["transition_legality"]
    assert "Issued → Processing" in legality[0].message
    assert legality[0].where == "order o-1"
    sticky = terminal_sticky(timeline)
    assert checks(sticky) == ["terminal_sticky"]
    assert "was Issued" in sticky[0].message and "Processing" in sticky[0].message


def test_calls_must_be_their_own_transitions() -> None:
    assert transition_legality(seen(("Submitted", "createOrder"), "Draft", ("Issued", "confirmOrder"))) == []
    bad = transition_legality(seen(("Submitted", "createOrder"), "Issued", ("Submitted", "confirmOrder")))
    assert checks(bad) == ["transition_legality"]
    assert "confirmOrder answered status Submitted from Issued" in bad[0].message
    # unseen background moves count: the order may have settled in Draft before the confirm
    assert transition_legality(seen(("Submitted", "createOrder"), ("Issued", "confirmOrder"))) == []
    assert transition_legality(seen(("Submitted", "createOrder"), "Error", ("Submitted", "replaceOrder"),
                                    "Issued")) == []
    assert checks(transition_legality(seen(("Submitted", "createOrder"), "Issued",
                                           ("Submitted", "replaceOrder")))) == ["transition_legality"]


def test_create_must_answer_the_initial_state_unless_synchronous() -> None:
    assert checks(transition_legality(seen(("Issued", "createOrder")))) == ["transition_legality"]
    assert transition_legality(seen(("Issued", "createOrder")), include_sync=True) == []
    assert transition_legality(seen(("Draft", "createOrder"), ("Issued", "replaceOrder")), include_sync=True) == []


def test_confirm_on_issued_is_a_no_op() -> None:
    assert lifecycle_violations(seen(("Submitted", "createOrder"), "Issued", ("Issued", "confirmOrder"))) == []


def test_a_removing_delete_answers_cancelled_then_the_order_is_gone() -> None:
    timeline = seen(("Submitted", "createOrder"), "Draft", ("Cancelled", "deleteOrder"), "removed")
    assert effective_states(timeline)[-2:] == ["removed", "removed"]
    assert lifecycle_violations(timeline) == []
    back = seen(("Submitted", "createOrder"), "Error", ("Cancelled", "deleteOrder"), "Error")
    assert checks(transition_legality(back)) == ["transition_legality"]


def test_an_order_that_vanishes_without_a_delete_is_illegal() -> None:
    assert checks(transition_legality(seen(("Submitted", "createOrder"), "Issued", "removed"))) == [
        "transition_legality"]


def test_cancelled_never_changes_without_a_call() -> None:
    timeline = seen(("Submitted", "createOrder"), "Issued", ("Cancelled", "deleteOrder"), "Issued")
    assert checks(terminal_sticky(timeline)) == ["terminal_sticky"]


def test_settles_within() -> None:
    quick = [Observation("Submitted", 0, "createOrder"), Observation("Processing", 60), Observation("Issued", 70)]
    assert settles_within(quick, 120) == []
    late = settles_within(quick, 65, order_id="o-2")
    assert checks(late) == ["settles_within"] and "after 70 s" in late[0].message
    stuck = settles_within(quick[:2], 120)
    assert "still Processing" in stuck[0].message
    assert "no submission" in settles_within([Observation("Issued", 0)], 10)[0].message
    replaced = quick + [Observation("Submitted", 100, "replaceOrder"), Observation("Draft", 300)]
    assert checks(settles_within(replaced, 120)) == ["settles_within"]  # measured from the latest submission
