"""A write is all or nothing: it fails whole, and a listener's failure undoes it."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from prosper_mock import MockServer, VirtualClock, World, WorldError, WorldRecipe
from prosper_mock.world.driver import LocalDriver
from prosper_mock.world.errors import CallConflict, StateFileError
from prosper_mock.world.records import MAX_CALL_ID
from prosper_mock.world.simulation import Simulation
from tests.world.counting import Counted

RECIPE = WorldRecipe(seed=4, live_calls=3, call_logs=8)
START = "2026-01-15T15:00:00+00:00"
JSON = {"Content-Type": "application/json"}


def _state(world: World) -> str:
    """Everything a restart would see: the changes, the dump, the clock."""
    return json.dumps([world.changes(), world.dump(), world.clock.now()], sort_keys=True)


class Refusing:
    """A listener (as the state file is one) that fails while ``refuse`` is set."""

    def __init__(self) -> None:
        self.refuse = False
        self.told = 0

    def __call__(self, world: Any) -> None:
        if self.refuse:
            raise StateFileError("the disk is full")
        self.told += 1


def _world() -> tuple[World, Refusing]:
    world = World.generate(RECIPE, clock=VirtualClock(START))
    listener = Refusing()
    world.listeners.append(listener)
    return world, listener


def test_a_write_whose_listener_fails_is_undone_and_refused() -> None:
    world, listener = _world()
    campaign = world.campaigns()[0].id
    before, version = _state(world), world.version
    listener.refuse = True
    writes = [
        lambda: world.start_call(),
        lambda: world.add_call_log(),
        lambda: world.end_call(next(iter(world.live_calls)).call_log_id),
        lambda: world.add_targets(campaign, [{"phone_number": "+15550001111"}], launch=True),
        lambda: world.launch(campaign, count=2),
        lambda: world.reset(),
        lambda: LocalDriver(world).advance_clock(3600),
    ]
    for write in writes:
        with pytest.raises(StateFileError):
            write()
        assert _state(world) == before
    assert world.version > version  # answers kept while a write ran are dropped
    listener.refuse = False
    world.start_call()
    assert listener.told == 1 and _state(world) != before


def test_whatever_fails_inside_a_batch_undoes_all_of_it() -> None:
    world, listener = _world()
    before = _state(world)
    with pytest.raises(RuntimeError), world.batch():
        world.start_call()
        world.add_call_log()
        raise RuntimeError("a bug halfway")
    assert _state(world) == before and listener.told == 0


def test_adding_targets_to_launch_when_no_call_id_is_left_adds_none() -> None:
    world, _ = _world()
    campaign = world.campaigns()[0].id
    world.start_call({"call_log_id": MAX_CALL_ID})  # the largest id there is
    before = _state(world)
    with pytest.raises(CallConflict, match="no call id is left"):
        world.add_targets(campaign, [{"phone_number": "+15550001111", "id": "t-1"}], launch=True)
    assert _state(world) == before and world.target("t-1") is None
    with pytest.raises(CallConflict, match="no call id is left"):
        world.start_call()
    assert world.add_targets(campaign, [{"phone_number": "+1", "id": "t-1"}]).added  # no launch


def test_a_write_copies_none_of_the_world() -> None:
    """A savepoint costs the overlay's entries, never a copy of its rows or indexes: a write
    into a world with many changes stays as cheap as one into a fresh world."""
    world, _ = _world()
    campaign = world.campaigns()[0].id
    world.add_targets(campaign, [{"phone_number": "+1", "external_id": f"E{i}"} for i in range(50)])
    spies = [Counted(part, "copy") for part in (world.targets, world.live_calls, world.call_logs)]
    world.start_call()
    world.add_targets(campaign, [{"phone_number": "+1"}], launch=True)
    with pytest.raises(WorldError):
        world.add_targets(campaign, [{"phone_number": 1}])
    assert [spy.calls for spy in spies] == [0, 0, 0]


@settings(max_examples=15)
@given(moves=st.lists(st.integers(1, 900), min_size=1, max_size=4), fail=st.data())
def test_a_move_refused_midway_leaves_the_world_as_if_it_was_never_asked(
    moves: list[int], fail: st.DataObject
) -> None:
    """With the simulation running, moves that fail to be stored change nothing: the world
    then moves on exactly as one whose moves were never refused."""
    world, listener = _world()
    driver = LocalDriver(world, Simulation(world, 4, 6.0, world.clock.now()))
    twin = World.generate(RECIPE, clock=VirtualClock(START))
    twin_driver = LocalDriver(twin, Simulation(twin, 4, 6.0, twin.clock.now()))
    for seconds in moves:
        if fail.draw(st.booleans()):
            listener.refuse = True
            with pytest.raises(WorldError):
                driver.advance_clock(seconds)
            listener.refuse = False
        driver.advance_clock(seconds)
        twin_driver.advance_clock(seconds)
        assert _state(world) == _state(twin)


def test_once_the_last_call_id_is_used_every_call_creation_is_a_409_that_changes_nothing() -> None:
    """Over HTTP: a 4 300-digit id is refused; the largest id taken, the control API, a launch
    and adding targets with ``launch`` answer 409 and leave no target behind."""
    world, _ = _world()
    campaign = world.campaigns()[0].id
    with MockServer(world) as server:
        huge = b'{"call_log_id": ' + b"9" * 4300 + b"}"
        answer = requests.post(server.url("/__mock/live-calls"), data=huge, headers=JSON)
        assert answer.status_code == 422 and "9223372036854775807" in answer.json()["detail"]
        taken = requests.post(server.url("/__mock/live-calls"), json={"call_log_id": MAX_CALL_ID})
        assert taken.status_code == 201
        before = _state(world)
        for path, body in [
            ("/__mock/live-calls", {}),
            ("/__mock/call-logs", {}),
            (f"/api/v1/campaigns/{campaign}/calls", {"count": 1}),
            (
                f"/api/v1/campaigns/{campaign}/targets",
                {"targets": [{"phone_number": "+1", "id": "t-9"}], "launch": True},
            ),
        ]:
            answer = requests.post(server.url(path), json=body)
            assert answer.status_code == 409, (path, answer.text)
            assert answer.json()["detail"].startswith("no call id is left to issue")
        assert _state(world) == before


def test_the_worlds_parts_are_its_states_and_its_services_share_them() -> None:
    world = World.generate(RECIPE, clock=VirtualClock(START))
    services = (world.views, world.hooks, world.calls, world.dialing, world.targeting, world.reads)
    assert all(service.state is world.state for service in services)
    later = VirtualClock("2027-01-01T00:00:00+00:00")
    world.clock = later  # assigned on the world, seen by every service
    assert world.state.clock is later
    assert world.start_call().started_at.startswith("2027-01-01")
    world.plays_on_read = False
    assert world.state.plays_on_read is False and world.reads.state.plays_on_read is False


def test_a_state_alone_tells_its_listeners_once_and_puts_back_what_a_failure_changed() -> None:
    state = World.generate(RECIPE, clock=VirtualClock(START)).state
    told: list[object] = []
    state.listeners.append(told.append)
    with state.batch():
        state.last_id = state.next_id()
        state.changed()
        state.changed()
    assert told == [state.subject] and state.version == 2
    issued = state.last_id
    with pytest.raises(RuntimeError), state.batch():
        state.last_id = state.next_id()
        state.changed()
        raise RuntimeError("refused")
    assert state.last_id == issued and told == [state.subject]
