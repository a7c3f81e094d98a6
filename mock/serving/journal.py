"""A bounded record of the requests the mock answered, for tests to assert on.

The journal is bounded twice, by count (``maxlen``) and by bytes (``max_bytes``):
the oldest entries go first. An entry keeps the query string exactly as the
client sent it, once, and parses it only when read: a 16 KB query of 8 000
blank parameters costs its 16 KB, not the half a megabyte its parsed pairs
would.

An entry also keeps the request's headers (the API key's, ``Authorization``'s and
cookies' values redacted), its body and the answer's status, headers and body (each
body cut at ``MAX_BODY_BYTES``, with a truncation mark), and what produced the answer:
the world, a stub, a fault, the validation or the API-key check.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from itertools import islice
from operator import attrgetter
from sys import getsizeof
from time import time as _wall_clock
from typing import Any
from urllib.parse import urlencode

DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
MAX_BODY_BYTES = 4096  # of a request's or an answer's body, kept in an entry
REDACTED = "[redacted]"
# Headers whose values are never kept: credentials (the API key's own header is added by
# the app that requires one: ``Journal.secret_headers``).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
Headers = tuple[tuple[str, str], ...]


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
    headers: Headers = ()  # as sent, secrets redacted
    body: bytes | None = None  # the first MAX_BODY_BYTES; None: no body read
    body_size: int = 0  # the whole body's length
    answer_headers: Headers = ()
    answer_body: bytes | None = None
    answer_size: int = 0
    producer: str = "world"  # world, stub, fault, validation, api_key
    stub: str | None = None  # the stub's id
    unchecked: bool = False  # answered by a stub whose body the spec did not check

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
            self.headers,
            self.body,
            self.body_size,
            self.answer_headers,
            self.answer_body,
            self.answer_size,
            self.producer,
            self.stub,
            self.unchecked,
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
            "headers": [list(pair) for pair in self.headers],
            "body": _text(self.body),
            "body_truncated": self.body is not None and self.body_size > len(self.body),
            "answer": {
                "status": self.status,
                "headers": [list(pair) for pair in self.answer_headers],
                "body": _text(self.answer_body),
                "body_truncated": (
                    self.answer_body is not None and self.answer_size > len(self.answer_body)
                ),
            },
            "producer": self.producer,
            "stub": self.stub,
            "unchecked": self.unchecked,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JournalEntry:
        """The entry ``to_dict`` wrote (as ``GET /__mock/journal`` lists them); a cut body
        stays cut (its size is then its kept length plus one)."""
        answer = data.get("answer") or {}
        body, answer_body = _bytes(data.get("body")), _bytes(answer.get("body"))
        return cls(
            seq=data["seq"],
            time=data["time"],
            method=data["method"],
            path=data["path"],
            raw_query=_encode(data["query"]),
            operation_id=data["operation_id"],
            status=data["status"],
            wall_time=data.get("wall_time", 0.0),
            headers=tuple((n, v) for n, v in data.get("headers", ())),
            body=body,
            body_size=_size(body, data.get("body_truncated", False)),
            answer_headers=tuple((n, v) for n, v in answer.get("headers", ())),
            answer_body=answer_body,
            answer_size=_size(answer_body, answer.get("body_truncated", False)),
            producer=data.get("producer", "world"),
            stub=data.get("stub"),
            unchecked=data.get("unchecked", False),
        )


def _text(body: bytes | None) -> str | None:
    return None if body is None else body.decode("utf-8", "replace")


def _bytes(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def _size(body: bytes | None, truncated: bool) -> int:
    return 0 if body is None else len(body) + (1 if truncated else 0)


def redact(headers: Iterable[tuple[str, str]], secret: frozenset[str]) -> Headers:
    """``headers`` with the values of those named in ``secret`` (lower case) redacted."""
    kept = tuple(headers)  # the same tuple when given one (the fast path's, kept per head)
    for name, _ in kept:
        if name.lower() in secret:
            return tuple((n, REDACTED if n.lower() in secret else v) for n, v in kept)
    return kept


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


_PAIR = getsizeof(("", "")) + 2 * _STR + 8  # a header: its tuple, two strings, a slot
_BYTES = getsizeof(b"")


def _headers_size(headers: Headers) -> int:
    return sum(_PAIR + len(n) + len(v) for n, v in headers) if headers else 0


def entry_size(entry: JournalEntry) -> int:
    """The bytes ``entry`` holds (what the journal's byte bound counts)."""
    # sys.getsizeof, by arithmetic where that is exact (bytes, ASCII text): it runs
    # twice for every request, and getsizeof is slow. Non-ASCII header text counts a
    # byte a character: at most 4 times under, and headers are ASCII all but always.
    path, method = entry.path, entry.method
    body, answer = entry.body, entry.answer_body
    return (
        _FIXED
        + len(entry.raw_query)
        + (len(path) if path.isascii() else getsizeof(path) - _STR)
        + (len(method) if method.isascii() else getsizeof(method) - _STR)
        + _headers_size(entry.headers)
        + _headers_size(entry.answer_headers)
        + (0 if body is None else _BYTES + len(body))
        + (0 if answer is None else _BYTES + len(answer))
    )


_HEAD = attrgetter("method", "path", "raw_query", "operation_id", "status")
_TAIL = attrgetter(*(f.name for f in fields(JournalEntry)[8:]))  # those after wall_time


class _Later:
    """Requests ``Journal.defer`` journalled, made entries when read: each one's two times and,
    apart (floats are not the collector's to scan), the entry it copies, appended first; added
    from the loop's thread, taken under the lock; only the newest the journal can hold are made."""

    __slots__ = ("dropped", "items", "likes", "lock", "size")

    def __init__(self, maxlen: int, max_bytes: int, lock: threading.Lock) -> None:
        self.items: deque[tuple[float, float]] = deque()
        self.likes: deque[JournalEntry] = deque()
        self.size, self.lock = min(maxlen, max_bytes // _FIXED + 1), lock  # >= _FIXED B each
        self.dropped = 0  # since the last take

    def drop(self) -> None:
        """Drop the oldest past ``size``, unmade, as the bounds would drop them once made."""
        with self.lock:
            while len(self.items) > self.size:
                self.items.popleft(), self.likes.popleft()
                self.dropped += 1

    def take(self, make: bool = True) -> tuple[int, list[tuple[int, JournalEntry]]]:
        """How many were journalled since the last take, and those still waiting, made (none
        unless ``make``), each with its place among them (from 1), oldest first."""
        items, likes, made, added = self.items, self.likes, [], self.dropped
        while items:
            (time, wall_time), like = items.popleft(), likes.popleft()
            added += 1
            if make and len(items) < self.size:  # mypy cannot count _HEAD's, _TAIL's fields
                copy = JournalEntry(0, time, *_HEAD(like), wall_time, *_TAIL(like))  # type: ignore[call-arg]
                made.append((added, copy))
        self.dropped = 0
        return added, made

    def settle(self, last: int, hold: Callable[[JournalEntry], None]) -> int:
        """Make what waits, numbered after ``last``, into ``hold``; the last seq (dropped too)."""
        added, made = self.take()
        for place, entry in made:
            entry.seq = last + place
            hold(entry)
        return last + added


class Outbox:
    """A process's journal entries not yet handed in to a shared journal (oldest first, within
    the journal's bounds: what the shared journal would drop first is dropped here first). A
    shared journal is read seldom and written on every request: entries wait here, as cheap
    as a journal of one process, and are handed in when someone reads it."""

    def __init__(self, maxlen: int, max_bytes: int) -> None:
        self.maxlen, self.max_bytes = maxlen, max_bytes
        self._entries: deque[JournalEntry] = deque()
        self._bytes = 0
        self.made = 0  # entries ever added: numbers each, for an id of its own
        self._lock = threading.Lock()
        self.later = _Later(maxlen, max_bytes, self._lock)  # Journal.defer's, while it is

    def add(self, entry: JournalEntry) -> None:
        with self._lock:
            self._settle()
            self.made = entry.seq = self.made + 1
            self._keep(entry)

    def _keep(self, entry: JournalEntry) -> None:
        self._entries.append(entry)
        self._bytes += entry_size(entry)
        while self._entries and (self._bytes > self.max_bytes or len(self._entries) > self.maxlen):
            self._bytes -= entry_size(self._entries.popleft())

    def _settle(self) -> None:
        if self.later.items:
            self.made = self.later.settle(self.made, self._keep)

    def take(self) -> list[JournalEntry]:
        """Every entry waiting, oldest first; the outbox is then empty."""
        with self._lock:
            self._settle()
            taken = list(self._entries)
            self._entries.clear()
            self._bytes = 0
            return taken

    def __len__(self) -> int:
        with self._lock:
            self._settle()
            return len(self._entries)


class Journal:
    """The last requests, oldest first: at most ``maxlen`` of them in ``max_bytes``; thread-safe.

    ``nbytes`` is what the entries held hold (``entry_size``); the newest entry is dropped
    too if it alone is over ``max_bytes``."""

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
        self.secret_headers = SECRET_HEADERS
        # On a shared store: what this process answered, not yet in the shared journal.
        # Entries are numbered there, and come back to every process's journal (``take``).
        self.outbox: Outbox | None = None
        self.cleared_through = 0  # entries up to this seq were cleared (``clear``)
        self._later = _Later(maxlen, max_bytes, self._lock)

    @property
    def nbytes(self) -> int:
        """The bytes the entries held account for; never more than ``max_bytes``."""
        with self._lock:
            self._settle()
            return self._bytes

    def record(
        self,
        time: float,
        method: str,
        path: str,
        query: bytes | Iterable[tuple[str, str]],
        operation_id: str | None,
        status: int,
        *,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes | None = None,
        answer_headers: Iterable[tuple[str, str]] = (),
        answer_body: bytes | None = None,
        producer: str = "world",
        stub: str | None = None,
        unchecked: bool = False,
    ) -> JournalEntry:
        """Journal one request; ``query`` is the raw query string, or its pairs. ``time`` is
        the world's clock; the entry's ``wall_time`` is the machine's clock now.

        The one way an entry is made (the pipeline's and the fast path's alike): headers
        are redacted (``secret_headers``) and bodies cut at ``MAX_BODY_BYTES`` here.
        """
        raw = query if isinstance(query, bytes) else _encode(query)
        entry = JournalEntry(
            0,
            time,
            method,
            path,
            raw,
            operation_id,
            status,
            0.0,
            redact(headers, self.secret_headers),
            None if body is None else body[:MAX_BODY_BYTES],
            0 if body is None else len(body),
            tuple(answer_headers),
            None if answer_body is None else answer_body[:MAX_BODY_BYTES],
            0 if answer_body is None else len(answer_body),
            producer,
            stub,
            unchecked,
        )
        with self._lock:
            entry.wall_time = _wall_clock()
            if self.outbox is not None:
                self.outbox.add(entry)
                return entry
            self._settle()
            entry.seq = self._seq = self._seq + 1
            self._hold(entry)
            return entry

    def defer(self, time: float, like: JournalEntry) -> None:
        """Journal a request answered now as ``like`` (made by ``record``), at the world's ``time``:
        its entry, a numbered copy, is made when the journal is read. From the loop's thread."""
        later = self._later if self.outbox is None else self.outbox.later
        later.likes.append(like)  # first: a take finds the like of every time it takes
        later.items.append((time, _wall_clock()))
        if len(later.items) > later.size + 64:  # a batch at a time: the lock is taken seldom
            later.drop()

    def _settle(self) -> None:
        """Make the entries ``defer`` left waiting, in order (under the lock)."""
        if self._later.items:
            self._seq = self._later.settle(self._seq, self._hold)

    def _hold(self, entry: JournalEntry) -> None:
        entries = self._entries
        entries.append(entry)
        total = self._bytes + entry_size(entry)
        while entries and (total > self.max_bytes or len(entries) > self.maxlen):
            total -= entry_size(entries.popleft())
        self._bytes = total

    def take(self, first: int, entries: Iterable[JournalEntry | None]) -> None:
        """Hold entries numbered elsewhere (the shared journal), ``first`` the first one's
        seq; ``None`` stands for one no longer there. Entries held already are skipped."""
        with self._lock:
            self._settle()
            for seq, entry in enumerate(entries, first):
                if seq <= self._seq:
                    continue
                if entry is None or seq <= self.cleared_through:
                    self._seq = seq  # gone, or cleared: read past it
                    continue
                if self._entries and seq != self._seq + 1:  # a gap: keep seqs consecutive
                    self._entries.clear()
                    self._bytes = 0
                entry.seq = self._seq = seq
                self._hold(entry)

    @property
    def last_seq(self) -> int:
        """The seq of the newest entry made or taken."""
        with self._lock:
            self._settle()
            return self._seq

    def entries(self, since: int = 0) -> list[JournalEntry]:
        """The entries held, oldest first; with ``since``, only those after that seq."""
        with self._lock:
            self._settle()
            entries = self._entries
            if not entries or since < entries[0].seq:
                return list(entries)
            if since >= entries[-1].seq:
                return []
            return list(islice(entries, since - entries[0].seq + 1, None))

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        with self._lock:
            self._settle()
            return len(self._entries)

    def clear(self, through: int | None = None) -> None:
        """Drop every entry (those up to seq ``through``: a clear made elsewhere)."""
        with self._lock:
            if through is None:  # what waits is dropped too: it need not be made
                self._seq += self._later.take(make=False)[0]
            self._settle()
            self.cleared_through = max(
                self.cleared_through, self._seq if through is None else through
            )
            while self._entries and self._entries[0].seq <= self.cleared_through:
                self._bytes -= entry_size(self._entries.popleft())


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
