"""The shared log on a real ``redis-server`` (tests/redisserver.py): one total order of
changes whatever the writers' interleaving, nothing half-written, namespaces kept apart,
compaction, leases, the change feed, and a lost Redis as ``StoreUnavailable``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prosper_mock.world.errors import StoreUnavailable
from prosper_mock.world.storage.address import StoreAddress, parse_store
from prosper_mock.world.storage.redislog import SharedLog
from tests.redisserver import RedisServer, free_port

T = TypeVar("T")


def run(redis_server: RedisServer, namespace: str, job: Callable[..., Awaitable[T]]) -> T:
    """``job(log, ...)`` on fresh connections to the session's Redis, in one event loop."""

    async def main() -> T:
        logs = [await SharedLog.connect(StoreAddress(redis_server.url, namespace))
                for _ in range(3)]  # fmt: skip
        try:
            return await job(*logs)
        finally:
            for log in logs:
                await log.close()

    return asyncio.run(main())


def test_appends_are_ordered_and_a_stale_writer_is_refused(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    async def job(a: SharedLog, b: SharedLog, _: SharedLog) -> None:
        assert await a.version() == 0
        assert await a.append(0, b"one") == 1
        assert await b.append(0, b"stale") is None  # b's world had not seen change 1
        assert await b.since(0) == (1, [b"one"])
        assert await b.append(1, b"two") == 2
        assert await a.since(1) == (2, [b"two"])
        assert await a.since(2) == (2, [])

    run(redis_server, redis_namespace, job)


@settings(max_examples=15)
@given(plan=st.lists(st.tuples(st.integers(0, 2), st.binary(max_size=20)), max_size=30))
def test_any_interleaving_of_writers_gives_one_log_every_reader_agrees_on(
    redis_server: RedisServer, plan: list[tuple[int, bytes]]
) -> None:
    """Writers append only from an up-to-date view (catching up on refusal, as a world does):
    every entry lands exactly once, and every reader replays the same sequence."""
    namespace = f"prop{id(plan):x}{len(plan)}"

    async def job(*logs: SharedLog) -> None:
        views = [0, 0, 0]  # the version each writer has seen
        written = []
        for writer, entry in plan:
            while (done := await logs[writer].append(views[writer], entry)) is None:
                caught = await logs[writer].since(views[writer])
                assert caught is not None
                views[writer] = caught[0]
            views[writer] = done
            written.append(entry)
        replays = [await log.since(0) for log in logs]
        assert replays == [(len(written), written)] * 3
        await logs[0].client.delete(*logs[0].keys.values())

    run(redis_server, namespace, job)


def test_concurrent_writers_never_lose_or_repeat_an_entry(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    async def writer(log: SharedLog, name: str) -> None:
        seen = 0
        for i in range(40):
            while (done := await log.append(seen, f"{name}{i}".encode())) is None:
                caught = await log.since(seen)
                assert caught is not None
                seen = caught[0]
            seen = done

    async def job(*logs: SharedLog) -> None:
        await asyncio.gather(*(writer(log, "abc"[i]) for i, log in enumerate(logs)))
        version, entries = await logs[0].since(0) or (0, [])
        assert version == 120 == len(entries) == len(set(entries))
        for name in "abc":  # each writer's entries in the order it wrote them
            assert [e for e in entries if e.startswith(name.encode())] == [
                f"{name}{i}".encode() for i in range(40)
            ]

    run(redis_server, redis_namespace, job)


def test_compaction_keeps_a_snapshot_for_late_readers(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    async def job(a: SharedLog, b: SharedLog, _: SharedLog) -> None:
        for i in range(5):
            assert await a.append(i, b"e%d" % i) == i + 1
        assert await a.compact(3, b"whole at 3")
        assert not await a.compact(2, b"older")  # a later snapshot is kept already
        assert not await a.compact(9, b"ahead")  # the log is not that far
        assert await b.since(1) is None  # entries 2 and 3 are gone: start from the snapshot
        assert await b.snapshot() == (3, b"whole at 3")
        assert await b.since(3) == (5, [b"e3", b"e4"])
        assert await a.client.hlen(a.keys["log"]) == 2

    run(redis_server, redis_namespace, job)


def test_catching_up_fetches_a_long_log_in_batches(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    async def job(a: SharedLog, b: SharedLog, _: SharedLog) -> None:
        for i in range(1200):  # more than SINCE_BATCH, several round trips
            await a.append(i, b"%d" % i)
        assert await b.since(0) == (1200, [b"%d" % i for i in range(1200)])

    run(redis_server, redis_namespace, job)


def test_namespaces_share_nothing_and_each_keeps_its_keys_under_one_hash_tag(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    async def job(a: SharedLog, _: SharedLog, __: SharedLog) -> None:
        other = await SharedLog.connect(StoreAddress(redis_server.url, redis_namespace + "x"))
        try:
            await a.append(0, b"mine")
            await a.compact(1, b"snap")
            await a.lease("clock", "me", 10_000)
            assert await other.version() == 0
            keys = [k.decode() async for k in a.client.scan_iter(f"*{redis_namespace}*")]
            assert keys and all(f"{{{redis_namespace}}}" in key for key in keys)
            assert all(f"{{{redis_namespace}x}}" not in key for key in keys)
        finally:
            await other.close()

    run(redis_server, redis_namespace, job)


def test_a_lease_has_one_holder_until_it_expires(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    async def job(a: SharedLog, b: SharedLog, _: SharedLog) -> None:
        taken = await asyncio.gather(
            *(log.lease("clock", n, 200) for log, n in ((a, "a"), (b, "b")))
        )
        assert sorted(taken) == [False, True]
        holder, other = ("a", "b") if taken[0] else ("b", "a")
        assert await a.lease("clock", holder, 200)  # renewed by its holder
        assert not await b.lease("clock", other, 200)
        await asyncio.sleep(0.3)
        assert await b.lease("clock", other, 200)  # expired: free again

    run(redis_server, redis_namespace, job)


def test_the_change_feed_announces_every_append(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    async def job(a: SharedLog, b: SharedLog, _: SharedLog) -> list[int]:
        heard: list[int] = []

        async def listen() -> None:
            async for version in b.feed():
                heard.append(version)
                if version == 3:
                    return

        listening = asyncio.create_task(listen())
        await asyncio.sleep(0.2)  # subscribed
        for i in range(3):
            await a.append(i, b"x")
        await asyncio.wait_for(listening, 5)
        return heard

    assert run(redis_server, redis_namespace, job) == [1, 2, 3]


def test_redis_unreachable_is_one_line_without_the_password() -> None:
    address = StoreAddress(f"redis://:s3cret@127.0.0.1:{free_port()}/0")
    with pytest.raises(StoreUnavailable) as caught:
        asyncio.run(SharedLog.connect(address, timeout=1))
    message = str(caught.value)
    assert "s3cret" not in message and "\n" not in message
    assert message.startswith(f"the store at {address.shown} cannot be used: ")
    assert address.shown.startswith("redis://:***@127.0.0.1:")


def test_redis_lost_while_in_use_then_back(tmp_path: Path, redis_namespace: str) -> None:
    server = RedisServer(tmp_path).start()

    async def job() -> None:
        log = await SharedLog.connect(StoreAddress(server.url, redis_namespace), timeout=1)
        try:
            assert await log.append(0, b"before") == 1
            server.stop()
            with pytest.raises(StoreUnavailable, match="cannot be used"):
                await log.append(1, b"lost")
            server.start()  # back, empty (no persistence): the client reconnects by itself
            assert await log.version() == 0
            assert await log.append(0, b"after") == 1
        finally:
            await log.close()

    try:
        asyncio.run(job())
    finally:
        server.stop()


def test_a_password_protected_redis_takes_the_password_from_the_url(tmp_path: Path) -> None:
    with RedisServer(tmp_path, password="pw-42") as server:

        async def job() -> int:
            log = await SharedLog.connect(StoreAddress(server.url))
            try:
                return await log.append(0, b"x") or 0
            finally:
                await log.close()

        assert asyncio.run(job()) == 1
        wrong = StoreAddress(server.url.replace("pw-42", "nope"))
        with pytest.raises(StoreUnavailable) as caught:
            asyncio.run(SharedLog.connect(wrong))
        assert "nope" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        (None, {}, None),
        ("memory", {}, None),
        ("redis://h:6379/0", {}, "redis://h:6379/0"),
        ("rediss://:pw@h:6380/1", {}, "rediss://:***@h:6380/1"),
        (None, {"PROSPER_MOCK_STORE": "redis://u:pw@h/2"}, "redis://u:***@h/2"),
        ("memory", {"PROSPER_MOCK_STORE": "redis://h/2"}, None),  # the option wins
    ],
)
def test_store_addresses(text: str | None, env: dict[str, str], expected: str | None) -> None:
    found = parse_store(text, environ=env)
    assert (found and found.shown) == expected


@pytest.mark.parametrize(
    ("text", "namespace", "env", "problem"),
    [
        ("mongodb://h/0", None, {}, "--store 'mongodb://h/0' is not a store"),
        ("redis://:pw@/0", None, {}, "--store 'redis://:***@/0' is not a store"),
        ("redis://h:port/0", None, {}, "is not a store"),
        (None, None, {"PROSPER_MOCK_STORE": "http://:pw@h"}, "PROSPER_MOCK_STORE holds a value"),
        ("redis://h/0", "a b", {}, "--store-namespace 'a b'"),
        ("memory", "ns", {}, "it needs --store"),
    ],
)
def test_bad_store_addresses_say_what_is_accepted(
    text: str | None, namespace: str | None, env: dict[str, str], problem: str
) -> None:
    with pytest.raises(
        ValueError, match=r"memory, redis://HOST:PORT/DB|1 to 64|needs --store"
    ) as caught:
        parse_store(text, namespace, environ=env)
    assert problem in str(caught.value) and "pw" not in str(caught.value)
