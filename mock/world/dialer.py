"""Launched calls' lives on the clock: each maps its flow's steps, then ends.

A launched call lasts a seeded 1 to 10 minutes; its steps are mapped at evenly spaced
moments of that time, then it ends (``life``, the schedule the simulation gives its calls
too). The world applies what is due whenever it is told time moved (``World.catch_up``,
which ``LocalDriver`` calls on every clock move and tick) and before it answers a campaign
read or write, so a launched call is live at once and ends on time without ``--simulate``.

The dialer keeps only what a restart needs: per running call its id, when it began and how
many steps its flow has. What it had played is in the call's row (its ``step_index``), so a
resumed dialer plays the rest, and what fell due while the mock was down at once.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import Any

from prosper_mock.world.clock import LATEST
from prosper_mock.world.errors import InvalidChange
from prosper_mock.world.generate.random import Draw
from prosper_mock.world.records import call_id_problem

END = -1  # the step number of a call's end event


def life(started: float, duration: float, steps: int, done: int = 0) -> list[tuple[float, int]]:
    """A call's remaining events ``(at, step)``: steps ``done + 1 .. steps`` evenly spread
    over ``duration`` from ``started``, then its end ``(started + duration, END)``."""
    left = max(0, steps - done)
    events = [(started + duration * m / (left + 1), done + m) for m in range(1, left + 1)]
    events.append((started + duration, END))
    return events


def seeded_duration(seed: int, name: str, k: int) -> float:
    """A seeded 1 to 10 minutes (in seconds) for call ``k``."""
    return 60.0 + Draw(seed, name, k).below(540)


class Dialer:
    """The events of the calls a world launched, due in time order."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._calls: dict[int, tuple[float, int]] = {}  # call id -> (began, steps in its flow)
        self._queue: list[tuple[float, int, int]] = []  # (at, call id, step or END)

    def __len__(self) -> int:
        return len(self._calls)

    def add(self, call_log_id: int, began: float, steps: int, done: int = 0) -> None:
        """Schedule a launched call's life (``done``: steps it has played already)."""
        self._calls[call_log_id] = (began, steps)
        duration = seeded_duration(self.seed, "dial-length", call_log_id)
        for at, step in life(began, duration, steps, done):
            heapq.heappush(self._queue, (at, call_log_id, step))

    def next_at(self) -> float | None:
        """When the next event is due (``None``: no launched call is running)."""
        return self._queue[0][0] if self._queue else None

    def pop_due(self, now: float) -> tuple[float, int, int] | None:
        """The next event due by ``now`` (removed), or ``None``."""
        if not self._queue or self._queue[0][0] > now:
            return None
        event = heapq.heappop(self._queue)
        if event[2] == END:
            self._calls.pop(event[1], None)
        return event

    def running(self, call_log_id: int) -> bool:
        return call_log_id in self._calls

    def saved(self) -> list[list[Any]]:
        """``[[call id, began, steps], ...]``: what a restart needs (``resume``)."""
        return [[cid, began, steps] for cid, (began, steps) in sorted(self._calls.items())]

    def copy(self) -> Dialer:
        twin = Dialer(self.seed)
        twin._calls = dict(self._calls)
        twin._queue = list(self._queue)
        return twin

    def reset(self) -> None:
        self._calls.clear()
        self._queue.clear()


def parse_saved(raw: Any) -> list[tuple[int, float, int]]:
    """A dialer's ``saved()`` from a state file, checked; raises ``InvalidChange``."""
    if not isinstance(raw, list):
        raise InvalidChange("bad changes: dialer must be an array")
    found = []
    for i, item in enumerate(raw):
        ok = (
            isinstance(item, list)
            and len(item) == 3
            and all(not isinstance(v, bool) for v in item)
            and call_id_problem(item[0]) is None
            and isinstance(item[1], int | float)
            and 0 <= item[1] < LATEST  # a time a virtual clock can show (no NaN, no overflow)
            and isinstance(item[2], int)
        )
        if not ok:
            raise InvalidChange(f"bad changes: dialer[{i}] must be [call id, began, steps]")
        found.append((item[0], float(item[1]), item[2]))
    return found


def steps_done(flow: Mapping[str, Any]) -> int:
    """How many steps a row's ``flow`` says were played."""
    try:
        return int(flow.get("step_index", 0) or 0)
    except (TypeError, ValueError):
        return 0
