"""A shared world's first state from a state file (``seed_store``), on a real ``redis-server``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prosper_mock import VirtualClock, World, WorldRecipe
from prosper_mock.world.errors import StateFileError
from prosper_mock.world.persistence import StateFile
from prosper_mock.world.seeding import Seeded, seed_store
from prosper_mock.world.simulation import Simulation
from prosper_mock.world.storage.address import StoreAddress
from prosper_mock.world.storage.replica import SharedWorld
from tests.redisserver import RedisServer

START = "2026-01-15T15:00:00+00:00"


def _world(seed: int = 3) -> World:
    recipe = WorldRecipe(seed=seed, live_calls=2, call_logs=3)
    return World.generate(recipe, clock=VirtualClock(START))


def _kept(path: Path) -> World:
    """A world whose changes, virtual clock, a section and a simulation a state file keeps."""
    world = _world()
    state_file = StateFile(path)
    simulation = Simulation(world, seed=3, rate=6, start=world.clock.now())
    state_file.simulation = simulation
    state_file.attach(world)
    world.start_call(at=world.clock.now())
    world.clock.advance(600)
    simulation.advance_to(world.clock.now())
    world.clock_moved()
    return world


def _log_version(address: StoreAddress) -> int:
    """The version the shared log at ``address`` is at."""
    replica = SharedWorld(_world(), address)
    try:
        return replica.log_version()
    finally:
        replica.close()


def test_an_empty_namespace_takes_the_file_as_its_first_entry(
    tmp_path: Path, redis_server: RedisServer, redis_namespace: str
) -> None:
    path = tmp_path / "state.json"
    kept = _kept(path)
    world = _world()
    before = json.dumps(world.dump())
    address = StoreAddress(redis_server.url, redis_namespace)
    seeded = seed_store(world, address, path, virtual_clock=True)
    assert seeded == Seeded(True, 0)
    assert json.dumps(world.dump()) == before  # the start-up world is left as it was
    follower = _world()
    replica = SharedWorld(follower, address)
    try:
        assert replica.catch_up() == 1  # one entry, all of it
        entry = json.loads(replica.client.hget(replica.keys["log"], "1"))
    finally:
        replica.close()
    assert follower.dump() == kept.dump()
    assert follower.clock.now() == kept.clock.now()
    # The simulation goes on from each process's own start, as after any restart.
    simulation = entry["sections"]["simulation"]
    assert simulation["calls"] and "start" not in simulation and "first_k" not in simulation
    assert seeded.describe(path) == f"; the store seeded from {path}"


def test_a_namespace_that_holds_a_world_keeps_it(
    tmp_path: Path, redis_server: RedisServer, redis_namespace: str
) -> None:
    path = tmp_path / "state.json"
    _kept(path)
    address = StoreAddress(redis_server.url, redis_namespace)
    writer = SharedWorld(_world(), address)
    try:
        writer.world.start_call()
        writer.world.start_call()
    finally:
        writer.close()
    seeded = seed_store(_world(), address, path, virtual_clock=True)
    assert seeded == Seeded(False, 2)
    assert "kept (version 2), copied to" in seeded.describe(path)


def test_without_a_file_nothing_is_written(
    tmp_path: Path, redis_server: RedisServer, redis_namespace: str
) -> None:
    address = StoreAddress(redis_server.url, redis_namespace)
    path = tmp_path / "state.json"
    assert seed_store(_world(), address, path, virtual_clock=False) == Seeded(False, 0)
    assert not path.exists()
    assert Seeded(False, 0).describe(path) == f"; copied to {path}"
    assert _log_version(address) == 0


def test_a_file_of_another_world_is_refused_and_nothing_written(
    tmp_path: Path, redis_server: RedisServer, redis_namespace: str
) -> None:
    path = tmp_path / "state.json"
    _kept(path)
    address = StoreAddress(redis_server.url, redis_namespace)
    with pytest.raises(StateFileError, match="written for another world"):
        seed_store(_world(seed=4), address, path, virtual_clock=True)
    assert _log_version(address) == 0
