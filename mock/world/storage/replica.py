"""A world kept equal to the shared log on Redis: every process holds one, every write goes
through the log.

A ``SharedWorld`` catches its world up with the log (``catch_up``: the entries after the version
it holds, or the snapshot first when they were compacted away) and appends the ``Change`` of each
of its world's transactions as the next entry, if the log is still at the version the world
holds. When another process appended first, the append is refused: the transaction is undone
(``StoreConflict``, raised by the world's listener, so the world's own rollback puts it back) and
``write`` catches up and runs the write again, on a world that now holds the other's. So every
process applies the same changes in the same order, and an id is never issued twice.

The world is synchronous (a write runs under its lock, and its listener must decide before the
write returns), so this binding uses redis-py's synchronous client; the scripts are the shared
log's (``redislog``), one text for both clients.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from prosper_mock.world.clock import Clock, VirtualClock
from prosper_mock.world.errors import StoreUnavailable, WorldError
from prosper_mock.world.storage.redislog import APPEND, SINCE, SINCE_BATCH, StoreAddress, key_names

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from redis import Redis

    from prosper_mock.world.storage.base import Change

T = TypeVar("T")
MAX_ATTEMPTS = 1000  # writers racing for one entry: each round, one of them wins


class World(Protocol):
    """What a ``SharedWorld`` uses of its world (``prosper_mock.World`` is one)."""

    listeners: list[Callable[[Any], None]]
    loaded: dict[str, Any] | None
    clock: Clock

    def batch(self) -> AbstractContextManager[None]: ...
    def change(self) -> Change: ...
    def reset(self) -> None: ...
    def load(self, data: Mapping[str, Any]) -> None: ...
    def apply_changes(self, changes: Mapping[str, Any], *, exact: bool = False) -> None: ...


class StoreConflict(WorldError):
    """Another process appended to the shared log first: catch up and write again."""


class SharedWorld:
    """``world`` bound to the shared log at ``address`` (``close`` unbinds it)."""

    def __init__(self, world: World, address: StoreAddress, timeout: float = 5.0) -> None:
        from redis import Redis

        self.world = world
        self.address = address
        self.client: Redis = Redis.from_url(
            address.url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self.keys, self.channel = key_names(address.namespace)
        self._append = self.client.register_script(APPEND)
        self._since = self.client.register_script(SINCE)
        self.version = 0  # the log's version the world holds
        self._applying = False  # the world is taking the log's changes: none to append
        world.listeners.append(self._commit)

    def close(self) -> None:
        self.world.listeners.remove(self._commit)
        self.client.close()

    def _call(self, command: Callable[[], T]) -> T:
        from redis.exceptions import RedisError

        try:
            return command()
        except (RedisError, OSError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise StoreUnavailable(
                f"the store at {self.address.shown} cannot be used: {reason}"
            ) from None

    def catch_up(self) -> int:
        """Apply what the log holds beyond the world's version; the version reached."""
        keys = [self.keys["version"], self.keys["log"], self.keys["snapshot"]]
        while True:
            found = self._call(lambda: self._since(keys, [self.version, SINCE_BATCH]))
            if int(found[0]) == -1:  # compacted past us: start from the snapshot
                at, data = self._call(
                    lambda: self.client.hmget(self.keys["snapshot"], ["version", "data"])
                )
                if not isinstance(data, bytes) or at is None:
                    raise StoreUnavailable(
                        f"the store at {self.address.shown} lost its snapshot: reset it"
                    )
                self._apply(data, force_whole=True)
                self.version = int(at)
                continue
            for entry in found[2:]:
                self._apply(bytes(entry))
                self.version += 1
            if self.version >= int(found[0]):
                return self.version

    def write(self, operation: Callable[[], T]) -> T:
        """Run ``operation`` (a write of the world) as the log's next entry: caught up first,
        and again, with the operation run anew, whenever another process appended first."""
        for _ in range(MAX_ATTEMPTS):
            self.catch_up()
            try:
                return operation()
            except StoreConflict:
                continue
        raise StoreConflict(f"{MAX_ATTEMPTS} writes of other processes came first: try again")

    def _apply(self, raw: bytes, force_whole: bool = False) -> None:
        entry: dict[str, Any] = json.loads(raw)
        self._applying = True
        try:
            with self.world.batch():
                if entry.get("base") is not None:
                    self.world.load(entry["base"])
                elif entry["whole"] or force_whole:
                    self.world.reset()
                self.world.apply_changes(entry["document"], exact=True)
                clock, now = self.world.clock, entry.get("clock")
                if isinstance(clock, VirtualClock) and now is not None and now > clock.now():
                    clock.set(now)  # where the writer's virtual clock stood: one clock for all
        finally:
            self._applying = False

    def _commit(self, world: Any) -> None:
        """The world's listener: append its transaction's change, or refuse it."""
        if self._applying:
            return
        change = world.change()
        entry: dict[str, Any] = {"whole": change.whole, "document": change.document}
        if isinstance(world.clock, VirtualClock):
            entry["clock"] = world.clock.now()  # a move is a change too, though no row moved
        elif change.empty:
            return
        if change.whole and world.loaded is not None:
            entry["base"] = world.loaded  # a load: the other processes load it too
        raw = json.dumps(entry, ensure_ascii=False).encode("utf-8")
        keys = [self.keys["version"], self.keys["log"]]
        done, version = self._call(lambda: self._append(keys, [self.version, raw, self.channel]))
        if not done:
            raise StoreConflict(f"another process wrote change {version} first")
        self.version = int(version)
