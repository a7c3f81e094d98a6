"""Calls changed by hand, through the service composed over a world's state."""

from __future__ import annotations

import pytest

from prosper_mock import VirtualClock, World, WorldRecipe
from prosper_mock.world.calls import Calls
from prosper_mock.world.errors import UnknownCall
from prosper_mock.world.hooking import Hooks
from prosper_mock.world.views import Views

START = "2026-01-15T15:00:00+00:00"


def _calls(world: World) -> Calls:
    """A ``Calls`` composed over the world's state, as ``World`` composes its own."""
    return Calls(world.state, Hooks(world.state, Views(world.state)))


def test_a_call_started_and_ended_through_the_service_is_the_worlds() -> None:
    world = World.generate(WorldRecipe(seed=3, live_calls=2, call_logs=5), VirtualClock(START))
    told: list[object] = []
    world.listeners.append(told.append)
    calls = _calls(world)
    started = calls.start_call({"variables": {"a": 1}})
    assert world.live_calls.get(started.call_log_id) == started
    assert world.last_id == started.call_log_id and told == [world]
    log = calls.end_call(started.call_log_id)
    assert started.call_log_id not in world.live_calls
    assert world.call_logs.get(log.call_log_id) == log
    assert world.version == 2 and told == [world, world]


def test_a_refused_call_change_leaves_the_state_as_it_was() -> None:
    world = World.generate(WorldRecipe(seed=3, live_calls=2, call_logs=5), VirtualClock(START))
    before, version = world.changes(), world.version
    with pytest.raises(UnknownCall):
        _calls(world).map_variables(10**9, {"a": 1})
    with pytest.raises(UnknownCall):
        _calls(world).delete_live_call(10**9)
    assert world.changes() == before and world.version == version
