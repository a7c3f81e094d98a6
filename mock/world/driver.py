"""One way to change a world, in this process or in a running mock: the ``WorldDriver``.

``WorldDriver`` is the protocol; ``LocalDriver`` implements it over a ``World`` (and the
``Simulation`` that moves with its clock, if any), and
``prosper_mock.control.driver.RemoteDriver`` over a running mock's control API. The
control routes answer with ``LocalDriver``, so both give the same answers, and the
pytest plugin and the contract suites drive either one the same way.

Answers are the control API's JSON (``CallAnswer``, ``CallLogAnswer``, ``ClockInfo``,
the world's stats); a change the world refuses raises a ``WorldError`` subclass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict

from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.world.clock import VirtualClock, timestamp_of
from prosper_mock.world.documents import (
    CAMPAIGN_NOT_FOUND,
    TARGET_NOT_FOUND,
    added_document,
    launched_document,
    target_document,
)
from prosper_mock.world.errors import (
    ClockNotSettable,
    InvalidChange,
    UnknownCampaign,
    UnknownTarget,
)
from prosper_mock.world.flatten import snapshot
from prosper_mock.world.model import World
from prosper_mock.world.records import to_dict

if TYPE_CHECKING:
    from prosper_mock.world.simulation import Simulation


class CallAnswer(TypedDict):
    """A live call as stored (``call``) and as a client would see it (``snapshot``)."""

    call: dict[str, Any]
    snapshot: dict[str, Any]


class CallLogAnswer(TypedDict):
    """A finished call as stored (``call_log``) and as a client would see it (``snapshot``)."""

    call_log: dict[str, Any]
    snapshot: dict[str, Any]


class ClockInfo(TypedDict):
    """The mock's clock: ``virtual`` or ``system``, and its time (ISO-8601, UTC)."""

    mode: Literal["virtual", "system"]
    now: str


class WorldDriver(Protocol):
    """The changes a test makes to a mock's world, wherever the mock runs.

    Each method is one control API operation (named by its ``operationId``) and
    answers what that operation answers; refusals raise ``WorldError``.
    """

    def start_call(self, **fields: Any) -> CallAnswer:
        """Start a live call; given fields win, the rest is generated from the seed."""
        ...

    def map_variables(self, call_log_id: int, /, **variables: Any) -> CallAnswer:
        """Set or change variables on a live call."""
        ...

    def end_call(
        self, call_log_id: int, /, keep_live: bool = False, **fields: Any
    ) -> CallLogAnswer:
        """End a live call (``keep_live``: its live row stays too, as upstream's does a moment)."""
        ...

    def delete_live_call(self, call_log_id: int) -> None:
        """Remove a live call."""
        ...

    def add_call_log(self, **fields: Any) -> CallLogAnswer:
        """Add a finished call; given fields win, the rest is generated."""
        ...

    def delete_call_log(self, call_log_id: int) -> None:
        """Remove a finished call."""
        ...

    def reset(self) -> dict[str, Any]:
        """Back to the seeded (or loaded) world; answers its stats."""
        ...

    def load(self, world: dict[str, Any]) -> dict[str, Any]:
        """Replace the world with a world file's contents (the new reset baseline)."""
        ...

    def dump(self) -> dict[str, Any]:
        """The world as a world file."""
        ...

    def clock(self) -> ClockInfo:
        """The clock's mode and time."""
        ...

    def advance_clock(self, seconds: float) -> ClockInfo:
        """Move a virtual clock forward; the simulation, if any, catches up."""
        ...

    def set_clock(self, now: str) -> ClockInfo:
        """Set a virtual clock to ``now`` (ISO-8601 with a UTC offset; never backwards)."""
        ...

    def now(self) -> float:
        """The clock's time in epoch seconds (to the millisecond at least)."""
        ...

    def campaigns(self) -> list[dict[str, Any]]:
        """Every campaign: its id, name, flow, kind of target and the variables it takes."""
        ...

    def add_targets(
        self,
        campaign_id: str,
        targets: list[dict[str, Any]],
        *,
        launch: bool = False,
        allow_duplicates: bool = True,
    ) -> dict[str, Any]:
        """Add targets to a campaign (and call them, with ``launch``), as
        ``POST /api/v1/campaigns/{id}/targets`` does; its answer."""
        ...

    def launch(
        self,
        campaign_id: str,
        *,
        target_ids: list[str] | None = None,
        count: int | None = None,
        prioritize_oldest: bool = False,
    ) -> dict[str, Any]:
        """Call targets, as ``POST /api/v1/campaigns/{id}/calls`` does; its answer."""
        ...

    def target(self, target_id: str) -> dict[str, Any]:
        """A target as ``GET /api/v1/targets/{id}`` answers it; ``UnknownTarget`` if none."""
        ...


class LocalDriver:
    """``WorldDriver`` over a ``World`` in this process, and the simulation that moves with it.

    Moving the clock is one operation: the simulation (if any) is checked first (a move
    that would start too many calls is refused), then the clock moves, then the
    simulation catches up, and the world's listeners (the state file) hear of it once; if
    they fail, the clock is back where it was and nothing of the move stands.
    """

    def __init__(self, world: World, simulation: Simulation | None = None) -> None:
        self.world = world
        self.simulation = simulation

    def start_call(self, **fields: Any) -> CallAnswer:
        call = self.world.start_call(fields)
        return {"call": to_dict(call), "snapshot": snapshot("live_calls", call)}

    def map_variables(self, call_log_id: int, /, **variables: Any) -> CallAnswer:
        call = self.world.map_variables(call_log_id, variables)
        return {"call": to_dict(call), "snapshot": snapshot("live_calls", call)}

    def end_call(
        self, call_log_id: int, /, keep_live: bool = False, **fields: Any
    ) -> CallLogAnswer:
        log = self.world.end_call(call_log_id, fields, keep_live=keep_live)
        return {"call_log": to_dict(log), "snapshot": snapshot("call_logs", log)}

    def delete_live_call(self, call_log_id: int) -> None:
        self.world.delete_live_call(call_log_id)

    def add_call_log(self, **fields: Any) -> CallLogAnswer:
        log = self.world.add_call_log(fields)
        return {"call_log": to_dict(log), "snapshot": snapshot("call_logs", log)}

    def delete_call_log(self, call_log_id: int) -> None:
        self.world.delete_call_log(call_log_id)

    def reset(self) -> dict[str, Any]:
        self.world.reset()
        return dict(self.world.stats())

    def load(self, world: Mapping[str, Any]) -> dict[str, Any]:
        self.world.load(world)
        return dict(self.world.stats())

    def dump(self) -> dict[str, Any]:
        return self.world.dump()

    def clock(self) -> ClockInfo:
        mode: Literal["virtual", "system"] = (
            "virtual" if isinstance(self.world.clock, VirtualClock) else "system"
        )
        return {"mode": mode, "now": iso_milliseconds(self.world.clock.now())}

    def now(self) -> float:
        return self.world.clock.now()

    def campaigns(self) -> list[dict[str, Any]]:
        return [
            dataclasses.asdict(c) | {"variables": list(c.variables)} for c in self.world.campaigns()
        ]

    def add_targets(
        self,
        campaign_id: str,
        targets: list[dict[str, Any]],
        *,
        launch: bool = False,
        allow_duplicates: bool = True,
    ) -> dict[str, Any]:
        try:
            added = self.world.add_targets(
                campaign_id, targets, launch=launch, allow_duplicates=allow_duplicates
            )
        except UnknownCampaign:  # worded as the vendored API answers it
            raise UnknownCampaign(CAMPAIGN_NOT_FOUND) from None
        return added_document(added)

    def launch(
        self,
        campaign_id: str,
        *,
        target_ids: list[str] | None = None,
        count: int | None = None,
        prioritize_oldest: bool = False,
    ) -> dict[str, Any]:
        try:
            launched = self.world.launch(
                campaign_id,
                target_ids=target_ids,
                count=count,
                prioritize_oldest=prioritize_oldest,
            )
        except UnknownCampaign:
            raise UnknownCampaign(CAMPAIGN_NOT_FOUND) from None
        return launched_document(launched)

    def target(self, target_id: str) -> dict[str, Any]:
        found = self.world.target(target_id)
        if found is None:
            raise UnknownTarget(TARGET_NOT_FOUND)
        return target_document(found)

    def advance_clock(self, seconds: float) -> ClockInfo:
        clock = self._virtual()
        if self.simulation is not None:
            self.simulation.check_move(clock.now() + seconds)
        with self.world.batch():  # the move and what it sets off: all stored, or none made
            try:
                clock.advance(seconds)
            except ValueError as exc:
                raise InvalidChange(str(exc)) from None
            self._clock_moved()
        return self.clock()

    def set_clock(self, now: str) -> ClockInfo:
        clock = self._virtual()
        with self.world.batch():
            try:
                if self.simulation is not None:
                    self.simulation.check_move(timestamp_of(now))
                clock.set(now)
            except ValueError as exc:
                raise InvalidChange(str(exc)) from None
            self._clock_moved()
        return self.clock()

    def catch_up(self) -> int:
        """Let the launched calls (``World.catch_up``) and the simulation (if any) catch up
        with the clock; returns how many of their events happened. Called on every move of a
        virtual clock and on the tick that follows the system clock."""
        done = self.world.catch_up()
        if self.simulation is None:
            return done
        return done + self.simulation.advance_to(self.world.clock.now())

    def freeze_clock(self) -> None:
        """A system clock becomes a virtual one, stopped at this moment (a virtual one stays).

        The pytest plugin does this for a test that moves time; it puts the clock back after.
        """
        if not isinstance(self.world.clock, VirtualClock):
            self.world.clock = VirtualClock(self.world.clock.now())

    def _virtual(self) -> VirtualClock:
        clock = self.world.clock
        if not isinstance(clock, VirtualClock):
            raise ClockNotSettable(
                "the clock is the system clock: start the mock with --virtual-clock"
            )
        return clock

    def _clock_moved(self) -> None:
        # One batch: the simulation's events and the new time reach the state file in one write.
        with self.world.batch():
            self.catch_up()
            self.world.clock_moved()
