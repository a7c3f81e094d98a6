"""Pages of targets and call logs, each costing O(limit · log n) however big the world.

A seeded world's rows are never listed: the ids of a window (all of them, a campaign's,
a date range) are a slice of a sorted sequence found by bisection (a seeded call's start
and a seeded target's creation increase with its id or slot), and the overlay of changes
(small) is merged in. Rows are built only for the page served.

Filters that a row's derived state decides (a target's status, its last call date) bisect
what the seed decides (``statuses``) and judge the targets the overlay touched one by one.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from prosper_mock.world.errors import InvalidChange

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: its items, how many pages there are, the next one's number."""

    items: tuple[T, ...]
    page_count: int
    next_page: int | None


def check_page(page: int, limit: int) -> None:
    """Refuse a page number below 0 or a limit below 1 (pages count from 0)."""
    for name, value, low in (("page", page, 0), ("limit", limit, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidChange(f"{name} must be an integer >= {low}, got {value!r}")


def make_page(items: Sequence[T], total: int, page: int, limit: int) -> Page[T]:
    more = (page + 1) * limit < total
    return Page(tuple(items), math.ceil(total / limit), page + 1 if more else None)


def stamp(moment: datetime | None) -> float | None:
    """A filter's bound as epoch seconds; it must be aware (a time with an offset)."""
    if moment is None:
        return None
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidChange(f"dates must be aware datetimes, got {moment!r}")
    return moment.timestamp()


def window(
    positions: Sequence[int],
    key: Callable[[int], float],
    low: float | None,
    high: float | None,
) -> tuple[int, int]:
    """The slice ``[lo, hi)`` of ``positions`` (ascending in ``key``) with ``low <= key <=
    high``: two bisections, so O(log n) calls of ``key``."""
    lo = 0 if low is None else bisect.bisect_left(positions, low, key=key)
    hi = len(positions) if high is None else bisect.bisect_right(positions, high, key=key)
    return lo, max(lo, hi)


class Kept:
    """The indexes ``[lo, hi)`` of a sorted sequence without a few ``dropped`` ones,
    indexable in order (``descending``: from ``hi - 1`` down) without listing them."""

    def __init__(self, lo: int, hi: int, dropped: Sequence[int], descending: bool = False) -> None:
        self.lo, self.hi, self.descending = lo, hi, descending
        inside = sorted({d for d in dropped if lo <= d < hi}, reverse=descending)
        self._dropped = inside

    def __len__(self) -> int:
        return self.hi - self.lo - len(self._dropped)

    def __getitem__(self, i: int) -> int:
        """The ``i``-th kept index (0 <= i < len)."""
        if self.descending:
            at = self.hi - 1 - i
            for d in self._dropped:  # from the top down: each one at or above pushes it down
                if d >= at:
                    at -= 1
                else:
                    break
            return at
        at = self.lo + i
        for d in self._dropped:
            if d <= at:
                at += 1
            else:
                break
        return at


def merged_slice(
    base: Sequence[T], extra: Sequence[T], key: Callable[[T], int], start: int, count: int
) -> list[T]:
    """Items ``[start, start + count)`` of ``base`` and ``extra`` (each sorted ascending in
    ``key``, keys all distinct) merged. ``extra`` is small: finding where the slice starts
    tries each split of it, O(len(extra)) reads of ``base``."""
    n, m = len(base), len(extra)
    j = 0
    for j in range(min(start, m) + 1):
        i = start - j
        if i > n:
            continue
        before = j == 0 or i == n or key(extra[j - 1]) < key(base[i])
        after = i == 0 or j == m or key(base[i - 1]) < key(extra[j])
        if before and after:
            break
    i = start - j
    found: list[T] = []
    while len(found) < count and (i < n or j < m):
        if j >= m or (i < n and key(base[i]) < key(extra[j])):
            found.append(base[i])
            i += 1
        else:
            found.append(extra[j])
            j += 1
    return found
