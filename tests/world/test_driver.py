"""LocalDriver: changes answered as the control API answers them; the clock with its simulation."""

from __future__ import annotations

import pytest

from prosper_mock.world.clock import SystemClock, VirtualClock
from prosper_mock.world.driver import LocalDriver
from prosper_mock.world.errors import ClockNotSettable, InvalidChange, WorldError
from prosper_mock.world.flatten import snapshot
from prosper_mock.world.generate import WorldRecipe
from prosper_mock.world.model import World
from prosper_mock.world.records import to_dict
from prosper_mock.world.simulation import MAX_STARTS_PER_MOVE, Simulation

START = "2026-01-15T15:00:00+00:00"


def world(live_calls: int = 0, clock: object = None) -> World:
    return World.generate(
        WorldRecipe(seed=3, live_calls=live_calls, call_logs=0),
        clock=clock if clock is not None else VirtualClock(START),  # type: ignore[arg-type]
    )


def test_answers_carry_the_stored_row_and_its_snapshot() -> None:
    w = world()
    driver = LocalDriver(w)
    started = driver.start_call(user_phone_number="+15550003333")
    row = w.live_calls.get(started["call"]["call_log_id"])
    assert row is not None
    assert started == {"call": to_dict(row), "snapshot": snapshot("live_calls", row)}
    ended = driver.end_call(row.call_log_id, call_ended_reason="hangup")
    assert ended["snapshot"]["source"] == "call_logs"
    assert ended["call_log"]["call_ended_reason"] == "hangup"
    assert driver.reset() == w.stats() and w.stats()["live_calls"] == 0


def test_moving_the_clock_runs_the_simulation_and_notifies_once() -> None:
    w = world()
    sim = Simulation(w, seed=3, rate=12, start=w.clock.now())
    heard: list[int] = []
    w.listeners.append(lambda changed: heard.append(changed.version))
    driver = LocalDriver(w, sim)
    assert driver.advance_clock(600) == {"mode": "virtual", "now": "2026-01-15T15:10:00.000+00:00"}
    assert w.stats()["live_calls"] + w.stats()["call_logs"] > 0  # the simulation caught up
    assert len(heard) == 1  # its events and the new time: one notice
    driver.set_clock("2026-01-15T15:20:00+00:00")
    assert driver.now() == VirtualClock("2026-01-15T15:20:00+00:00").now()
    assert len(heard) == 2


def test_a_move_the_simulation_refuses_leaves_the_clock_where_it_was() -> None:
    w = world()
    driver = LocalDriver(w, Simulation(w, seed=3, rate=60, start=w.clock.now()))
    before = driver.clock()
    with pytest.raises(WorldError) as refused:
        driver.advance_clock(MAX_STARTS_PER_MOVE * 10 * 60)
    assert isinstance(refused.value, InvalidChange) and "smaller steps" in str(refused.value)
    with pytest.raises(WorldError):
        driver.set_clock("2099-01-01T00:00:00+00:00")
    assert driver.clock() == before


def test_clock_refusals() -> None:
    driver = LocalDriver(world())
    with pytest.raises(WorldError) as back:
        driver.set_clock("2026-01-01T00:00:00+00:00")
    assert isinstance(back.value, InvalidChange) and "does not go back" in str(back.value)
    with pytest.raises(WorldError) as negative:
        driver.advance_clock(-1)
    assert isinstance(negative.value, InvalidChange)
    system = LocalDriver(world(clock=SystemClock()))
    assert system.clock()["mode"] == "system"
    with pytest.raises(WorldError) as refused:
        system.advance_clock(1)
    assert isinstance(refused.value, ClockNotSettable)


def test_freeze_clock_stops_a_system_clock_and_keeps_a_virtual_one() -> None:
    w = world(clock=SystemClock())
    driver = LocalDriver(w)
    driver.freeze_clock()
    assert isinstance(w.clock, VirtualClock)
    frozen = w.clock
    driver.freeze_clock()
    assert w.clock is frozen
    assert driver.advance_clock(5)["mode"] == "virtual"


def test_catch_up_follows_a_clock_that_moved_by_itself() -> None:
    w = world()
    assert LocalDriver(w).catch_up() == 0  # no simulation: nothing to do
    driver = LocalDriver(w, Simulation(w, seed=3, rate=12, start=w.clock.now()))
    assert isinstance(w.clock, VirtualClock)
    w.clock.advance(600)  # as the system clock does, without the driver
    assert driver.catch_up() > 0
    assert driver.catch_up() == 0
