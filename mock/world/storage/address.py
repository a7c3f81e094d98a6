"""Where a shared store is (``--store``), and the redis-py clients that reach it.

Three forms are accepted: ``redis://[:PASSWORD@]HOST:PORT/DB``, ``rediss://...`` (TLS), and
``redis+sentinel://[:PASSWORD@]HOST:PORT[,HOST:PORT...]/SERVICE[/DB]``, which asks those
Sentinels which server is the master of ``SERVICE`` (a failover moves the clients with it).
A password is never printed: ``StoreAddress.shown`` masks it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from prosper_mock.world.errors import StoreUnavailable

if TYPE_CHECKING:
    import redis
    import redis.asyncio

STORE_ENV = "PROSPER_MOCK_STORE"
DEFAULT_NAMESPACE = "prosper-mock"
SENTINEL = "redis+sentinel"
_SCHEMES = ("redis", "rediss", SENTINEL)
_NAMESPACE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})")
ACCEPTED = (
    "give memory, redis://HOST:PORT/DB, rediss://HOST:PORT/DB or "
    "redis+sentinel://HOST:PORT[,HOST:PORT]/SERVICE[/DB]"
)


@dataclasses.dataclass(frozen=True)
class Sentinels:
    """A ``redis+sentinel://`` address, parsed: the Sentinels, the service they watch, the
    database and the master's password."""

    hosts: tuple[tuple[str, int], ...]
    service: str
    db: int
    password: str | None


@dataclasses.dataclass(frozen=True)
class StoreAddress:
    """Where the shared store is: a ``redis://``, ``rediss://`` or ``redis+sentinel://`` URL
    (its password included) and the namespace that keeps this mock's keys apart from others'
    on the same Redis."""

    url: str
    namespace: str = DEFAULT_NAMESPACE

    @property
    def shown(self) -> str:
        """The URL as it may be printed: a password in it is masked."""
        scheme, sep, rest = self.url.partition("://")
        netloc, slash, path = rest.partition("/")
        auth, at, hosts = netloc.rpartition("@")
        if not sep or not at or ":" not in auth:
            return self.url
        user = auth.partition(":")[0]
        return f"{scheme}://{user}:***@{hosts}{slash}{path}"

    @property
    def sentinels(self) -> Sentinels | None:
        """The Sentinels of a ``redis+sentinel://`` address (``None`` for another)."""
        scheme, _, rest = self.url.partition("://")
        if scheme != SENTINEL:
            return None
        netloc, _, path = rest.partition("/")
        auth, _, hosts = netloc.rpartition("@")
        found = []
        for host in hosts.split(","):
            match = _HOST_PORT.fullmatch(host)
            if match is None:
                raise ValueError(f"{host!r} is not HOST:PORT")
            found.append((match.group(1).strip("[]"), int(match.group(2))))
        service, _, db = path.partition("/")
        if not service or not (db == "" or db.isdigit()):
            raise ValueError("the path must be /SERVICE or /SERVICE/DB")
        password = unquote(auth.partition(":")[2]) if ":" in auth else None
        return Sentinels(tuple(found), unquote(service), int(db or 0), password)


def parse_store(
    text: str | None, namespace: str | None = None, environ: Mapping[str, str] = os.environ
) -> StoreAddress | None:
    """``--store`` (or ``PROSPER_MOCK_STORE`` when it is not given) as an address; ``None``
    for the in-memory store. Raises ``ValueError`` saying what is accepted."""
    given = text if text is not None else environ.get(STORE_ENV) or "memory"
    name = namespace if namespace is not None else DEFAULT_NAMESPACE
    if not _NAMESPACE.fullmatch(name):
        raise ValueError(f"--store-namespace {name!r}: 1 to 64 letters, digits or any of _ . : -")
    if given == "memory":
        if namespace is not None:
            raise ValueError("--store-namespace names keys on a shared store: it needs --store")
        return None
    address = StoreAddress(given, name)
    if not _valid(address):
        shown = "it" if text is None else repr(address.shown)
        where = f"{STORE_ENV} holds a value that" if text is None else f"--store {shown}"
        raise ValueError(f"{where} is not a store: {ACCEPTED}")
    return address


def _valid(address: StoreAddress) -> bool:
    try:
        parts = urlsplit(address.url)
        if parts.scheme == SENTINEL:
            return address.sentinels is not None
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in _SCHEMES and bool(parts.hostname)


@contextlib.contextmanager
def reaching(address: StoreAddress) -> Iterator[None]:
    """A Redis that cannot be reached, or refuses the client, in this block is
    ``StoreUnavailable``: one line, its password masked."""
    from redis.exceptions import RedisError

    try:
        yield
    except (RedisError, OSError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise StoreUnavailable(f"the store at {address.shown} cannot be used: {reason}") from None


def sync_client(address: StoreAddress, timeout: float) -> redis.Redis:
    """A synchronous client of the store (through its Sentinels for ``redis+sentinel://``)."""
    found = address.sentinels
    if found is None:
        from redis import Redis

        return Redis.from_url(address.url, socket_timeout=timeout, socket_connect_timeout=timeout)
    from redis.sentinel import Sentinel

    sentinel = Sentinel(list(found.hosts), socket_timeout=timeout, socket_connect_timeout=timeout)
    master: redis.Redis = sentinel.master_for(
        found.service, db=found.db, password=found.password,
        socket_timeout=timeout, socket_connect_timeout=timeout,
    )  # fmt: skip
    return master


def async_client(address: StoreAddress, timeout: float) -> redis.asyncio.Redis:
    """An asyncio client of the store (through its Sentinels for ``redis+sentinel://``)."""
    found = address.sentinels
    if found is None:
        from redis.asyncio import Redis

        return Redis.from_url(address.url, socket_timeout=timeout, socket_connect_timeout=timeout)
    from redis.asyncio.sentinel import Sentinel

    sentinel = Sentinel(list(found.hosts), socket_timeout=timeout, socket_connect_timeout=timeout)
    master: redis.asyncio.Redis = sentinel.master_for(
        found.service, db=found.db, password=found.password,
        socket_timeout=timeout, socket_connect_timeout=timeout,
    )  # fmt: skip
    return master
