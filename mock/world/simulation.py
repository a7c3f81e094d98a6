"""Lifecycle simulation: calls start, map their flow's variables step by step, and end.

The history is a function of the seed and the clock alone: call *k* starts at
``start + k * 60 / rate`` (plus a seeded jitter), lasts a seeded 1 to 10 minutes,
maps each step's variables at evenly spaced moments, and then ends. The live
calls the world holds when the simulation begins (the seeded ones) live the rest
of their lives the same way: from ``start``, a seeded 1 to 10 minutes for the
steps they have left, then they end (one that had just ended, its log already
there, leaves the live store). The mock
calls ``advance_to(now)`` whenever time moves (a background tick for the real
clock, each ``/__mock/clock/advance`` for the virtual one), and every event up
to ``now`` happens in time order, at its own time, so the same seed and the
same clock give the same world whether time moved in one jump or in many.
"""

from __future__ import annotations

import contextlib
import heapq
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prosper_mock.world.dialer import END, life, seeded_duration
from prosper_mock.world.errors import InvalidChange, WorldError
from prosper_mock.world.generate.random import Draw
from prosper_mock.world.model import World
from prosper_mock.world.records import LiveCall

# Each simulated call costs about a millisecond to start, map and end: a clock
# move is refused when catching up would start more calls than this.
MAX_STARTS_PER_MOVE = 2000


@dataclass(order=True)
class _Event:
    at: float
    seq: int
    kind: str = field(compare=False)  # "start", "step" or "end"
    k: int = field(compare=False)  # a started call's number; -call_log_id for a seeded call
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
        self._first_k = 0  # the k that starts at ``start`` (a resumed schedule goes on from there)
        self._next_k = 0
        # call k -> (call_log_id, when its life in the simulation began, steps done by then)
        self._calls: dict[int, tuple[int, float, int]] = {}
        self._applied = start  # every event up to this time has happened
        # Re-entrant: the state file asks for ``saved()`` while ``advance_to`` notifies.
        self._lock = threading.RLock()
        for live in list(world.live_calls):
            self._adopt(live, start, int(live.flow.get("step_index", 0) or 0), after=start)

    def _push(self, at: float, kind: str, k: int, step: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._queue, _Event(at, self._seq, kind, k, step))

    def _start_time(self, k: int) -> float:
        jitter = Draw(self.seed, "sim-start", k).below(1000) / 1000 * self.interval * 0.5
        return self.start + (k - self._first_k) * self.interval + jitter

    def _push_life(self, k: int, started: float, steps: int, after: float, done: int = 0) -> None:
        """Queue call k's step and end events that fall after ``after``: the steps after
        ``done`` up to ``steps``, evenly spread over its seeded duration from ``started``
        (``dialer.life``, the schedule launched calls follow too)."""
        for at, step in life(started, seeded_duration(self.seed, "sim-length", k), steps, done):
            if step == END:
                self._push(at, "end", k)
            elif at > after:
                self._push(at, "step", k, step)

    def _adopt(self, live: LiveCall, began: float, done: int, after: float) -> None:
        """Give a call the simulation did not start (a seeded one) the rest of its life."""
        k = -live.call_log_id
        self._calls[k] = (live.call_log_id, began, done)
        self._push_life(k, began, self._steps_to_play(live, done), after, done)

    def _steps_to_play(self, live: LiveCall, done: int) -> int:
        """The last step the simulation plays for a call: its flow's, when the generator
        knows that flow for the id (a loaded world's rows may follow another: they only end)."""
        total = int(live.flow.get("steps_total", 0) or 0)
        if self.world.generator.plan(live.call_log_id).flow.id != live.flow.get("id"):
            return done
        return total

    def saved(self) -> dict[str, Any]:
        """What a restart needs to go on (``resume``): the calls still running, and how far;
        and the schedule of starts (``start``, ``first_k``), for ``resume(same_schedule=True)``."""
        with self._lock:
            return {
                "applied": self._applied,
                "start": self.start,
                "first_k": self._first_k,
                "next_k": self._next_k,
                # [k, id, began] for a started call; a seeded one adds the steps it had done.
                "calls": [
                    [k, cid, began, *([done] if k < 0 else [])]
                    for k, (cid, began, done) in sorted(self._calls.items())
                ],
            }

    def resume(self, saved: Mapping[str, Any], *, same_schedule: bool = False) -> None:
        """Go on from a previous run's ``saved()`` (before the first ``advance_to``): its calls
        still live, seeded or started, keep their schedule (steps and end at their own times,
        played at once if those passed while the mock was down); new calls start from this
        simulation's ``start``, numbered after the old ones. The live calls this simulation
        found are the previous run's: those it had not ended are in ``saved``.

        ``same_schedule``: new calls start on ``saved``'s schedule too (its ``start``), as if
        this simulation had played it: how every process of a shared world follows the one
        that played it (a ``saved`` without a schedule keeps this one's).

        A malformed ``saved`` (a hand-edited state file) raises ``ValueError``.
        """
        try:
            applied = float(saved["applied"])
            next_k = int(saved["next_k"])
            calls = [
                (int(c[0]), int(c[1]), float(c[2]), int(c[3]) if len(c) > 3 else 0)
                for c in saved["calls"]
            ]
            schedule = None
            if same_schedule and "start" in saved:
                schedule = (float(saved["start"]), int(saved["first_k"]))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"simulation: not a saved simulation ({exc!r})") from None
        with self._lock:
            self._queue.clear()
            self._calls.clear()
            self._first_k = self._next_k = next_k
            if schedule is not None:
                self.start, self._first_k = schedule
                self._applied = applied
            for k, call_log_id, began, done in calls:
                live = self.world.live_calls.get(call_log_id)
                if live is None:  # ended or deleted since: nothing left to play
                    continue
                if k < 0:
                    self._adopt(live, began, done, after=applied)
                    continue
                self._calls[k] = (call_log_id, began, 0)
                steps = int(live.flow.get("steps_total", 0) or 0)
                self._push_life(k, began, steps, after=applied)

    def starts_until(self, now: float) -> int:
        """How many calls would start if time moved to ``now``."""
        if now < self.start:
            return 0
        # Jitter only delays a start, so this counts every start up to now (and maybe one more).
        started = self._next_k - self._first_k
        return max(0, int((now - self.start) // self.interval) + 1 - started)

    def check_move(self, now: float) -> None:
        """Refuse a clock move that would make catching up block the server for long."""
        starts = self.starts_until(now)
        if starts > MAX_STARTS_PER_MOVE:
            raise InvalidChange(
                f"moving the clock there would start {starts} simulated calls at once (at most "
                f"{MAX_STARTS_PER_MOVE} per move): move it in smaller steps, e.g. "
                f"{int(MAX_STARTS_PER_MOVE * self.interval)} seconds",
            )

    def advance_to(self, now: float) -> int:
        """Apply every event up to ``now``; returns how many happened.

        The changes are one batch for the world's listeners: a state file is
        written once per move, not once per event.
        """
        done = 0
        with self._lock, self.world.batch():
            self.world.on_rollback(self._undo_point())
            while self._start_time(self._next_k) <= now:
                self._push(self._start_time(self._next_k), "start", self._next_k)
                self._next_k += 1
            while self._queue and self._queue[0].at <= now:
                event = heapq.heappop(self._queue)
                # The control API may have ended or deleted the call first.
                with contextlib.suppress(WorldError):
                    self._apply(event)
                done += 1
            self._applied = max(self._applied, now)
        return done

    def _undo_point(self) -> Callable[[], None]:
        """What puts the schedule back as it is now, if the world's change fails (its state
        file cannot be written): the events undone in the world are then played again."""
        queue, calls = list(self._queue), dict(self._calls)
        seq, next_k, applied = self._seq, self._next_k, self._applied

        def undo() -> None:
            self._queue, self._calls = queue, calls
            self._seq, self._next_k, self._applied = seq, next_k, applied

        return undo

    def _apply(self, event: _Event) -> None:
        world, k = self.world, event.k
        if event.kind == "start":
            call = world.start_call(at=event.at)
            self._calls[k] = (call.call_log_id, event.at, 0)
            steps = int(call.flow.get("steps_total", 0) or 0)
            self._push_life(k, event.at, steps, after=event.at)
            return
        call_log_id = self._calls[k][0]
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
        del self._calls[k]
        live = world.live_calls.get(call_log_id)
        if live is None:
            return
        if live.status == "ended" and call_log_id in world.call_logs:
            world.delete_live_call(call_log_id)  # it had ended already: its log is there
        else:
            world.end_call(call_log_id, at=event.at)
