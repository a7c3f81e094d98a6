"""What a generated world is derived from: the seed, the sizes, the anchor, the first id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from prosper_mock.world.clock import LATEST
from prosper_mock.world.records import MAX_CALL_ID

DEFAULT_ANCHOR = "2026-01-15T15:00:00+00:00"
# The anchors a world can have. The seeded calls (and campaigns, a day earlier) span the 31 days
# before it, so it is a month past 1970, where a virtual clock can start; appointments go three
# weeks past it, and a virtual clock started at it runs to its own limit, before the year 9000:
# every date the world derives stays one a ``datetime`` and an ISO date can hold.
EARLIEST_ANCHOR = "1970-02-01T00:00:00+00:00"
LATEST_ANCHOR = datetime.fromtimestamp(LATEST, UTC).isoformat()  # excluded


def anchor_problem(anchor: str) -> str | None:
    """Why ``anchor`` cannot date a world (``"must ..."``), or ``None``."""
    try:
        moment = datetime.fromisoformat(anchor)
    except (TypeError, ValueError):
        return f"must be an ISO-8601 time with a UTC offset, got {anchor!r}"
    if moment.tzinfo is None:
        return "must carry a UTC offset"
    if (
        not datetime.fromisoformat(EARLIEST_ANCHOR)
        <= moment
        < datetime.fromisoformat(LATEST_ANCHOR)
    ):
        return f"must be from {EARLIEST_ANCHOR} to before {LATEST_ANCHOR}, got {anchor!r}"
    return None


@dataclass(frozen=True)
class WorldRecipe:
    """Everything a generated world is derived from."""

    seed: int = 0
    live_calls: int = 25
    call_logs: int = 250
    anchor: str = DEFAULT_ANCHOR
    first_id: int = 1000
    # Targets waiting in the campaigns with no call yet (what a launch by count picks from).
    pending_targets: int = 40

    def __post_init__(self) -> None:
        if self.live_calls < 0 or self.call_logs < 0 or self.pending_targets < 0:
            raise ValueError("live_calls, call_logs and pending_targets must be >= 0")
        if self.first_id < 1:
            raise ValueError("first_id must be >= 1")
        if self.first_id + self.live_calls + self.call_logs - 1 > MAX_CALL_ID:
            raise ValueError(
                f"first_id + live_calls + call_logs - 1 must be at most {MAX_CALL_ID}, "
                "the largest call id"
            )
        problem = anchor_problem(self.anchor)
        if problem is not None:
            raise ValueError(f"anchor {problem}")

    @property
    def both(self) -> int:
        """How many just-ended calls sit in both stores."""
        if not self.live_calls or not self.call_logs:
            return 0
        return min(self.call_logs, max(1, self.live_calls // 10))
