"""The world tests on a shared store: with ``PROSPER_MOCK_TEST_WORLD_STORE=redis`` every
world a test builds (``World.generate``, ``World.from_dict``/``from_file``) is bound to a
namespace of the session's ``redis-server`` (``SharedWorld``), so each of its writes goes
through the shared log; after the test, a twin built the same way and caught up from that log
must equal it, changes and dump alike. ``tests/world/storage/test_world_on_redis.py`` runs
the world tests this way. A world a test gave changes from elsewhere (``apply_changes``: a
state file's restore) holds them without writing them (a shared store takes a state file's
state only as a whole first entry: ``world/seeding.py``): it is not compared."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from prosper_mock import World
from prosper_mock.world.storage.address import StoreAddress
from prosper_mock.world.storage.replica import SharedWorld

WORLD_STORE_ENV = "PROSPER_MOCK_TEST_WORLD_STORE"


@pytest.fixture(autouse=True)
def _worlds_on_a_shared_store(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if os.environ.get(WORLD_STORE_ENV) != "redis" or "storage" in request.path.parts:
        yield
        return
    url = request.getfixturevalue("redis_server").url
    bound: list[tuple[SharedWorld, Callable[..., World], tuple[Any, ...], dict[str, Any]]] = []
    replayed: set[int] = set()

    def binding(build: Callable[..., World]) -> Callable[..., World]:
        def built(*args: Any, **kwargs: Any) -> World:
            world = build(*args, **kwargs)
            shared = SharedWorld(world, StoreAddress(url, f"w{uuid.uuid4().hex[:16]}"))
            world.plays_on_read = True  # one process: a read may play what fell due, a write
            bound.append((shared, build, args, kwargs))
            return world

        return built

    apply_changes = World.apply_changes

    def apply(world: World, changes: Any, *, exact: bool = False) -> None:
        replayed.add(id(world))
        apply_changes(world, changes, exact=exact)

    for name in ("generate", "from_dict"):
        monkeypatch.setattr(World, name, binding(getattr(World, name)))
    monkeypatch.setattr(World, "apply_changes", apply)
    yield
    monkeypatch.undo()
    for shared, build, args, kwargs in bound:
        twin = build(*args, **kwargs)
        follower = SharedWorld(twin, shared.address)
        try:
            # A process the test forked wrote too (its copy of the binding): the log then
            # holds more than this world, which is not the one to compare.
            caught_up = follower.catch_up() == shared.version
            if caught_up and id(shared.world) not in replayed:
                assert twin.changes() == shared.world.changes()
                assert twin.dump() == shared.world.dump()
        finally:
            follower.client.delete(*shared.keys.values())
            follower.close()
            shared.close()
