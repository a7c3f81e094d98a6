"""Where a shared store is: the URL forms ``--store`` takes, a password never shown, and the
clients that reach it, through Sentinels too (a real ``redis-server --sentinel``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prosper_mock.world.storage.address import (
    Sentinels,
    StoreAddress,
    async_client,
    parse_store,
    sync_client,
)
from tests.redisserver import RedisSentinel, RedisServer


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@h:6379/0", "redis://:***@h:6379/0"),
        ("rediss://user:s3cret@h:6380/1", "rediss://user:***@h:6380/1"),
        (
            "redis+sentinel://:s3cret@a:26379,b:26379/mymaster/2",
            "redis+sentinel://:***@a:26379,b:26379/mymaster/2",
        ),
        ("redis://h:6379/0", "redis://h:6379/0"),
    ],
    ids=["redis", "rediss-user", "sentinel", "no-password"],
)
def test_a_password_is_masked_in_every_form(url: str, shown: str) -> None:
    assert StoreAddress(url).shown == shown
    assert parse_store(url) == StoreAddress(url)


def test_a_sentinel_address_names_its_sentinels_service_database_and_password() -> None:
    address = StoreAddress("redis+sentinel://:p%40ss@a:26379,[::1]:26380/my%20master/3")
    assert address.sentinels == Sentinels((("a", 26379), ("::1", 26380)), "my master", 3, "p@ss")
    assert StoreAddress("redis://h:1/0").sentinels is None


@pytest.mark.parametrize(
    "url",
    [
        "http://h:1/0",
        "redis://h:port/0",
        "redis+sentinel://a:26379",
        "redis+sentinel://a/mymaster",
        "redis+sentinel://a:26379/mymaster/x",
        "redis+sentinel://:s3cret@a:b/mymaster",
    ],
)
def test_what_is_not_a_store_is_refused_saying_what_is(url: str) -> None:
    with pytest.raises(ValueError, match="redis\\+sentinel://HOST:PORT") as info:
        parse_store(url)
    assert "s3cret" not in str(info.value)


def test_the_clients_reach_the_master_through_its_sentinel(tmp_path: Path) -> None:
    with (
        RedisServer(tmp_path / "master", password="pw") as master,
        RedisSentinel(tmp_path / "sentinel", master) as sentinel,
    ):
        address = StoreAddress(sentinel.url)
        client = sync_client(address, 5.0)
        client.set("k", "v")
        assert client.get("k") == b"v"
        assert client.connection_pool.get_master_address() == ("127.0.0.1", master.port)
        client.close()

        import asyncio

        async def read() -> bytes | None:
            found = async_client(address, 5.0)
            try:
                value: bytes | None = await found.get("k")
                return value
            finally:
                await found.aclose()

        assert asyncio.run(read()) == b"v"
