"""The time-warp clock: real time by default, frozen or shifted on demand.

It reads `time.time()` so freezegun moves it too. It never goes backwards:
the discrete-event schedule relies on time only moving forward.
"""

from __future__ import annotations

import math
import re
import threading
import time
from datetime import datetime, timezone
from functools import lru_cache
from types import MappingProxyType


class ClockError(ValueError):
    """A clock move that would break the schedule (e.g. going backwards)."""


def to_datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def iso(timestamp: float) -> str:
    """UTC ISO 8601 with `Z`, whole seconds: the API's datetime format."""
    return _iso_second(whole_second(timestamp))


def whole_second(timestamp: float) -> int:
    """The second `datetime.fromtimestamp` shows (it rounds microseconds half-even)."""
    fraction, whole = math.modf(timestamp)
    micros = round(fraction * 1e6)
    return int(whole) + (1 if micros >= 1_000_000 else -1 if micros < 0 else 0)


# Timestamps come in bursts within one second (an order's receivedAt, a pickup
# settling thousands of orders): strftime once per second, not per call.
@lru_cache(maxsize=1024)
def _iso_second(second: int) -> str:
    return to_datetime(second).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=1024)
def compact_stamp(second: int) -> str:
    """`yyMMddHHmmss` of a whole second (buyFromOrderReference), formatted once per second."""
    return f"{to_datetime(second):%y%m%d%H%M%S}"


class WarpClock:
    """Real time plus an offset, or a frozen instant."""

    def __init__(self, start: float | None = None, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        real = time.time()
        self._offset = 0.0 if start is None else start - real
        self._frozen_at: float | None = (real + self._offset) if frozen else None

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def now(self) -> float:
        """The mock's current time as a POSIX timestamp."""
        with self._lock:
            return self._now()

    def peek(self) -> float:
        """`now()` without the lock, for a timestamp that may be off by a move racing it (the request log's)."""
        frozen_at = self._frozen_at
        return frozen_at if frozen_at is not None else time.time() + self._offset

    def _now(self) -> float:
        return self._frozen_at if self._frozen_at is not None else time.time() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ClockError("the clock cannot move backwards: advance by a positive duration")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds
            return self._now()

    def jump(self, instant: float) -> float:
        with self._lock:
            if instant < self._now():
                raise ClockError(f"cannot jump back to {iso(instant)}: the clock is at {iso(self._now())}")
            if self._frozen_at is not None:
                self._frozen_at = instant
            else:
                self._offset = instant - time.time()
            return self._now()

    def state(self) -> tuple[float, float | None]:
        """(offset from real time, frozen instant or None): what a store writes down."""
        with self._lock:
            return self._offset, self._frozen_at

    def restore(self, offset: float, frozen_at: float | None) -> None:
        """Stand where a saved state stood: a frozen clock at its instant, a running one at its offset."""
        with self._lock:
            self._offset, self._frozen_at = offset, frozen_at

    def freeze(self) -> float:
        with self._lock:
            self._frozen_at = self._now()
            return self._frozen_at

    def resume(self) -> float:
        """Let time run again from where it stands."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None
            return self._now()


_UNITS = MappingProxyType({"s": 1, "m": 60, "h": 3600, "d": 86400})
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def duration_with_units(text: str) -> float:
    """Seconds from `90s`, `5m`, `2h`, `1d`, `1h30m`, `0.5s`: every number has a unit."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION_PART.findall(compact)
    if not parts or "".join(number + unit for number, unit in parts) != compact:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 5m, 2h, 1d or 1h30m)")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def parse_duration(text: str | float | int) -> float:
    """Seconds from a number of seconds (`90`, `"90"`) or a duration with units."""
    if isinstance(text, (int, float)):
        return float(text)
    try:
        return float(text)
    except ValueError:
        return duration_with_units(text)


def parse_instant(text: str) -> float:
    """POSIX seconds from an ISO 8601 instant; naive means UTC."""
    parsed = datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()
