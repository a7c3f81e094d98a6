"""The one text form of an instant the kit writes: ISO-8601, UTC, milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_milliseconds(timestamp: float) -> str:
    """``2026-01-15T15:00:00.000+00:00`` for a POSIX timestamp."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
