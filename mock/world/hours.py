"""A target's operating hours (upstream's ``WeekSchedule``): when a call may be placed.

A schedule names, per weekday (``monday`` ... ``sunday``), intervals ``{"start": "HH:MM",
"end": "HH:MM"}`` in its time zone ``tz`` (default ``US/Eastern``, as upstream's). ``next_open``
moves a moment to the first one inside an interval; a schedule that is absent, that opens on
no day, or that cannot be read (an unknown zone, a time that is not ``HH:MM``) puts no limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_TZ = "US/Eastern"


def _clock_time(text: Any) -> time | None:
    if not isinstance(text, str):
        return None
    if text in ("24:00", "24:00:00"):
        return time.max
    try:
        return time.fromisoformat(text)
    except ValueError:
        return None


def intervals(schedule: Mapping[str, Any]) -> dict[int, list[tuple[time, time]]] | None:
    """Per weekday (0 = Monday), its ``(start, end)`` intervals; ``None`` when unreadable."""
    found: dict[int, list[tuple[time, time]]] = {}
    for day, name in enumerate(DAYS):
        raw = schedule.get(name) or []
        if not isinstance(raw, list):
            return None
        for item in raw:
            if not isinstance(item, Mapping):
                return None
            start, end = _clock_time(item.get("start")), _clock_time(item.get("end"))
            if start is None or end is None:
                return None
            if start < end:
                found.setdefault(day, []).append((start, end))
    return {day: sorted(spans) for day, spans in found.items()}


def next_open(at: float, schedule: Mapping[str, Any] | None) -> float:
    """The first moment from ``at`` (seconds since the epoch) inside the schedule."""
    if not schedule:
        return at
    spans = intervals(schedule)
    try:
        zone = ZoneInfo(str(schedule.get("tz") or DEFAULT_TZ))
    except (ZoneInfoNotFoundError, ValueError):
        return at
    if not spans:
        return at
    local = datetime.fromtimestamp(at, zone)
    for ahead in range(8):  # every weekday once, and today again a week on
        day = (local + timedelta(days=ahead)).date()
        for start, end in spans.get(day.weekday(), ()):
            opens = datetime.combine(day, start, zone)
            closes = datetime.combine(day, end, zone)
            if closes.timestamp() > at:
                return max(at, opens.timestamp())
    return at
