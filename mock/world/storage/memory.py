"""The in-memory store: the overlay lives in the world's own tables, and a transaction's
``Change`` is read off its savepoint.

A transaction begins at a savepoint (``transaction.Savepoint``) holding shallow copies of the
overlay's entries (rows are replaced, never changed in place), so what a transaction changed is
every entry that is no longer the very object the savepoint holds: a comparison of references,
with no row encoded, however many rows the overlay has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from prosper_mock.world.records import to_dict
from prosper_mock.world.storage.base import Change
from prosper_mock.world.targets import target_to_dict

if TYPE_CHECKING:
    from prosper_mock.world.model import World
    from prosper_mock.world.transaction import Savepoint

K = TypeVar("K")
V = TypeVar("V")
_ABSENT = object()


def touched(now: Mapping[K, V | None], then: Mapping[K, V | None]) -> dict[K, V | None]:
    """The entries of ``now`` that are not those of ``then`` (``None``: gone or deleted)."""
    found: dict[K, V | None] = {}
    for key, value in now.items():
        if then.get(key, _ABSENT) is not value:
            found[key] = value
    for key in then:
        if key not in now:
            found[key] = None
    return found


def change_since(world: World, saved: Savepoint, whole: bool) -> Change:
    """What ``world`` changed since ``saved``, as a ``Change`` (``whole``: it replaced its
    overlay, a reset, a load or a restore)."""
    if whole:
        return Change(world.changes(), whole=True)
    document: dict[str, Any] = {}
    calls: tuple[tuple[str, dict[int, Any]], ...] = (
        ("live_calls", touched(world.live_calls.changed, saved.live_rows.rows)),
        ("call_logs", touched(world.call_logs.changed, saved.log_rows.rows)),
    )
    for name, found in calls:
        if found:
            document[name] = {
                str(i): None if row is None else to_dict(row) for i, row in sorted(found.items())
            }
    if world.last_id != saved.last_id:
        document["last_id"] = world.last_id
    targets, (target_rows, gone, added) = world.targets, saved.target_rows
    found_targets = touched(targets.changed, target_rows)
    if found_targets:
        document["targets"] = {
            key: None if row is None else target_to_dict(row) for key, row in found_targets.items()
        }
    if targets.added != added:
        document["targets_added"] = targets.added
    new_gone = {k: v for k, v in targets.gone.items() if gone.get(k) != v}
    if new_gone:
        document["targets_gone"] = new_gone
    dialed = world.dialer.saved()
    if dialed != saved.dialer.saved():
        document["dialer"] = dialed
    return Change(document)
