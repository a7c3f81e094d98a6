"""What a generated world is derived from: the seed, the sizes, the anchor, the first id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DEFAULT_ANCHOR = "2026-01-15T15:00:00+00:00"


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
        if datetime.fromisoformat(self.anchor).tzinfo is None:
            raise ValueError("anchor must carry a UTC offset")

    @property
    def both(self) -> int:
        """How many just-ended calls sit in both stores."""
        if not self.live_calls or not self.call_logs:
            return 0
        return min(self.call_logs, max(1, self.live_calls // 10))
