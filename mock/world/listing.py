"""The world's listings: a campaign's targets and the call logs, a page at a time.

Both cost O(limit · log n) however big the seeded world (see ``paging``): for a date
window, a campaign, and a target status or last call date filter too, once a campaign's
seeded statuses are indexed (``statuses``: O(campaign) the first time it is filtered by
status); targets the overlay touched are judged one by one (few). Targets come oldest
first (seeded ones by slot, then those added, in creation order); call logs newest first
by id.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.world.errors import InvalidChange
from prosper_mock.world.generate.vocabulary import TARGET_STATUSES
from prosper_mock.world.paging import (
    Kept,
    Page,
    check_page,
    make_page,
    merged_slice,
    stamp,
    window,
)
from prosper_mock.world.records import CallLog, LiveCall, timestamp
from prosper_mock.world.store import Store
from prosper_mock.world.targets import Target, TargetTable, TargetView


class _Prefix(Sequence[int]):
    """The first ``n`` items of a sequence, without copying it (bisect reads it)."""

    def __init__(self, items: Sequence[int], n: int) -> None:
        self._items, self._n = items, n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            raise TypeError("no slices")
        if not 0 <= i < self._n:
            raise IndexError(i)
        return self._items[i]


class _Mapped(Sequence[Any]):
    """``f`` of each item of ``Kept`` indexes: a page's rows, built as they are read."""

    def __init__(self, kept: Kept, f: Callable[[int], Any]) -> None:
        self._kept, self._f = kept, f

    def __len__(self) -> int:
        return len(self._kept)

    def __getitem__(self, i: Any) -> Any:
        return self._f(self._kept[i])

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self._kept)):
            yield self._f(self._kept[i])


def _position(positions: Sequence[int], value: int) -> int | None:
    at = bisect.bisect_left(positions, value)
    return at if at < len(positions) and positions[at] == value else None


def campaign_of_log(log: CallLog, targets: TargetTable) -> str | None:
    """The campaign of a call log: its target's, deleted or not (``None``: placed for no
    target the world ever had)."""
    target_id = log.campaign_target_id
    return None if target_id is None else targets.campaign_of(target_id)


def call_logs_page(
    logs: Store[CallLog],
    targets: TargetTable,
    page: int,
    limit: int,
    from_date: datetime | None,
    to_date: datetime | None,
    campaign_id: str | None,
) -> Page[CallLog]:
    """A page of call logs, newest id first; windows inclusive on ``created_at``."""
    check_page(page, limit)
    low, high = stamp(from_date), stamp(to_date)
    seeded = targets.seeded
    gen = seeded.generator
    first = gen.recipe.first_id
    base = logs.base
    generated = isinstance(base.ids, range) and base.count == len(gen.log_ids())

    def fits(row: CallLog) -> bool:
        at = timestamp(row.created_at)
        if (low is not None and at < low) or (high is not None and at > high):
            return False
        return campaign_id is None or campaign_of_log(row, targets) == campaign_id

    changed = logs.changed
    extra = sorted((i for i, row in changed.items() if row is not None and fits(row)), reverse=True)
    if generated:
        n_logs = base.count
        slots: Sequence[int]
        if campaign_id is None:
            slots = range(n_logs)
        else:
            found = seeded.slots.get(campaign_id, ())
            slots = _Prefix(found, bisect.bisect_left(found, n_logs))

        def key(slot: int) -> float:
            return timestamp(iso_milliseconds(gen.started(first + slot)))

        lo, hi = window(slots, key, low, high)
        dropped = [
            p for i in changed if base.id_set(i) and (p := _position(slots, i - first)) is not None
        ]
        ordered: Sequence[int] = _Mapped(
            Kept(lo, hi, dropped, descending=True), lambda p: first + slots[p]
        )
    else:  # a world read from a file: small, its rows are scanned
        ordered = [i for i in reversed(base.ids) if i not in changed and fits(base.fetch(i))]
    start = page * limit
    ids = merged_slice(ordered, extra, lambda i: -i, start, limit)
    rows = [logs.get(i) for i in ids]
    return make_page([r for r in rows if r is not None], len(ordered) + len(extra), page, limit)


def targets_page(
    targets: TargetTable,
    calls: tuple[Store[LiveCall], Store[CallLog]],
    campaign_id: str,
    view: Callable[[Target], TargetView],
    page: int,
    limit: int,
    status: str | None,
    from_date: datetime | None,
    to_date: datetime | None,
    from_last_call_date: datetime | None,
    to_last_call_date: datetime | None,
) -> Page[TargetView]:
    """A page of a campaign's targets, oldest first; windows inclusive on ``created_at``
    and on the last call date.

    ``calls`` are the world's live calls and call logs: a seeded target whose row and
    call are untouched is filtered by the index of seeded statuses and by its call's
    start (its last call date), the touched ones by their views.
    """
    check_page(page, limit)
    if status is not None and status not in TARGET_STATUSES:
        raise InvalidChange(f"status must be one of {list(TARGET_STATUSES)}, got {status!r}")
    low, high = stamp(from_date), stamp(to_date)
    call_low, call_high = stamp(from_last_call_date), stamp(to_last_call_date)
    filtered = status is not None or call_low is not None or call_high is not None
    seeded = targets.seeded
    slots = seeded.slots.get(campaign_id, ())

    def key(slot: int) -> float:
        return timestamp(iso_milliseconds(seeded.created(slot)))

    lo, hi = window(slots, key, low, high)

    def keep(v: TargetView) -> bool:
        if status is not None and v.status != status:
            return False
        if call_low is None and call_high is None:
            return True
        if v.last_call_date is None:
            return False
        at = timestamp(v.last_call_date)
        return (call_low is None or at >= call_low) and (call_high is None or at <= call_high)

    # Positions (into ``slots``) the seed decides, then those whose target or call changed.
    candidates: Sequence[int] = range(len(slots))
    if status is not None:
        candidates = targets.statuses.positions(campaign_id, status)
    a, b = bisect.bisect_left(candidates, lo), bisect.bisect_left(candidates, hi)
    if call_low is not None or call_high is not None:
        gen = seeded.generator
        first = gen.recipe.first_id
        b = min(b, bisect.bisect_left(candidates, bisect.bisect_left(slots, seeded.calls)))

        def started(i: int) -> float:  # ascending in i: a seeded call's start grows with it
            return timestamp(iso_milliseconds(gen.started(first + slots[candidates[i]])))

        inside = window(range(a, b), started, call_low, call_high)
        a, b = a + inside[0], a + inside[1]
    deleted = {p for s in targets.deleted_slots() if (p := _position(slots, s)) is not None}
    touched = _touched(targets, calls, slots) - deleted if filtered else set()
    dropped = [i for p in deleted | touched if (i := _position(candidates, p)) is not None]
    seeded_part: Sequence[int] = _Mapped(Kept(a, b, dropped), lambda i: candidates[i])
    judged = sorted(
        p for p in touched if lo <= p < hi and keep(view(_slot_target(targets, slots, p)))
    )
    added = [
        t
        for t in targets.added_targets(campaign_id)
        if (low is None or timestamp(t.created_at) >= low)
        and (high is None or timestamp(t.created_at) <= high)
    ]
    views = [view(t) for t in added] if filtered else None
    if views is not None:
        added = [t for t, v in zip(added, views, strict=True) if keep(v)]
    start = page * limit
    in_seed = len(seeded_part) + len(judged)
    positions = merged_slice(seeded_part, judged, lambda p: p, start, limit)
    chosen = [_slot_target(targets, slots, p) for p in positions]
    rest = max(0, start - in_seed)
    chosen += added[rest : rest + limit - len(chosen)]
    return make_page([view(t) for t in chosen], in_seed + len(added), page, limit)


def _slot_target(targets: TargetTable, slots: Sequence[int], position: int) -> Target:
    found = targets.get(targets.ids.base(slots[position]))
    if found is None:  # callers pass kept positions only
        raise KeyError(position)
    return found


def _touched(
    targets: TargetTable, calls: tuple[Store[LiveCall], Store[CallLog]], slots: Sequence[int]
) -> set[int]:
    """Positions of seeded targets the overlay changed, or whose seeded call it changed."""
    found: set[int] = set()
    for target_id in targets.changed:
        slot = targets.ids.slot(target_id)
        if slot is not None and (p := _position(slots, slot)) is not None:
            found.add(p)
    first, n_calls = targets.seeded.generator.recipe.first_id, targets.seeded.calls
    for store in calls:
        for call_log_id in store.changed:
            slot = call_log_id - first
            if 0 <= slot < n_calls and (p := _position(slots, slot)) is not None:
                found.add(p)
    return found
