"""Where "now" comes from: the wall clock, or a virtual one tests move by hand."""

from __future__ import annotations

import math
import threading
import time
from datetime import UTC, datetime
from typing import Protocol

# A virtual clock stays where every derived time (a call's end, a log's creation)
# can still be written as an ISO date: datetime stops at year 9999.
LATEST = datetime(9000, 1, 1, tzinfo=UTC).timestamp()


class Clock(Protocol):
    """What the world reads the time from: ``SystemClock`` or ``VirtualClock``."""

    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    """Real time (the default)."""

    def now(self) -> float:
        return time.time()


class VirtualClock:
    """A clock that only moves when told to, so "live at t0, logged at t1" needs no sleep."""

    def __init__(self, start: float | str) -> None:
        self._now = _checked(timestamp_of(start))
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move forward (never back) and return the new time."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("a clock does not go back: seconds must be a finite number >= 0")
        with self._lock:
            self._now = _checked(self._now + seconds)
            return self._now

    def set(self, when: float | str) -> float:
        """Jump to ``when`` (not earlier than now)."""
        target = _checked(timestamp_of(when))
        with self._lock:
            if target < self._now:
                raise ValueError("a clock does not go back: the new time is before now")
            self._now = target
            return self._now

    def put_back(self, when: float) -> None:
        """Back to ``when``, where a change that failed found the clock (a world's transaction
        undoing a move its state file could not store): the only way back."""
        with self._lock:
            self._now = _checked(when)


def timestamp_of(when: float | str) -> float:
    """Epoch seconds of ``when`` (ISO-8601 text must carry a UTC offset); raises ``ValueError``."""
    if not isinstance(when, str):
        return float(when)
    moment = datetime.fromisoformat(when)  # ValueError names the bad text
    if moment.tzinfo is None:
        raise ValueError(f"{when!r} needs a UTC offset (e.g. 2026-01-15T15:00:00+00:00)")
    return moment.timestamp()


def _checked(ts: float) -> float:
    if not math.isfinite(ts) or not 0 <= ts < LATEST:
        raise ValueError("the virtual clock stays between 1970 and the year 9000")
    return ts
