"""Worlds bound to one shared log on a real ``redis-server``: writes spread over them in any
order leave every one equal to a single world that made the same writes in the same order."""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prosper_mock import VirtualClock, World, WorldError
from prosper_mock.world.driver import LocalDriver
from prosper_mock.world.errors import StoreUnavailable
from prosper_mock.world.storage.address import StoreAddress
from prosper_mock.world.storage.replica import SharedWorld, StoreConflict
from tests.redisserver import RedisServer
from tests.world.storage.test_memory import RECIPE, START

Write = Callable[[World], object]


def _state(world: World) -> str:
    return json.dumps([world.changes(), world.dump()], sort_keys=True)


def _world() -> World:
    return World.generate(RECIPE, clock=VirtualClock(START))


@pytest.fixture
def replicas(redis_server: RedisServer, redis_namespace: str) -> Iterator[list[SharedWorld]]:
    bound = [SharedWorld(_world(), StoreAddress(redis_server.url, redis_namespace)) for _ in "abc"]
    yield bound
    bound[0].client.delete(*bound[0].keys.values())
    for each in bound:
        each.close()


def _write(kind: str, pick: int) -> Write:
    def write(world: World) -> object:
        live = sorted(c.call_log_id for c in world.live_calls)
        logs = sorted(c.call_log_id for c in world.call_logs)
        campaign = world.campaigns()[0].id
        if kind == "start":
            return world.start_call({"variables": {"n": pick}})
        if kind == "map" and live:
            return world.map_variables(live[pick % len(live)], {"v": pick})
        if kind == "end" and live:
            return world.end_call(live[pick % len(live)])
        if kind == "log":
            return world.add_call_log()
        if kind == "delete" and logs:
            return world.delete_call_log(logs[pick % len(logs)])
        if kind == "targets":
            return world.add_targets(campaign, [{"phone_number": f"+1555{pick:07d}"}], launch=True)
        if kind == "reset":
            return world.reset()
        return None

    return write


@settings(max_examples=15)
@given(
    plan=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.sampled_from(["start", "map", "end", "log", "delete", "targets", "reset"]),
            st.integers(0, 10**6),
        ),
        max_size=15,
    )
)
def test_writes_through_any_replica_leave_all_equal_to_one_world(
    redis_server: RedisServer, plan: list[tuple[int, str, int]]
) -> None:
    namespace = f"replica{abs(hash(tuple(plan))):x}"
    bound = [SharedWorld(_world(), StoreAddress(redis_server.url, namespace)) for _ in "abc"]
    reference = _world()
    try:
        for which, kind, pick in plan:
            write = _write(kind, pick)
            try:
                bound[which].write(lambda w=bound[which].world, f=write: f(w))
            except WorldError as exc:  # refused alike by the single world
                assert not isinstance(exc, StoreConflict | StoreUnavailable)
                with pytest.raises(WorldError):
                    write(reference)
                continue
            write(reference)
        for each in bound:
            each.catch_up()
            assert _state(each.world) == _state(reference)
    finally:
        bound[0].client.delete(*bound[0].keys.values())
        for each in bound:
            each.close()


def test_racing_writers_never_issue_an_id_twice(replicas: list[SharedWorld]) -> None:
    issued: list[int] = []

    def writer(replica: SharedWorld) -> None:
        for _ in range(15):
            call = replica.write(lambda: replica.world.start_call())
            issued.append(call.call_log_id)

    threads = [threading.Thread(target=writer, args=(each,)) for each in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(issued) == len(set(issued)) == 45
    for each in replicas:
        each.catch_up()
    assert len({_state(each.world) for each in replicas}) == 1
    assert {c.call_log_id for c in replicas[0].world.live_calls} >= set(issued)


def test_a_stale_replica_is_refused_and_its_write_undone(replicas: list[SharedWorld]) -> None:
    first, second, _ = replicas
    first.write(lambda: first.world.start_call())
    before = _state(second.world)
    with pytest.raises(StoreConflict):
        second.world.start_call()  # not caught up: the log has moved on
    assert _state(second.world) == before
    call = second.write(lambda: second.world.start_call())  # catches up, then writes
    first.catch_up()
    assert first.world.live_calls.get(call.call_log_id) == call


def test_a_late_replica_catches_up_before_it_serves(
    replicas: list[SharedWorld], redis_server: RedisServer, redis_namespace: str
) -> None:
    for _ in range(5):
        replicas[0].write(lambda: replicas[0].world.add_call_log())
    late = SharedWorld(_world(), StoreAddress(redis_server.url, redis_namespace))
    try:
        assert late.catch_up() == 5
        assert _state(late.world) == _state(replicas[0].world)
    finally:
        late.close()


def test_a_late_replica_starts_from_the_snapshot_once_the_log_is_compacted(
    replicas: list[SharedWorld], redis_server: RedisServer, redis_namespace: str
) -> None:
    first = replicas[0]
    for _ in range(3):
        first.write(lambda: first.world.add_call_log())
    snapshot = json.dumps({"whole": True, "document": first.world.changes()}).encode()
    first.client.hset(first.keys["snapshot"], mapping={"version": 3, "data": snapshot})
    first.client.hdel(first.keys["log"], 1, 2, 3)  # what SharedLog.compact does
    first.write(lambda: first.world.start_call())
    late = SharedWorld(_world(), StoreAddress(redis_server.url, redis_namespace))
    try:
        assert late.catch_up() == 4
        assert _state(late.world) == _state(first.world)
    finally:
        late.close()


def _process_writes(url: str, namespace: str, seed: int, out: str, done: Any) -> None:
    """A forked child: random writes through its own replica; once every child is done
    writing (``done``, a barrier), what it holds and the ids it issued."""
    import random

    replica = SharedWorld(_world(), StoreAddress(url, namespace))
    draw = random.Random(seed)
    issued = []
    for _ in range(20):
        kind = draw.choice(["start", "start", "map", "end", "log", "delete", "targets"])
        try:
            found = replica.write(lambda k=kind: _write(k, draw.randrange(10**6))(replica.world))
        except WorldError:
            continue
        call_log_id = getattr(found, "call_log_id", None)
        if kind in ("start", "log") and call_log_id is not None:
            issued.append(call_log_id)
    done.wait(60)
    replica.catch_up()
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"state": _state(replica.world), "issued": issued}, f)


def test_processes_writing_at_once_end_up_answering_alike(
    redis_server: RedisServer, redis_namespace: str, tmp_path: Path
) -> None:
    context = multiprocessing.get_context("fork")
    outs = [str(tmp_path / f"{i}.json") for i in range(3)]
    done = context.Barrier(3)
    address = (redis_server.url, redis_namespace)
    children = [
        context.Process(target=_process_writes, args=(*address, i, out, done))
        for i, out in enumerate(outs)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
        assert child.exitcode == 0
    results = [json.loads(Path(out).read_text()) for out in outs]
    watcher = SharedWorld(_world(), StoreAddress(redis_server.url, redis_namespace))
    try:
        watcher.catch_up()
        states = {result["state"] for result in results} | {_state(watcher.world)}
        assert len(states) == 1
        issued = [i for result in results for i in result["issued"]]
        assert issued and len(issued) == len(set(issued))
    finally:
        watcher.client.delete(*watcher.keys.values())
        watcher.close()


def test_a_virtual_clock_moved_through_one_replica_moves_them_all(
    replicas: list[SharedWorld],
) -> None:
    """The move and what it plays (a launched call's steps and end) are one entry."""
    first, second, _ = replicas
    campaign = first.world.campaigns()[0].id
    first.write(lambda: first.world.add_targets(campaign, [{"phone_number": "+1"}], launch=True))
    driver = LocalDriver(first.world)
    first.write(lambda: driver.advance_clock(900))
    second.catch_up()
    assert second.world.clock.now() == first.world.clock.now() == _world().clock.now() + 900
    assert _state(second.world) == _state(first.world)


@pytest.mark.parametrize(
    "entry",
    [b"not json", b"[]", b'{"whole": false}', b'{"whole": false, "document": {"live_calls": 7}}'],
    ids=["not-json", "not-an-object", "no-document", "bad-rows"],
)
def test_an_entry_the_mock_cannot_apply_is_a_lost_store_and_changes_nothing(
    replicas: list[SharedWorld], entry: bytes
) -> None:
    first, second, _ = replicas
    first.write(lambda: first.world.start_call())
    first.client.set(first.keys["version"], 2)
    first.client.hset(first.keys["log"], 2, entry)  # written by hand, or by another kit
    before = _state(second.world)
    with pytest.raises(StoreUnavailable, match="holds change 2, which this mock cannot apply"):
        second.catch_up()
    assert second.version == 1 and _state(second.world) != before  # the first one applied
    after_first = _state(second.world)
    with pytest.raises(StoreUnavailable):
        second.write(lambda: second.world.start_call())
    assert _state(second.world) == after_first and second.version == 1
