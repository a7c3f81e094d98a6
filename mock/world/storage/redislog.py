"""The shared store on Redis: one ordered log of the world's changes, for every process.

Every process rebuilds the seeded base itself; what they share is the log of ``Change``
documents (``storage.base``), numbered 1, 2, 3... by the shared version. A process appends the
change of a write only if the log is still at the version its world was at (``append``: a Lua
script, so the check, the new version, the entry and its announcement are one step, all or
nothing); when another process appended first, the append is refused and the writer catches up
and tries again. That gives one total order of writes, and ids are never issued twice: each is
drawn from a world that holds every earlier write.

A read that must see every write answered before it asks ``version`` (one ``GET``) and, when
its world is behind, fetches what it lacks (``since``); the change feed (``feed``: Redis
pub/sub) tells idle processes to catch up before anyone asks. ``compact`` keeps the log short: a
snapshot of the whole overlay at a version replaces the entries up to it, and a process that
starts late begins from that snapshot. ``lease`` lets one process at a time drive the clock.

All keys of a namespace share one hash tag (``{namespace}``), so the scripts run on Redis
Cluster too. The client is redis-py's ``redis.asyncio``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from prosper_mock.world.errors import StoreUnavailable
from prosper_mock.world.storage.address import StoreAddress, async_client, reaching

if TYPE_CHECKING:
    from redis.asyncio import Redis

SINCE_BATCH = 500  # entries fetched per round trip while catching up

# KEYS: version, log, channel name in ARGV[3]. ARGV: the version the writer's world is at,
# the entry. The check and the write are one step: no other client runs between them.
APPEND = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current ~= tonumber(ARGV[1]) then return {0, current} end
current = current + 1
redis.call('SET', KEYS[1], current)
redis.call('HSET', KEYS[2], current, ARGV[2])
redis.call('PUBLISH', ARGV[3], current)
return {1, current}
"""

# KEYS: version, log, snapshot. ARGV: the version the reader is at, how many to fetch.
# Answers {version now, first entry's version, entries...}; {-1, version now} when the
# entries after the reader's version were compacted away (it starts from the snapshot).
SINCE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(redis.call('HGET', KEYS[3], 'version') or '0')
local after = tonumber(ARGV[1])
if after < floor then return {-1, current} end
local out = {current, after + 1}
local last = math.min(current, after + tonumber(ARGV[2]))
for v = after + 1, last do out[#out + 1] = redis.call('HGET', KEYS[2], v) end
return out
"""

# KEYS: version, log, snapshot. ARGV: the snapshot's version, the snapshot. A snapshot older
# than the one kept, or of a version the log has not reached, changes nothing.
COMPACT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(redis.call('HGET', KEYS[3], 'version') or '0')
local at = tonumber(ARGV[1])
if at <= floor or at > current then return 0 end
redis.call('HSET', KEYS[3], 'version', at, 'data', ARGV[2])
for v = floor + 1, at do redis.call('HDEL', KEYS[2], v) end
return 1
"""

# KEYS: version, log, snapshot. ARGV: a version, the whole state at it. For a Redis that lost
# the log (restarted empty): the log starts again from that state, unless it is that far.
RESEED = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = tonumber(ARGV[1])
if current >= at then return 0 end
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[1], at)
redis.call('HSET', KEYS[3], 'version', at, 'data', ARGV[2])
return 1
"""

# KEYS: lease. ARGV: holder, milliseconds. Taken when free, renewed by its holder.
LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


# Redis's own clock, in milliseconds: it times every member, so the hosts' clocks need not
# agree.
_NOW_MS = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
"""

# KEYS: members, applied. ARGV: the member, the version it holds, milliseconds it is known
# alive for.
HEARTBEAT = (
    _NOW_MS
    + """
redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - 60000)
return 1
"""
)

# KEYS: members, a hash of theirs (applied, flushed). The members alive now, each with its
# value in that hash ('' when it has none).
LIVE = (
    _NOW_MS
    + """
local out = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ms, '+inf')) do
  out[#out + 1] = member
  out[#out + 1] = redis.call('HGET', KEYS[2], member) or ''
end
return out
"""
)

# KEYS: journal-pending, journal-pending-data. ARGV: triples of an entry's id, its time (the
# score: the shared journal's order), the entry. Entries handed in wait here to be numbered.
HAND_IN = """
for i = 1, #ARGV, 3 do
  redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
end
return 1
"""

# KEYS: journal-pending, journal-pending-data, journal, journal-seq. ARGV: how many entries to
# keep. Numbers the waiting entries in the order of their times, after every entry numbered
# before; keeps the last ARGV[1]. Answers the last number.
NUMBER = """
local last = tonumber(redis.call('GET', KEYS[4]) or '0')
local first = last + 1
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  last = last + 1
  redis.call('HSET', KEYS[3], last, redis.call('HGET', KEYS[2], id))
end
redis.call('SET', KEYS[4], last)
redis.call('DEL', KEYS[1], KEYS[2])
local oldest = last - tonumber(ARGV[1])
for seq = math.max(1, first - tonumber(ARGV[1])), oldest do redis.call('HDEL', KEYS[3], seq) end
return last
"""

# KEYS: journal, journal-seq. ARGV: the last number the reader holds, how many to fetch.
# Answers {the last number, the first number answered, entries...} (gaps: trimmed or cleared).
JOURNAL_SINCE = """
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local after = tonumber(ARGV[1])
if after > last then after = 0 end
local first = after + 1
local upto = math.min(last, after + tonumber(ARGV[2]))
local out = {last, first}
for seq = first, upto do out[#out + 1] = redis.call('HGET', KEYS[1], seq) or '' end
return out
"""


KEYS = (
    "version", "log", "snapshot", "members", "applied", "flushed",
    "journal", "journal-seq", "journal-pending", "journal-pending-data", "snapshots",
)  # fmt: skip


def key_names(namespace: str) -> tuple[dict[str, str], str]:
    """A namespace's keys and its change feed's channel, all under the hash tag
    ``{namespace}``: one Redis Cluster slot holds them all. The log: ``version``, ``log``,
    ``snapshot``; the processes: ``members`` (until when each is known alive), ``applied``
    (the version each holds) and ``flushed`` (the last flush request each answered); the shared
    journal: ``journal`` and ``journal-seq`` (numbered entries), ``journal-pending`` and
    ``journal-pending-data`` (entries handed in, to be numbered); the control
    API's named snapshots: ``snapshots``."""
    tag = f"prosper-mock:{{{namespace}}}"
    keys = {name: f"{tag}:{name}" for name in KEYS}
    return keys, f"{tag}:changes"


def lease_key(namespace: str, name: str) -> str:
    """The key of a namespace's lease ``name`` (``SharedLog.lease``), under its hash tag."""
    return f"prosper-mock:{{{namespace}}}:lease:{name}"


class SharedLog:
    """The ordered log of one namespace on Redis (``connect``)."""

    def __init__(self, client: Redis, address: StoreAddress) -> None:
        self.client = client
        self.address = address
        self.keys, self.channel = key_names(address.namespace)
        self._append = client.register_script(APPEND)
        self._since = client.register_script(SINCE)
        self._compact = client.register_script(COMPACT)
        self._lease = client.register_script(LEASE)
        self._reseed = client.register_script(RESEED)
        self._heartbeat = client.register_script(HEARTBEAT)
        self._live_script = client.register_script(LIVE)
        self._hand_in = client.register_script(HAND_IN)
        self._number = client.register_script(NUMBER)
        self._journal_since = client.register_script(JOURNAL_SINCE)
        self.flush_channel = f"{self.channel}:flush"

    @classmethod
    async def connect(cls, address: StoreAddress, timeout: float = 5.0) -> SharedLog:
        """A log on the Redis at ``address``; ``StoreUnavailable`` (one line, no password)
        when it cannot be reached or refuses the client."""
        client = async_client(address, timeout)
        log = cls(client, address)
        try:
            await log.call(client.ping())
        except StoreUnavailable:
            await client.aclose()
            raise
        return log

    async def close(self) -> None:
        await self.client.aclose()

    async def call(self, awaitable: Any) -> Any:
        """Await a Redis command; a lost or refusing Redis is ``StoreUnavailable``."""
        with reaching(self.address):
            return await awaitable

    async def version(self) -> int:
        """How many changes the log has had (one ``GET``)."""
        found = await self.call(self.client.get(self.keys["version"]))
        return int(found or 0)

    async def append(self, expected: int, entry: bytes) -> int | None:
        """Add ``entry`` as change ``expected + 1`` if the log is at ``expected``: its version,
        or ``None`` when another process appended first (catch up and try again)."""
        keys = [self.keys["version"], self.keys["log"]]
        done, version = await self.call(self._append(keys, [expected, entry, self.channel]))
        return int(version) if done else None

    async def since(self, version: int) -> tuple[int, list[bytes]] | None:
        """The entries after ``version``, in order, with the version they bring the reader
        to; ``None`` when they were compacted away (start again from ``snapshot``)."""
        keys = [self.keys["version"], self.keys["log"], self.keys["snapshot"]]
        entries: list[bytes] = []
        at = version
        while True:
            found = await self.call(self._since(keys, [at, SINCE_BATCH]))
            if int(found[0]) == -1:
                return None
            current, batch = int(found[0]), [bytes(entry) for entry in found[2:]]
            entries += batch
            at += len(batch)
            if at >= current:
                return at, entries

    async def compact(self, version: int, snapshot: bytes) -> bool:
        """Keep ``snapshot`` (the whole overlay at ``version``) instead of the entries up to
        it; ``False`` when a later snapshot is kept already or the log is not that far."""
        keys = [self.keys["version"], self.keys["log"], self.keys["snapshot"]]
        return bool(await self.call(self._compact(keys, [version, snapshot])))

    async def reseed(self, version: int, state: bytes) -> bool:
        """Start the log again from ``state`` (the whole state at ``version``) when it holds
        less than that (Redis lost it); ``False`` when it holds as much already."""
        keys = [self.keys["version"], self.keys["log"], self.keys["snapshot"]]
        return bool(await self.call(self._reseed(keys, [version, state])))

    async def snapshot(self) -> tuple[int, bytes] | None:
        """The kept snapshot and its version (``None``: the log starts at the base)."""
        found = await self.call(self.client.hmget(self.keys["snapshot"], ["version", "data"]))
        if found[0] is None:
            return None
        return int(found[0]), bytes(found[1])

    async def lease(self, name: str, holder: str, milliseconds: int) -> bool:
        """Hold lease ``name`` for ``milliseconds`` (taken if free, renewed if ``holder``
        has it): one process at a time does what it guards, such as moving the clock."""
        key = lease_key(self.address.namespace, name)
        return bool(await self.call(self._lease([key], [holder, milliseconds])))

    async def heartbeat(self, member: str, version: int, milliseconds: int) -> None:
        """Say ``member`` is alive for ``milliseconds`` more and holds ``version``."""
        keys = [self.keys["members"], self.keys["applied"]]
        await self.call(self._heartbeat(keys, [member, version, milliseconds]))

    async def _live(self, hash_key: str) -> dict[str, str]:
        """The members alive now, each with its value in ``hash_key`` ('' for none)."""
        found = await self.call(self._live_script([self.keys["members"], hash_key], []))
        parts = [bytes(part).decode() for part in found]
        return dict(zip(parts[::2], parts[1::2], strict=True))

    async def behind(self, version: int) -> int:
        """How many members alive now hold less than ``version``."""
        held = (await self._live(self.keys["applied"])).values()
        return sum(int(value or 0) < version for value in held)

    async def members(self) -> dict[str, int]:
        """The members alive now, each with the version it holds."""
        held = await self._live(self.keys["applied"])
        return {member: int(value or 0) for member, value in held.items()}

    async def leave(self, member: str) -> None:
        """``member`` stops: nobody waits for it any more."""
        await self.call(self.client.zrem(self.keys["members"], member))
        await self.call(self.client.hdel(self.keys["applied"], member))

    async def journal_hand_in(self, entries: list[tuple[str, float, bytes]]) -> None:
        """Hand in journal entries (an id unique to each, its time, the entry): they are
        numbered, in the order of their times, by the next ``journal_number``."""
        keys = [self.keys["journal-pending"], self.keys["journal-pending-data"]]
        args: list[Any] = [part for entry in entries for part in entry]
        if args:
            await self.call(self._hand_in(keys, args))

    async def journal_number(self, keep: int) -> int:
        """Number every entry handed in, after those numbered before, keeping the last
        ``keep``; the last number."""
        keys = [
            self.keys["journal-pending"], self.keys["journal-pending-data"],
            self.keys["journal"], self.keys["journal-seq"],
        ]  # fmt: skip
        return int(await self.call(self._number(keys, [keep])))

    async def journal_since(
        self, seq: int, count: int = SINCE_BATCH
    ) -> tuple[int, int, list[bytes]]:
        """Up to ``count`` entries of the shared journal after number ``seq``: the journal's
        last number, the first number answered, and the entries (empty: trimmed or cleared)."""
        keys = [self.keys["journal"], self.keys["journal-seq"]]
        found = await self.call(self._journal_since(keys, [seq, count]))
        return int(found[0]), int(found[1]), [bytes(entry) for entry in found[2:]]

    async def feed(self) -> AsyncIterator[int | str]:
        """What is announced to every process (Redis pub/sub), as it happens: the version
        of each change appended anywhere (an ``int``), and the token of each request to hand
        in journal entries (``ask_flush``, a ``str``)."""
        pubsub = self.client.pubsub()
        try:
            await self.call(pubsub.subscribe(self.channel, self.flush_channel))
            while True:
                message = await self.call(
                    pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                )
                if message is None or message.get("type") != "message":
                    continue
                data = bytes(message["data"]).decode()
                channel = message["channel"]
                if isinstance(channel, bytes):
                    channel = channel.decode()
                yield data if channel == self.flush_channel else int(data)
        finally:
            await pubsub.aclose()

    async def ask_flush(self, token: str) -> None:
        """Ask every process to hand in its journal entries and say so with ``token``."""
        await self.call(self.client.publish(self.flush_channel, token))

    async def flushed(self, member: str, token: str) -> None:
        """``member`` handed in every entry it had when ``token`` was asked."""
        await self.call(self.client.hset(self.keys["flushed"], member, token))

    async def not_flushed(self, token: str) -> int:
        """How many members alive now have not answered the flush request ``token``."""
        answered = (await self._live(self.keys["flushed"])).values()
        return sum(value != token for value in answered)
