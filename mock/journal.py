"""A bounded record of the requests the mock answered, for tests to assert on."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class JournalEntry:
    """One answered request to the vendored API (control endpoints are not journalled)."""

    seq: int
    time: float
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    operation_id: str | None
    status: int

    @property
    def params(self) -> dict[str, str]:
        """The query parameters, the last of a repeated one winning (as upstream reads them)."""
        return dict(self.query)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["query"] = [list(pair) for pair in self.query]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JournalEntry:
        """The entry ``to_dict`` wrote (as ``GET /__mock/journal`` lists them)."""
        return cls(**{**data, "query": tuple((k, v) for k, v in data["query"])})


class Journal:
    """The last ``maxlen`` requests, oldest first; thread-safe."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=maxlen)
        self._seq = 0
        self._lock = threading.Lock()

    def record(
        self,
        time: float,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        operation_id: str | None,
        status: int,
    ) -> JournalEntry:
        with self._lock:
            self._seq += 1
            entry = JournalEntry(self._seq, time, method, path, tuple(query), operation_id, status)
            self._entries.append(entry)
            return entry

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
