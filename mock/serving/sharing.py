"""One process of a mock shared on Redis (``serve --store redis://...``).

Every process serves one world: each holds a copy, bound to the shared log of changes
(``world.storage.replica.SharedWorld``), and every write goes through the log. ``Sharing`` is
what a process adds around that binding while it serves:

- **Writes** (``write``) run one at a time in a process, on a world caught up with the log, and
  again when another process appended first. The answer waits until every live process holds
  the write (``settle``): a read through any process then sees it, with no round trip to Redis
  on reads.
- **Following**: the change feed (pub/sub) wakes a process to apply what others wrote; a
  heartbeat twice a second says it is alive and which version it holds (``members``), and
  catches up on anything a lost message left out.
- **Leading**: one process at a time holds the ``lead`` lease; it plays what falls due on the
  clock (launched calls' steps and ends) as writes, so they happen once however many
  processes serve. A lease a dead process held expires, and another takes it.
- **The journal** is shared: each process keeps its entries (as cheaply as a journal of one
  process) until a read of the journal asks every live process to hand them in; they are
  then numbered in Redis in the order of their times, one order for all, and the reader
  fetches what it lacks.
- **Named snapshots** of the control API live in Redis, so any process restores them.
- **Upkeep**: the lead process compacts the log (a snapshot of the whole state replaces the
  entries before it) every ``COMPACT_EVERY`` entries, and a Redis that lost the log
  (restarted empty) gets it back from the processes' copies.

Stubs, fault rules and where the simulation's schedule stands are sections of the log's
entries (``SharedWorld.sections``): changed with a write, applied with it everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from prosper_mock.serving.faults import parse_rules
from prosper_mock.serving.journal import JournalEntry, Outbox
from prosper_mock.world.errors import StoreUnavailable, UnknownSnapshot
from prosper_mock.world.storage.address import StoreAddress
from prosper_mock.world.storage.base import Section
from prosper_mock.world.storage.redislog import SharedLog
from prosper_mock.world.storage.replica import MAX_ATTEMPTS, SharedWorld, StoreConflict

if TYPE_CHECKING:
    from prosper_mock.serving.faults import FaultInjector, FaultRule
    from prosper_mock.serving.journal import Journal
    from prosper_mock.serving.spec import Spec
    from prosper_mock.serving.stubs import Stubs
    from prosper_mock.serving.writer import Writer
    from prosper_mock.world.model import World
    from prosper_mock.world.simulation import Simulation


class Shared(Protocol):
    """What a ``Sharing`` shares of an app's state (``MockState`` is one)."""

    @property
    def world(self) -> World: ...
    @property
    def journal(self) -> Journal: ...
    @property
    def stubs(self) -> Stubs: ...
    @property
    def faults(self) -> FaultInjector: ...
    @property
    def spec(self) -> Spec: ...
    @property
    def simulation(self) -> Simulation | None: ...
    def set_fault_rules(self, rules: list[FaultRule]) -> None: ...
    @property
    def writer(self) -> Writer: ...


T = TypeVar("T")
MEMBER_MS = 3000  # a process not heard from for this long is no longer waited for
BEAT_SECONDS = 0.5
MAX_SNAPSHOTS = 16
COMPACT_EVERY = 1000  # entries the log may grow by before the lead process compacts it
log = logging.getLogger("prosper_mock.sharing")
_WRITING = contextvars.ContextVar("prosper_mock_writing", default=False)


class Sharing:
    """``state``'s world and control state, shared with every process on ``address``."""

    def __init__(self, state: Shared, address: StoreAddress, timeout: float = 2.0) -> None:
        self.state = state
        self.address = address
        self.member = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        journal = state.journal
        sections = [
            Section("stubs", state.stubs.to_list, lambda data: state.stubs.load(data, state.spec)),
            Section(
                "faults", state.faults.saved, lambda data: state.set_fault_rules(parse_rules(data))
            ),
            Section("journal", lambda: journal.cleared_through, lambda seq: journal.clear(seq)),
            # The process that played the simulation's events (the lead on the system clock,
            # any on a virtual clock moved through it) wrote where its schedule stands: every
            # other process goes on from there, so a new lead starts no call twice.
            Section(
                "simulation", lambda: _saved(state.simulation), lambda data: _follow(state, data)
            ),
        ]
        self.replica = SharedWorld(state.world, address, timeout, sections)
        journal.outbox = Outbox(journal.maxlen, journal.max_bytes)
        self.timeout = timeout
        self._log: SharedLog | None = None
        self._lock: asyncio.Lock | None = None
        self._flushing = asyncio.Lock()
        self._stopping = False
        self._lost_since: float | None = None  # when Redis was first seen holding less
        self._lead_until = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._lost: str | None = None  # why the store cannot be used now (logged once)
        self._compacted = 0  # the version of the last snapshot this process kept

    @property
    def leading(self) -> bool:
        """This process holds the lead lease (it plays what falls due on the clock)."""
        return time.monotonic() < self._lead_until

    @property
    def version(self) -> int:
        """The log's version this process's world holds."""
        return self.replica.version

    @property
    def shared_log(self) -> SharedLog:
        if self._log is None:
            raise StoreUnavailable(f"the store at {self.address.shown} is not connected yet")
        return self._log

    async def start(self) -> None:
        """Connect, catch up with the log (before serving anything), and start following;
        ``StoreUnavailable`` when Redis cannot be used."""
        self._lock, self._flushing = asyncio.Lock(), asyncio.Lock()
        self._log = await SharedLog.connect(self.address, self.timeout)
        self.replica.catch_up()
        await self._beat()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._follow()), loop.create_task(self._keep_beating())]

    async def stop(self) -> None:
        """Stop following; hand in what the journal holds and leave (nobody waits for us)."""
        self._stopping = True  # a cancellation a Redis call swallows still ends the loops
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self.timeout + BEAT_SECONDS)
        if self._log is not None:
            with contextlib.suppress(StoreUnavailable):
                await self.flush_journal()
                await self._log.leave(self.member)
            await self._log.close()
        self.replica.close()

    # -- writes ---------------------------------------------------------------------------

    async def write(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run ``operation`` as one write of the shared world; answers once every live
        process holds it."""
        assert self._lock is not None, "start() first"
        if _WRITING.get():  # a write inside a write (a control call's): one write
            return await operation()
        token = _WRITING.set(True)
        try:
            return await self._write(operation)
        finally:
            _WRITING.reset(token)

    async def _write(self, operation: Callable[[], Awaitable[T]]) -> T:
        assert self._lock is not None
        async with self._lock:
            for _ in range(MAX_ATTEMPTS):
                await self._caught_up()
                try:
                    result = await operation()
                except StoreConflict:
                    continue
                break
            else:
                raise StoreConflict(f"{MAX_ATTEMPTS} writes of other processes came first")
            written = self.replica.version
        with contextlib.suppress(StoreUnavailable):  # the write stands: it is in the log
            await self._caught_up()  # what the feed brought while this write held the world
        await self.settle(written)
        return result

    async def settle(self, version: int) -> None:
        """Wait until every live process holds ``version`` (at most ``MEMBER_MS``: one that
        has not answered by then is no longer counted alive). The write stands either way."""
        if version <= 0:
            return
        try:
            await self.shared_log.heartbeat(self.member, self.replica.version, MEMBER_MS)
            await _until_none(lambda: self.shared_log.behind(version))
        except StoreUnavailable as exc:
            self._note_lost(exc)

    def _idle(self) -> bool:
        """No write of this process is under way: the world may be caught up with the log
        or read whole. A write's work runs in the writer thread (``serving/writer.py``) and
        catches up itself first; what others wrote meanwhile is applied on the next beat."""
        assert self._lock is not None
        return not self._lock.locked()

    # -- following ------------------------------------------------------------------------

    def catch_up(self) -> bool:
        """Apply what others wrote; ``True`` when anything was."""
        before = self.replica.version
        return self.replica.catch_up() != before

    async def _caught_up(self) -> bool:
        """``catch_up`` in the writer thread (``serving/writer.py``): what another process
        wrote may be 150 000 rows, applied while the loop goes on serving; reads of the world
        wait for it, and a write of this process begins after it."""
        before = self.replica.version
        await self.state.writer.run(self.replica.catch_up)
        return self.replica.version != before

    async def _follow(self) -> None:
        while not self._stopping:
            try:
                async for message in self.shared_log.feed():
                    if self._stopping:
                        return
                    if isinstance(message, str):  # a journal read elsewhere wants ours
                        await self.flush_journal()
                        await self.shared_log.flushed(self.member, message)
                    elif (
                        message > self.replica.version and self._idle() and await self._caught_up()
                    ):
                        await self._beat()
            except StoreUnavailable as exc:
                self._note_lost(exc)
                await asyncio.sleep(BEAT_SECONDS)

    async def _keep_beating(self) -> None:
        while not self._stopping:
            await asyncio.sleep(BEAT_SECONDS)
            try:
                found = await self.shared_log.version()
                if not self._idle():
                    pass  # a write under way catches up itself, first
                elif found < self.replica.version:
                    await self._restore_lost()
                elif found > self.replica.version:
                    await self._caught_up()  # a change the feed did not bring (a message lost)
                if found >= self.replica.version:
                    self._lost_since = None
                await self._beat()
                if (
                    self.leading
                    and self.replica.version - self._compacted >= COMPACT_EVERY
                    and self._idle()
                ):
                    await self._compact()
            except StoreUnavailable as exc:
                self._note_lost(exc)

    async def _restore_lost(self) -> None:
        """Redis holds less than this process applied: it lost the log (restarted empty).
        Once every live process has had two beats to say which version it holds, the one
        holding the most (the first by name among equals) gives the log back its copy; the
        others then catch up from it. Until then no process writes (its log is behind it)."""
        now = time.monotonic()
        if self._lost_since is None:
            self._lost_since = now
            return
        if now - self._lost_since < 2 * BEAT_SECONDS:
            return
        members = await self.shared_log.members()
        members[self.member] = self.replica.version
        first, _ = min(members.items(), key=lambda item: (-item[1], item[0]))
        if first == self.member:
            await self._reseed()

    async def _reseed(self) -> None:
        """Start the log again from this process's copy."""
        version = self.replica.version
        if await self.shared_log.reseed(version, self._whole_state()):
            log.warning(
                "the store at %s had lost the shared world: restored it from this process "
                "(version %d)", self.address.shown, version,
            )  # fmt: skip
        self._compacted = version

    async def _compact(self) -> None:
        """Keep the whole state at this version instead of the log's entries up to it."""
        version = self.replica.version
        await self.shared_log.compact(version, self._whole_state())
        self._compacted = version

    def _whole_state(self) -> bytes:
        """The whole shared state, encoded: for a snapshot of the log or a named one."""
        return json.dumps(self.replica.whole_state(), ensure_ascii=False).encode()

    async def _beat(self) -> None:
        log_ = self.shared_log
        await log_.heartbeat(self.member, self.replica.version, MEMBER_MS)
        if await log_.lease("lead", self.member, MEMBER_MS):
            # Counted as held a beat less than the lease lasts: never two leading at once.
            self._lead_until = time.monotonic() + MEMBER_MS / 1000 - 2 * BEAT_SECONDS
        else:
            self._lead_until = 0.0
        if self._lost is not None:
            log.warning("the store at %s answers again", self.address.shown)
            self._lost = None

    def _note_lost(self, exc: StoreUnavailable) -> None:
        if self._lost is None:
            log.error("%s", exc)
        self._lost = str(exc)
        self._lead_until = 0.0

    # -- the shared journal ---------------------------------------------------------------

    async def flush_journal(self) -> None:
        """Hand this process's journal entries in to the shared journal."""
        outbox = self.state.journal.outbox
        if not outbox:
            return
        async with self._flushing:  # one hand-in at a time: an entry is handed in once
            taken = outbox.take()
            try:
                await self.shared_log.journal_hand_in(
                    [
                        (f"{self.member}:{entry.seq}", entry.wall_time, _wire(entry))
                        for entry in taken
                    ]
                )
            except StoreUnavailable:
                for entry in taken:  # kept for the next hand-in: a lost store loses none
                    outbox.add(entry)
                raise

    async def pull_journal(self) -> None:
        """Bring the journal up to date with every process's requests (before a read): every
        live process hands in what it answered so far (at most ``MEMBER_MS`` is waited)."""
        await self.flush_journal()
        log_, token = self.shared_log, uuid.uuid4().hex
        await log_.ask_flush(token)
        await log_.flushed(self.member, token)
        await _until_none(lambda: log_.not_flushed(token))
        journal = self.state.journal
        await log_.journal_number(journal.maxlen)
        while True:
            last, first, raw = await self.shared_log.journal_since(journal.last_seq)
            journal.take(first, [_entry(data) for data in raw])
            if not raw or journal.last_seq >= last:
                return

    # -- named snapshots ------------------------------------------------------------------

    async def take_snapshot(self) -> str:
        """Keep the whole shared state under a new name (the oldest go past the limit)."""
        client, key = self.shared_log.client, self.shared_log.keys["snapshots"]
        name = f"{time.time_ns():016x}{uuid.uuid4().hex[:16]}"
        state = self._whole_state()
        names = sorted(await self.shared_log.call(client.hkeys(key)))
        old = names[: max(0, len(names) - MAX_SNAPSHOTS + 1)]
        if old:
            await self.shared_log.call(client.hdel(key, *old))
        await self.shared_log.call(client.hset(key, name, state))
        return name

    async def restore_snapshot(self, name: str) -> None:
        """Make the shared state the snapshot ``name`` (then forgotten); ``UnknownSnapshot``."""
        client, key = self.shared_log.client, self.shared_log.keys["snapshots"]
        found = await self.shared_log.call(client.hget(key, name))
        if found is None:
            raise UnknownSnapshot(f"no snapshot {name!r} (restored already, or never taken)")
        saved = json.loads(found)

        async def restore() -> None:
            self.replica.restore(saved)

        await self.write(restore)
        await self.shared_log.call(client.hdel(key, name))


async def _until_none(count: Callable[[], Awaitable[int]]) -> None:
    """Poll ``count`` (of live processes yet to do something) until it is 0, or for at most
    ``MEMBER_MS``: one that has not done it by then is no longer counted alive."""
    deadline = time.monotonic() + MEMBER_MS / 1000
    delay = 0.0002
    while await count() and time.monotonic() < deadline:
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.02)


def _saved(simulation: Simulation | None) -> dict[str, object] | None:
    return None if simulation is None else simulation.saved()


def _follow(state: Shared, saved: dict[str, object] | None) -> None:
    """Go on with the simulation as the process that wrote ``saved`` left it (a process
    started without ``--simulate`` has none to follow)."""
    if state.simulation is not None and saved is not None:
        state.simulation.resume(saved, same_schedule=True)


def _wire(entry: JournalEntry) -> bytes:
    return json.dumps(entry.to_dict(), ensure_ascii=False).encode()


def _entry(raw: bytes) -> JournalEntry | None:
    if not raw:
        return None
    return JournalEntry.from_dict(json.loads(raw))
