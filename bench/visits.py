"""Visit slots for benchmark orders (no heavy imports: the load generator uses it)."""

from __future__ import annotations

from datetime import date, timedelta

FIRST_VISIT = date(2026, 6, 1)


def visit(index: int) -> tuple[str, str]:
    """A (visitDate, visitTime) for the index-th order: 8 admission hours a day,
    4,000 orders of 1 ticket per slot, under the catalog's 10,000 per slot
    (a sold-out slot would fail issuance and leave orders in Error)."""
    day = FIRST_VISIT + timedelta(days=index // 32_000)
    return day.isoformat(), f"{9 + index % 8:02d}:30:00"
