"""A bounded record of the requests the mock answered, for tests to assert on.

The journal is bounded twice, by count (``maxlen``) and by bytes (``max_bytes``):
the oldest entries go first. An entry keeps the query string exactly as the
client sent it, once, and parses it only when read: a 16 KB query of 8 000
blank parameters costs its 16 KB, not the half a megabyte its parsed pairs
would.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from sys import getsizeof
from time import time as _wall_clock
from typing import Any
from urllib.parse import urlencode

DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


@dataclass(slots=True, eq=False)  # not frozen: a frozen init costs the hot path 3 times more
class JournalEntry:
    """One answered request to the vendored API (control endpoints are not journalled).

    ``time`` is the world's clock when it was answered (a virtual clock may hold it still);
    ``wall_time`` the machine's (epoch seconds), which orders the entries as ``seq`` does,
    whatever the world's clock. A record to read, not to change: the journal
    hands out the entries it holds.
    """

    seq: int
    time: float
    method: str
    path: str
    raw_query: bytes  # as the client sent it
    operation_id: str | None
    status: int
    wall_time: float = 0.0

    @property
    def query(self) -> tuple[tuple[str, str], ...]:
        """The query's ``(name, value)`` pairs, parsed as upstream parses them."""
        return tuple(_parse(self.raw_query))

    @property
    def params(self) -> dict[str, str]:
        """The query parameters, the last of a repeated one winning (as upstream reads them)."""
        return dict(_parse(self.raw_query))

    def _key(self) -> tuple[Any, ...]:
        # The parsed query, not its bytes: `a&b` and `a=&b=` are the same request upstream.
        return (
            self.seq,
            self.time,
            self.method,
            self.path,
            self.query,
            self.operation_id,
            self.status,
            self.wall_time,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JournalEntry):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "wall_time": self.wall_time,
            "method": self.method,
            "path": self.path,
            "query": [list(pair) for pair in self.query],
            "operation_id": self.operation_id,
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JournalEntry:
        """The entry ``to_dict`` wrote (as ``GET /__mock/journal`` lists them)."""
        fields = {k: v for k, v in data.items() if k != "query"}
        return cls(**fields, raw_query=_encode(data["query"]))


def _parse(raw: bytes) -> list[tuple[str, str]]:
    # Imported when first read: the journal alone (the plugin's remote mode) needs no spec.
    from prosper_mock.serving.validation import parse_query

    return parse_query(raw)


def _encode(pairs: Iterable[Iterable[str]]) -> bytes:
    return urlencode([(name, value) for name, value in pairs]).encode("ascii")


# What an entry holds besides its path's, method's and query's characters: the object
# itself, its two times, seq and status numbers, the headers of its three strings, and its
# slot in the deque (blocks of 64 pointers and two links: 8.25 bytes a slot). The operation
# id is the route's own string, shared by every entry of that route, so it costs nothing.
_SAMPLE = JournalEntry(2**40, 0.5, "GET", "/", b"", None, 404, 0.5)
_FIXED = (getsizeof(_SAMPLE) + 2 * getsizeof(0.5) + getsizeof(2**40) + getsizeof(404) + 9) + (
    2 * getsizeof("") + getsizeof(b"")
)
_STR = getsizeof("")


def entry_size(entry: JournalEntry) -> int:
    """The bytes ``entry`` holds (what the journal's byte bound counts)."""
    # sys.getsizeof, by arithmetic where that is exact (bytes, ASCII text): it runs
    # twice for every request, and getsizeof is slow.
    path, method = entry.path, entry.method
    return (
        _FIXED
        + len(entry.raw_query)
        + (len(path) if path.isascii() else getsizeof(path) - _STR)
        + (len(method) if method.isascii() else getsizeof(method) - _STR)
    )


class Journal:
    """The last requests, oldest first: at most ``maxlen`` of them in ``max_bytes``; thread-safe.

    ``nbytes`` is what the entries held hold (``entry_size``); the newest entry
    is dropped too if it alone is over ``max_bytes``.
    """

    def __init__(
        self, maxlen: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        for name, value in (("maxlen", maxlen), ("max_bytes", max_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"journal {name} must be a positive integer, got {value!r}")
        self.maxlen = maxlen
        self.max_bytes = max_bytes
        # Seqs in the deque are consecutive (only the oldest are dropped): entries(since)
        # finds its start by arithmetic.
        self._entries: deque[JournalEntry] = deque()
        self._seq = 0
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """The bytes the entries held account for; never more than ``max_bytes``."""
        return self._bytes

    def record(
        self,
        time: float,
        method: str,
        path: str,
        query: bytes | Iterable[tuple[str, str]],
        operation_id: str | None,
        status: int,
    ) -> JournalEntry:
        """Journal one request; ``query`` is the raw query string, or its pairs. ``time`` is
        the world's clock; the entry's ``wall_time`` is the machine's clock now."""
        raw = query if isinstance(query, bytes) else _encode(query)
        with self._lock:
            seq = self._seq = self._seq + 1
            entry = JournalEntry(seq, time, method, path, raw, operation_id, status, _wall_clock())
            entries = self._entries
            entries.append(entry)
            total = self._bytes + entry_size(entry)
            while entries and (total > self.max_bytes or len(entries) > self.maxlen):
                total -= entry_size(entries.popleft())
            self._bytes = total
            return entry

    def entries(self, since: int = 0) -> list[JournalEntry]:
        """The entries held, oldest first; with ``since``, only those after that seq."""
        with self._lock:
            entries = self._entries
            if not entries or since < entries[0].seq:
                return list(entries)
            if since >= entries[-1].seq:
                return []
            return list(islice(entries, since - entries[0].seq + 1, None))

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


@dataclass(frozen=True)
class JournalFilter:
    """Which journal entries a reader wants: every given field must match (``None``: any)."""

    method: str | None = None
    path: str | None = None
    status: int | None = None
    params: Mapping[str, str] = field(default_factory=dict)

    def matches(self, entry: JournalEntry) -> bool:
        return not (
            (self.method is not None and entry.method != self.method)
            or (self.path is not None and entry.path != self.path)
            or (self.status is not None and entry.status != self.status)
            or (self.params and any(entry.params.get(k) != v for k, v in self.params.items()))
        )
