"""A world kept equal to the shared log on Redis: every process holds one, every write goes
through the log.

A ``SharedWorld`` catches its world up with the log (``catch_up``: the entries after the version
it holds, or the snapshot first when they were compacted away) and appends the ``Change`` of each
of its world's transactions as the next entry, if the log is still at the version the world
holds. An entry carries, besides the change, where a virtual clock stands and the ``sections``
(parts of the state a higher layer owns: stubs, fault rules) a write changed, so they are shared
in the same order and all or nothing with the world's rows. When another process appended
first, the append is refused: the transaction is undone (``StoreConflict``, raised by the
world's listener, so the world's own rollback puts it back) and ``write`` catches up and runs
the write again, on a world that now holds the other's. So every process applies the same
changes in the same order, and an id is never issued twice.

A bound world does not play the dialer's due events on reads (``World.plays_on_read``): a read
must not write, and on a shared store only the process that leads plays them, as writes.

The world is synchronous (a write runs under its lock, and its listener must decide before the
write returns), so this binding uses redis-py's synchronous client; the scripts are the shared
log's (``redislog``), one text for both clients.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from prosper_mock.base.jsontext import dumps_in_slices
from prosper_mock.world.clock import Clock, SystemClock, VirtualClock
from prosper_mock.world.errors import StoreUnavailable, WorldError
from prosper_mock.world.storage.address import StoreAddress, reaching, sync_client
from prosper_mock.world.storage.redislog import APPEND, SINCE, SINCE_BATCH, key_names

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from redis import Redis

    from prosper_mock.world.storage.base import Change, Section

T = TypeVar("T")
MAX_ATTEMPTS = 1000  # writers racing for one entry: each round, one of them wins


class World(Protocol):
    """What a ``SharedWorld`` uses of its world (``prosper_mock.World`` is one)."""

    listeners: list[Callable[[Any], None]]
    loaded: dict[str, Any] | None
    clock: Clock
    plays_on_read: bool

    def batch(self) -> AbstractContextManager[None]: ...
    def announce(self) -> None: ...
    def change(self) -> Change: ...
    def changes(self) -> dict[str, Any]: ...
    def snapshot(self) -> Any: ...
    def restore(self, saved: Any) -> None: ...
    def reset(self) -> None: ...
    def load(self, data: Mapping[str, Any]) -> None: ...
    def apply_changes(self, changes: Mapping[str, Any], *, exact: bool = False) -> None: ...
    @property
    def targets(self) -> Any: ...


def check_store(address: StoreAddress, timeout: float = 5.0) -> None:
    """Ask the Redis at ``address`` for a ``PING``; ``StoreUnavailable`` (one line, no
    password) when it cannot be reached or refuses the client."""
    client = sync_client(address, timeout)
    try:
        with reaching(address):
            client.ping()
    finally:
        client.close()


class StoreLost(StoreUnavailable):
    """The log holds fewer changes than this process applied: Redis lost them."""


class StoreConflict(WorldError):
    """Another process appended to the shared log first: catch up and write again."""


class SharedWorld:
    """``world`` bound to the shared log at ``address`` (``close`` unbinds it).

    ``sections`` are the parts of the state a higher layer owns (``persistence.Section``):
    an entry carries those a write changed, and applying it loads them.
    """

    def __init__(
        self,
        world: World,
        address: StoreAddress,
        timeout: float = 2.0,
        sections: Iterable[Section] = (),
    ) -> None:

        self.world = world
        self.address = address
        self.client: Redis = sync_client(address, timeout)
        self.keys, self.channel = key_names(address.namespace)
        self._append = self.client.register_script(APPEND)
        self._since = self.client.register_script(SINCE)
        self.version = 0  # the log's version the world holds
        self._applying = False  # the world is taking the log's changes: none to append
        # Where every process starts (its base, built from the same options): what a whole
        # entry without a loaded base goes back to.
        self._start = world.snapshot()
        self._started_virtual = isinstance(world.clock, VirtualClock)
        self.sections = {section.name: section for section in sections}
        self._held = {name: section.saved() for name, section in self.sections.items()}
        world.plays_on_read = False
        world.listeners.append(self._commit)

    def close(self) -> None:
        self.world.listeners.remove(self._commit)
        self.world.plays_on_read = True
        self.client.close()

    def _call(self, command: Callable[[], T]) -> T:
        with reaching(self.address):
            return command()

    def log_version(self) -> int:
        """The version the shared log is at now (0: the namespace holds no world yet)."""
        return int(self._call(lambda: self.client.get(self.keys["version"])) or 0)

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
            if int(found[0]) < self.version:
                raise StoreLost(
                    f"the store at {self.address.shown} lost the shared world (restarted "
                    "empty?): it is being restored from the processes' copies"
                )
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

    def whole_state(self) -> dict[str, Any]:
        """The whole shared state as one entry (what a snapshot of the log keeps, and what a
        named snapshot of the control API restores): base, overlay, clock and sections."""
        clock = self.world.clock
        return {
            "whole": True,
            "base": self.world.loaded,
            "document": self.world.changes(),
            "clock": clock.now() if isinstance(clock, VirtualClock) else None,
            "sections": {name: section.saved() for name, section in self.sections.items()},
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Make the world and the sections ``state`` (a ``whole_state``) as one write; target
        ids issued since are never issued again. Call it inside ``write``."""
        issued = self.world.targets.added
        with self.world.batch():
            self._put(state, force_whole=True)
            self.world.targets.added = max(issued, self.world.targets.added)
            self._load_sections(state.get("sections") or {}, hold=False)

    def _apply(self, raw: bytes, force_whole: bool = False) -> None:
        """Apply one entry of the log, all of it or none; one this mock cannot read (written
        by hand, or by another kit's version) is ``StoreUnavailable`` naming it."""
        self._applying = True
        try:
            entry = json.loads(raw)
            with self.world.batch():
                self._put(entry, force_whole)
                self._load_sections(entry.get("sections") or {}, hold=True)
                # The world's listeners hear of it, as of a write of this process: a state
                # file kept beside the log copies it (its own ``_commit`` lets it be).
                self.world.announce()
        except StoreUnavailable:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            which = "its snapshot" if force_whole else f"change {self.version + 1}"
            raise StoreUnavailable(
                f"the store at {self.address.shown} holds {which}, which this mock cannot "
                f"apply ({type(exc).__name__}: {str(exc)[:200]}): reset the namespace"
            ) from None
        finally:
            self._applying = False

    def _put(self, entry: Mapping[str, Any], force_whole: bool) -> None:
        world = self.world
        if entry["whole"] or force_whole:
            base = entry.get("base")
            if base is not None:
                world.load(base)
            elif world.loaded is None:
                world.reset()
            else:  # back from a loaded base to the one every process started with
                world.restore(self._start)
        world.apply_changes(entry["document"], exact=True)
        now = entry.get("clock")
        if now is None:
            if isinstance(world.clock, VirtualClock) and not self._started_virtual:
                world.clock = SystemClock()  # a frozen clock given back to the system
        elif isinstance(world.clock, VirtualClock):
            if now > world.clock.now():
                world.clock.set(now)  # where the writer's virtual clock stood: one for all
        else:
            world.clock = VirtualClock(now)  # frozen elsewhere (a test that moves time)

    def _load_sections(self, found: Mapping[str, Any], hold: bool) -> None:
        for name, data in found.items():
            section = self.sections.get(name)
            if section is not None:
                section.load(data)
                if hold:
                    self._held[name] = data

    def _commit(self, world: Any) -> None:
        """The world's listener: append its transaction's change, or refuse it."""
        if self._applying:
            return
        change = world.change()
        entry: dict[str, Any] = {"whole": change.whole, "document": change.document}
        clock = world.clock
        entry["clock"] = clock.now() if isinstance(clock, VirtualClock) else None
        if change.whole:
            entry["base"] = world.loaded  # a load: the other processes load it too
        changed = self._changed_sections()
        if changed:
            entry["sections"] = changed
        if change.empty and not changed and entry["clock"] is None:
            return
        self.append(entry)
        self._held.update(changed)

    def _changed_sections(self) -> dict[str, Any]:
        now = {name: section.saved() for name, section in self.sections.items()}
        return {name: data for name, data in now.items() if data != self._held.get(name)}

    def commit_sections(self) -> None:
        """Append the sections a write changed outside the world (stubs, fault rules), as an
        entry of their own; ``StoreConflict`` when another process wrote first. It is a
        transaction of the world that changed no row: its listeners (a state file kept beside
        the log) hear of it as of any other."""
        if self._changed_sections():
            with self.world.batch():
                self.world.announce()

    def append(self, entry: Mapping[str, Any]) -> None:
        """Append ``entry`` as the log's next, if the log is still at the world's version."""
        # In slices: the writer thread encodes it while the event loop goes on serving.
        raw = dumps_in_slices(entry, ensure_ascii=False).encode("utf-8")
        keys = [self.keys["version"], self.keys["log"]]
        done, version = self._call(lambda: self._append(keys, [self.version, raw, self.channel]))
        if not done:
            raise StoreConflict(f"another process wrote change {version} first")
        self.version = int(version)
