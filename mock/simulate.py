"""Lifecycle simulation: calls start, map their flow's variables step by step, and end.

The history is a function of the seed and the clock alone: call *k* starts at
``start + k * 60 / rate`` (plus a seeded jitter), lasts a seeded 1 to 10 minutes,
maps each step's variables at evenly spaced moments, and then ends. The mock
calls ``advance_to(now)`` whenever time moves (a background tick for the real
clock, each ``/__mock/clock/advance`` for the virtual one), and every event up
to ``now`` happens in time order, at its own time, so the same seed and the
same clock give the same world whether time moved in one jump or in many.
"""

from __future__ import annotations

import contextlib
import heapq
import threading
from dataclasses import dataclass, field

from .generate import Draw
from .world import World, WorldError

# Each simulated call costs about a millisecond to start, map and end: a clock
# move is refused when catching up would start more calls than this.
MAX_STARTS_PER_MOVE = 2000


@dataclass(order=True)
class _Event:
    at: float
    seq: int
    kind: str = field(compare=False)  # "start", "step" or "end"
    k: int = field(compare=False)
    step: int = field(default=0, compare=False)


class Simulation:
    """Keeps ``world`` moving: ``rate`` new calls a minute from ``start`` (epoch seconds)."""

    def __init__(self, world: World, seed: int, rate: float, start: float) -> None:
        if rate <= 0:
            raise ValueError("the simulation rate must be > 0 calls a minute")
        self.world = world
        self.seed = seed
        self.interval = 60.0 / rate
        self.start = start
        self._queue: list[_Event] = []
        self._seq = 0
        self._next_k = 0
        self._ids: dict[int, int] = {}  # call k -> call_log_id
        self._lock = threading.Lock()

    def _push(self, at: float, kind: str, k: int, step: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._queue, _Event(at, self._seq, kind, k, step))

    def _start_time(self, k: int) -> float:
        jitter = Draw(self.seed, "sim-start", k).below(1000) / 1000 * self.interval * 0.5
        return self.start + k * self.interval + jitter

    def starts_until(self, now: float) -> int:
        """How many calls would start if time moved to ``now``."""
        if now < self.start:
            return 0
        # Jitter only delays a start, so this counts every start up to now (and maybe one more).
        return max(0, int((now - self.start) // self.interval) + 1 - self._next_k)

    def check_move(self, now: float) -> None:
        """Refuse a clock move that would make catching up block the server for long."""
        starts = self.starts_until(now)
        if starts > MAX_STARTS_PER_MOVE:
            raise WorldError(
                f"moving the clock there would start {starts} simulated calls at once (at most "
                f"{MAX_STARTS_PER_MOVE} per move): move it in smaller steps, e.g. "
                f"{int(MAX_STARTS_PER_MOVE * self.interval)} seconds",
                422,
            )

    def advance_to(self, now: float) -> int:
        """Apply every event up to ``now``; returns how many happened.

        The changes are one batch for the world's listeners: a state file is
        written once per move, not once per event.
        """
        done = 0
        with self._lock, self.world.batch():
            while self._start_time(self._next_k) <= now:
                self._push(self._start_time(self._next_k), "start", self._next_k)
                self._next_k += 1
            while self._queue and self._queue[0].at <= now:
                event = heapq.heappop(self._queue)
                # The control API may have ended or deleted the call first.
                with contextlib.suppress(WorldError):
                    self._apply(event)
                done += 1
        return done

    def _apply(self, event: _Event) -> None:
        world, k = self.world, event.k
        if event.kind == "start":
            call = world.start_call(at=event.at)
            self._ids[k] = call.call_log_id
            steps = int(call.flow.get("steps_total", 0) or 0)
            duration = 60 + Draw(self.seed, "sim-length", k).below(540)
            for step in range(1, steps + 1):
                self._push(event.at + duration * step / (steps + 1), "step", k, step)
            self._push(event.at + duration, "end", k)
            return
        call_log_id = self._ids[k]
        if event.kind == "step":
            live = world.live_calls.get(call_log_id)
            if live is None:
                return
            target = world.generator.live_call(call_log_id, steps=event.step)
            new = {n: v for n, v in target.variables.items() if live.variables.get(n) != v}
            # The row moves on with its flow: the step, what was said, on hold or not.
            progress = {
                "flow": target.flow,
                "transcript": target.transcript,
                "status": target.status,
            }
            world.map_variables(call_log_id, new, at=event.at, progress=progress)
            return
        if world.live_calls.get(call_log_id) is not None:
            world.end_call(call_log_id, at=event.at)
