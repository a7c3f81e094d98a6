"""Journal verification: how many journalled requests match, and the nearest that did not.

``verify`` counts the entries a ``RequestPattern`` matches against what was expected
(exactly, at least, at most); when the count is wrong it lists the near misses, the
entries that differ from the pattern in the fewest parts, each with those parts, as
WireMock's near misses do.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prosper_mock.serving.journal import JournalEntry
from prosper_mock.serving.matching import NOT_JSON, Difference, RequestPattern

MAX_NEAR_MISSES = 3


@dataclass(frozen=True)
class Expected:
    """How many matching requests the journal must hold: ``exactly``, or from ``at_least``
    to ``at_most`` (``None``: no bound)."""

    exactly: int | None = None
    at_least: int | None = None
    at_most: int | None = None

    def holds(self, count: int) -> bool:
        if self.exactly is not None:
            return count == self.exactly
        low = 1 if self.at_least is None and self.at_most is None else (self.at_least or 0)
        return count >= low and (self.at_most is None or count <= self.at_most)

    def __str__(self) -> str:
        if self.exactly is not None:
            return f"exactly {self.exactly}"
        if self.at_least is None and self.at_most is None:
            return "at least 1"
        parts = [f"at least {self.at_least}"] if self.at_least is not None else []
        parts += [f"at most {self.at_most}"] if self.at_most is not None else []
        return " and ".join(parts)


def entry_body(entry: JournalEntry) -> Any:
    """The entry's body as JSON (``NOT_JSON``: none, cut short, or not JSON)."""
    if entry.body is None or entry.body_size > len(entry.body):
        return NOT_JSON
    try:
        return json.loads(entry.body)
    except ValueError:
        return NOT_JSON


def differences(pattern: RequestPattern, entry: JournalEntry) -> list[Difference]:
    body = entry_body(entry) if pattern.reads_body else NOT_JSON
    return pattern.differences(entry.method, entry.path, entry.params, body, entry.headers)


def verify(
    entries: Iterable[JournalEntry], pattern: RequestPattern, expected: Expected
) -> dict[str, Any]:
    """Whether ``expected`` holds for the entries ``pattern`` matches, as the control API
    answers it: ``ok``, ``count``, ``expected``, the matching entries' ``seqs`` and, when it
    does not hold, ``near_misses`` (entry and differing parts, nearest first)."""
    matched: list[JournalEntry] = []
    misses: list[tuple[int, int, JournalEntry, list[Difference]]] = []
    for entry in entries:
        found = differences(pattern, entry)
        if not found:
            matched.append(entry)
        else:
            misses.append((len(found), -entry.seq, entry, found))
    ok = expected.holds(len(matched))
    answer: dict[str, Any] = {
        "ok": ok,
        "count": len(matched),
        "expected": str(expected),
        "seqs": [e.seq for e in matched],
        "near_misses": [],
    }
    if not ok:
        misses.sort(key=lambda m: (m[0], m[1]))
        answer["near_misses"] = [
            {"entry": entry.to_dict(), "differences": [d.to_dict() for d in found]}
            for _, _, entry, found in misses[:MAX_NEAR_MISSES]
        ]
    return answer
