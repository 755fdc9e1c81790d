"""When webhook events arrived, in words a target's developer can line up with their own logs.

An event check's failure says which POSTs carried the event, when each
arrived (the receiver's clock), what getOrder said about the order at that
moment, and where that falls among the run's calls: "0.004 s after
confirmOrder answered" is what tells a duplicate from an event the confirm
caused. Call times are on the target's clock (`Exchange.at`); they are put
next to arrival times only when that clock is the receiver's (the answers'
`Date` headers agree with it), never on a warped mock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from contracts.checks.webhooks import announcement, event_payload

if TYPE_CHECKING:
    from contracts.target import Exchange
    from contracts.verify.evidence import OrderHistory

CLOCK_TOLERANCE = 3.0  # seconds: a Date header has whole seconds, and two hosts' clocks drift a little
MOVING_CALLS = ("createOrder", "replaceOrder", "confirmOrder", "deleteOrder")


def stamp(moment: datetime) -> str:
    """`2026-05-15T09:30:05.123Z`: milliseconds, because two copies of an event arrive milliseconds apart."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def same_clock(exchanges: Iterable[Exchange]) -> bool:
    """Whether the calls' recorded times are wall-clock times (each answer's `Date` header agrees)."""
    agreeing = None
    for exchange in exchanges:
        date = _date_header(exchange)
        if date is None or not exchange.at:
            continue
        if abs(exchange.at - date) > CLOCK_TOLERANCE:
            return False
        agreeing = True
    return bool(agreeing)


def _date_header(exchange: Exchange) -> float | None:
    value = next((v for k, v in exchange.response_headers.items() if k.lower() == "date"), None)
    try:
        return parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None


def arrival_lines(events: list[Any], history: OrderHistory | None = None) -> tuple[str, ...]:
    """One line per announcement among `events`: its copies, the POSTs that carried them, when each arrived.

    With the order's `history`, each arrival is placed among the calls that
    moved the order, and the calls are listed with their times.
    """
    calls = [e for e in (history.exchanges if history else []) if e.operation in MOVING_CALLS and e.at]
    relative = same_clock(history.exchanges) if history else False
    groups: dict[tuple[str, str], list[Any]] = {}
    for event in events:
        groups.setdefault(announcement(event), []).append(event)
    lines = [_group_line(group, calls if relative else []) for group in groups.values()]
    if calls:
        clock = "" if relative else " (the target's clock, not the receiver's)"
        lines.append("calls" + clock + ": " + ", ".join(f"{e.operation} answered {e.status} at "
                                                        f"{stamp(datetime.fromtimestamp(e.at, timezone.utc))}"
                                                        for e in calls))
    return tuple(lines)


def _group_line(group: list[Any], calls: list[Exchange]) -> str:
    payload = event_payload(group[0])
    posts = sorted({sequence for sequence in map(_sequence, group) if sequence is not None})
    head = (f"event {payload.get('status')!r} (buyFromOrderReference {payload.get('buyFromOrderReference')!r}): "
            f"{len(group)} cop{'y' if len(group) == 1 else 'ies'} in {len(posts)} POST(s)")
    return head + ": " + "; ".join(arrival(e, calls) for e in group)


def arrival(event: Any, calls: list[Exchange] | None = None) -> str:
    """`POST #4 values[0] at …Z, 0.004 s after confirmOrder answered (getOrder on arrival: 'Issued')`."""
    calls = calls or []
    delivery = getattr(event, "delivery", None)
    if delivery is None:
        return "arrival not recorded"
    text = f"POST #{delivery.sequence} {getattr(event, 'where', '')} at {stamp(delivery.received_at)}"
    at = delivery.received_at.timestamp()
    before = [c for c in calls if c.at <= at]
    if before:
        text += f", {at - before[-1].at:.3f} s after {before[-1].operation} answered"
    elif calls:
        text += f", before {calls[0].operation} answered"
    seen = getattr(event, "status_at_arrival", None)
    return text + (f" (getOrder on arrival: {seen!r})" if seen is not None else "")


def _sequence(event: Any) -> int | None:
    delivery = getattr(event, "delivery", None)
    return getattr(delivery, "sequence", None)
