"""Where "now" comes from: the wall clock, or a virtual one tests move by hand."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Protocol


class Clock(Protocol):
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
        self._now = datetime.fromisoformat(start).timestamp() if isinstance(start, str) else start
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move forward (never back) and return the new time."""
        if seconds < 0:
            raise ValueError("a clock does not go back: seconds must be >= 0")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: float | str) -> float:
        """Jump to ``when`` (not earlier than now)."""
        target = datetime.fromisoformat(when).timestamp() if isinstance(when, str) else when
        with self._lock:
            if target < self._now:
                raise ValueError("a clock does not go back: the new time is before now")
            self._now = target
            return self._now
