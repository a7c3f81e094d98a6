"""MockState: configuration fixed at start, run-time state changed through named methods."""

from __future__ import annotations

import dataclasses

import pytest

from prosper_mock.serving.faults import parse_rules
from prosper_mock.serving.spec import load_spec
from prosper_mock.serving.state import MockConfig, MockState
from prosper_mock.world.clock import VirtualClock
from prosper_mock.world.generate import WorldRecipe
from prosper_mock.world.model import World
from prosper_mock.world.simulation import Simulation

SPEC = load_spec()


def small_world() -> World:
    return World.generate(
        WorldRecipe(seed=5, live_calls=0, call_logs=0),
        clock=VirtualClock("2026-01-15T15:00:00+00:00"),
    )


def test_configuration_is_frozen_and_read_through_the_state() -> None:
    state = MockState(small_world(), SPEC, api_key=("X-Api-Key", "sekrit-key"), read_only=True)
    assert state.config == MockConfig(SPEC, state.semantics, ("X-Api-Key", "sekrit-key"), True)
    assert (state.spec, state.api_key, state.read_only) == (SPEC, ("X-Api-Key", "sekrit-key"), True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.config.read_only = False  # type: ignore[misc]
    for name in ("world", "journal", "faults", "spec", "read_only"):
        with pytest.raises(AttributeError):
            setattr(state, name, None)
    assert "sekrit" not in repr(state)  # the API key stays out of logs


def test_swap_world_serves_the_new_world_and_returns_the_old() -> None:
    first, second = small_world(), small_world()
    state = MockState(first, SPEC)
    assert state.swap_world(second) is first
    assert state.world is second and state.driver.world is second
    assert state.clock is second.clock


def test_a_simulation_belongs_to_its_world() -> None:
    world = small_world()
    state = MockState(world, SPEC)
    with pytest.raises(ValueError, match="another world"):
        state.attach_simulation(Simulation(small_world(), seed=5, rate=12, start=0))
    simulation = Simulation(world, seed=5, rate=12, start=world.clock.now())
    state.attach_simulation(simulation)
    assert state.simulation is simulation and state.driver.simulation is simulation
    with pytest.raises(ValueError, match="cannot be swapped"):
        state.swap_world(small_world())
    state.attach_simulation(None)
    assert state.simulation is None


def test_moving_the_clock_moves_the_simulation() -> None:
    world = small_world()
    state = MockState(world, SPEC)
    state.attach_simulation(Simulation(world, seed=5, rate=12, start=world.clock.now()))
    assert state.move_clock(600)["now"] == "2026-01-15T15:10:00.000+00:00"
    assert world.stats()["live_calls"] + world.stats()["call_logs"] > 0
    assert state.set_clock("2026-01-15T16:00:00+00:00")["now"].startswith("2026-01-15T16:00")


def test_faults_and_journal_change_through_methods() -> None:
    state = MockState(small_world(), SPEC)
    rules = parse_rules({"rules": [{"faults": "status=503"}]})
    state.set_fault_rules(rules)
    assert state.faults.rules == rules and state.faults.rules is not rules
    state.clear_faults()
    assert state.faults.rules == []
    state.journal.record(0.0, "GET", "/x", b"", None, 200)
    state.clear_journal()
    assert state.journal.entries() == []


def test_a_long_read_runs_in_the_writer_thread_between_two_writes() -> None:
    import asyncio
    import threading

    state = MockState(small_world(), SPEC)
    order: list[str] = []

    async def write() -> None:
        order.append("write begins")
        await asyncio.sleep(0.05)
        order.append("write ends")

    def dump() -> str:
        order.append("read")
        return threading.current_thread().name

    async def scenario() -> str:
        writing = asyncio.ensure_future(state.write(write))
        await asyncio.sleep(0.01)  # the write holds the app's writes now
        name = await state.read_off_loop(dump)
        await writing
        return name

    assert asyncio.run(scenario()).startswith("prosper-mock-writer")
    assert order == ["write begins", "write ends", "read"]
    state.writer.close()
